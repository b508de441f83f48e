"""Following ``next_token`` through a paged listing (any store, service or search method)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from dynastore.domain.search import Page

T = TypeVar("T")


def pages(fetch: Callable[[str | None], Page[T]]) -> Iterator[Page[T]]:
    """Every page, ``fetch(token)`` called lazily (code between pages runs before the next fetch)."""
    token: str | None = None
    while True:
        page = fetch(token)
        yield page
        token = page.next_token
        if not token:
            return


def all_items(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    """The items of every page, in order."""
    return [item for page in pages(fetch) for item in page.items]
