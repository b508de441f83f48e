"""JSON merge patch (RFC 7386) and readable validation messages."""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dynastore.errors import Invalid

M = TypeVar("M", bound=BaseModel)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: objects merge recursively, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def validation_detail(exc: ValidationError, what: str) -> str:
    """One line per problem: ``<what>.<field>: <message>``."""
    parts = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{what}.{location}: {message}" if location else f"{what}: {message}")
    return "; ".join(parts) or f"invalid {what}"


def validated(model: type[M], body: Any, what: str) -> M:
    """``model`` of ``body``; else ``Invalid`` naming each bad field (``validation_detail``)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, what)) from None
