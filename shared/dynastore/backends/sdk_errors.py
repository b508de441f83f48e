"""The one way a backend re-raises its SDK's errors as ``dynastore.errors``: each backend supplies only
its ``translate(exc, what)`` (``backends/<name>/_errors.py``) and gets the ``sdk_errors(what)`` block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from dynastore.errors import DynastoreError

Translate = Callable[[BaseException, str], DynastoreError]


def error_block(translate: Translate) -> Callable[[str], AbstractContextManager[None]]:
    """``sdk_errors(what)``: a block whose SDK errors come out translated (ours pass through)."""

    @contextmanager
    def sdk_errors(what: str) -> Iterator[None]:
        try:
            yield
        except DynastoreError:
            raise
        except Exception as exc:
            raise translate(exc, what) from exc

    return sdk_errors
