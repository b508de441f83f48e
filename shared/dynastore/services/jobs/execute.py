"""An execute request: its mode, its validated inputs, and what executing it did (``ExecuteResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from dynastore.domain.asset import check_record_size
from dynastore.errors import Invalid
from dynastore.ports import Doc
from dynastore.services.jobs.commit import asset_metadata_patch, merged_asset_doc
from dynastore.services.patching import validation_detail
from dynastore.tasks.base import Task

Mode = Literal["async-execute", "sync-execute", "dismiss"]
MODES: tuple[str, ...] = ("async-execute", "sync-execute", "dismiss")
Outcome = Literal["accepted", "completed", "ended", "dismissed"]


@dataclass(frozen=True)
class ExecuteResult:
    """What ``execute`` did; the API chooses the status code, headers and body from it.

    ``outcome``:

    - ``accepted``: ``job`` exists and carries on (queued, or a sync run past its timeout);
    - ``completed``: a sync run finished successfully; ``results`` holds its outputs;
    - ``ended``: a sync run ended without results (dismissed while it ran, or nothing left to do);
    - ``dismissed``: ``mode=dismiss`` dismissed ``job``.
    """

    outcome: Outcome
    job: Doc
    results: Doc = field(default_factory=dict)
    respond_async: bool = False  # ``Prefer: respond-async`` chose the mode


def resolve_mode(mode: str | None, prefer: str | None) -> tuple[str, bool]:
    """(mode, whether ``Prefer: respond-async`` decided it). An explicit ``mode`` wins."""
    if mode is not None:
        if mode not in MODES:
            raise Invalid(f"mode {mode!r} is not one of {', '.join(MODES)}")
        return mode, False
    preferences = {p.strip().split("=", 1)[0].lower() for p in (prefer or "").split(",") if p.strip()}
    if "respond-async" in preferences:
        return "async-execute", True
    return "async-execute", False


def prepare_inputs(task: Task, asset: Doc, body: Any, *, max_record_bytes: int) -> Doc:
    """The job's inputs from an execute body, validated against the task and the asset (``Invalid`` if bad;
    ``PayloadTooLarge`` when ``asset_metadata`` would make the asset record larger than ``max_record_bytes``)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid('the execute body is a JSON object such as {"inputs": {...}}')
    unknown = sorted(set(body) - {"inputs", "outputs", "response", "subscriber"})
    if unknown:
        raise Invalid(f"unknown execute body members: {', '.join(unknown)} (expected inputs, outputs, response)")
    if body.get("response") not in (None, "document", "raw"):
        raise Invalid('response must be "document" or "raw"')
    raw_inputs = body.get("inputs")
    raw_inputs = {} if raw_inputs is None else raw_inputs
    if not isinstance(raw_inputs, dict):
        raise Invalid("inputs is a JSON object of input values")
    prepared = task.prepare_inputs(dict(raw_inputs), asset)
    try:
        validated = task.Inputs.model_validate(prepared)
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, "inputs")) from None
    task.check_request(validated, asset)
    patch = asset_metadata_patch(
        validated.asset_metadata.model_dump(exclude_unset=True) if validated.asset_metadata else None
    )
    if patch:
        # a patch that would make the asset invalid (or too large) is a 4xx now, not a failed job
        check_record_size(merged_asset_doc(asset, patch), max_record_bytes)
    return orjson.loads(orjson.dumps(prepared, default=str))  # type: ignore[no-any-return]
