"""Limits on what a request may ask the parsers and the stores to do, and the search time budget.

Every check is cheap and runs before the expensive (or crash-prone) work: the CQL2 text pre-scan
runs before the text reaches the ``cql2`` parser (Rust, which overflows its stack and kills the
process on a few thousand nested parentheses), the JSON depth check before recursive code walks a
document. Each raises ``Invalid`` naming the limit, so the API answers 400.

The numbers are constants: they protect the process, and no legitimate request comes near them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from dynastore.errors import Invalid, Unavailable

MAX_JSON_DEPTH = 64  # nesting of any JSON body or JSON parameter (GeoJSON needs 6, STAC items ~10)
MAX_FILTER_LENGTH = 100_000  # characters of a CQL2 text or JSON filter
MAX_FILTER_DEPTH = 24  # nesting of and/or/not in a filter (SQLite's parser stack allows ~30)
MAX_FILTER_TERMS = 1_000  # operators and comparisons in one filter (use IN for lists of values)
MAX_FILTER_VALUES = 10_000  # literal values in IN lists, summed over the filter


def json_depth(value: Any) -> int:
    """How deep ``value`` nests objects/arrays (a scalar is 0); level by level, so any depth is safe."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        deeper = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    deeper.append(child)
        level = deeper
    return depth


def check_json_depth(value: Any, what: str = "the JSON body", limit: int = MAX_JSON_DEPTH) -> None:
    """``Invalid`` naming the limit when ``value`` nests deeper than ``limit``."""
    depth = json_depth(value)
    if depth > limit:
        raise Invalid(f"{what}: JSON nesting depth {depth} exceeds the limit of {limit}")


def check_filter_text(text: str) -> None:
    """Length and nesting of a CQL2 text filter, by a linear scan that skips quoted literals.

    Nesting counts parentheses and brackets, plus each ``NOT`` whose operand has not been closed by
    an ``AND``/``OR`` or a closing parenthesis at its level (``NOT NOT NOT a`` nests three deep,
    ``NOT (a)`` one). A bound for the parser only: the compiled filter is checked exactly after.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise Invalid(f"filter is {len(text)} characters long, above the limit of {MAX_FILTER_LENGTH}")
    frames = [[0, 0]]  # per parenthesis level: [its own cost, NOTs open at that level]
    depth = worst = 0
    after_not = False  # a parenthesis right after NOT is that NOT's operand: no extra level
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            end = i + 1
            while end < n:  # '' (or "") inside a literal is an escaped quote
                if text[end] == ch:
                    if end + 1 < n and text[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            i, after_not = end + 1, False
            continue
        if ch in "([":
            cost = 0 if after_not else 1
            frames.append([cost, 0])
            depth += cost
        elif ch in ")]" and len(frames) > 1:
            cost, nots = frames.pop()
            depth -= cost + nots
        elif ch.isalpha():
            end = i
            while end < n and (text[end].isalnum() or text[end] in "_:."):
                end += 1
            word = text[i:end].upper()
            if word == "NOT":
                frames[-1][1] += 1
                depth += 1
            elif word in ("AND", "OR"):
                depth -= frames[-1][1]
                frames[-1][1] = 0
            worst = max(worst, depth)
            i, after_not = end, word == "NOT"
            continue
        worst = max(worst, depth)
        i, after_not = i + 1, False
    if worst > MAX_FILTER_DEPTH:
        raise Invalid(f"filter nesting depth {worst} exceeds the limit of {MAX_FILTER_DEPTH}")


def check_filter_json(value: Any) -> None:
    """Nesting of a CQL2 JSON filter: JSON depth, then the nesting of its operators."""
    check_json_depth(value, "filter")
    stack: list[tuple[Any, int]] = [(value, 0)]
    worst = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if "op" in node:
                depth += 1
                worst = max(worst, depth)
            stack.extend((child, depth) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth) for child in node)
    if worst > MAX_FILTER_DEPTH:
        raise Invalid(f"filter nesting depth {worst} exceeds the limit of {MAX_FILTER_DEPTH}")


def check_filter_expr(expr: Any) -> None:
    """Depth, number of terms and of IN values of a compiled filter (``domain.filters.Expr``)."""
    if expr is None:
        return
    stack: list[tuple[Any, int]] = [(expr, 1)]
    worst = terms = values = 0
    while stack:
        node, depth = stack.pop()
        terms += 1
        worst = max(worst, depth)
        children = getattr(node, "args", None)
        if children is None and hasattr(node, "arg"):
            children = (node.arg,)
        if children:
            stack.extend((child, depth + 1) for child in children)
        values += len(getattr(node, "values", ()))
    if worst > MAX_FILTER_DEPTH:
        raise Invalid(f"filter nesting depth {worst} exceeds the limit of {MAX_FILTER_DEPTH}")
    if terms > MAX_FILTER_TERMS:
        raise Invalid(
            f"filter has {terms} terms, above the limit of {MAX_FILTER_TERMS}; use IN (...) for lists of values"
        )
    if values > MAX_FILTER_VALUES:
        raise Invalid(f"filter lists {values} values, above the limit of {MAX_FILTER_VALUES}")


# --------------------------------------------------------------------------- search time budget

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("dynastore_search_deadline", default=None)


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Run the block under a time budget: ``check_time_budget`` (and the SQLite progress handler)
    abort work past it. Set in the thread that does the work (context variables are per thread)."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def past_deadline() -> bool:
    """Has the current time budget (if any) run out?"""
    budget = _DEADLINE.get()
    return budget is not None and time.monotonic() > budget[0]


def budget_exceeded(seconds: float | None = None) -> Unavailable:
    """The error of a search that ran past its budget (503: retry with a narrower search)."""
    budget = _DEADLINE.get()
    if seconds is None and budget is not None:
        seconds = budget[1]
    return Unavailable(
        f"the search ran past its time budget of {seconds:g} s (DYNASTORE_SEARCH_TIMEOUT_SECONDS); "
        "narrow it with more selective parameters or a simpler filter"
    )


def check_time_budget() -> None:
    """Raise the budget error when the current budget has run out (call it in long Python loops)."""
    if past_deadline():
        raise budget_exceeded()
