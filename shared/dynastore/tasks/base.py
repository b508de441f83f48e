"""What a task is: an id, a description, pydantic input/output models, and a ``run`` on a context.

A task never writes to the catalog while it runs. It reads the asset through its context
(``ctx.local_copy()``), reports progress, checks for cancellation between steps, and *stages*
what it wants written (items, new assets, updates of the asset it ran on). The job runner
commits the staged writes only after the task returned and the job was not dismissed, so a
dismissed or failed job leaves nothing half-applied.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from dynastore.tasks.context import TaskContext

ExecutionMode = Literal["async-execute", "sync-execute"]
AssetLevel = Literal["catalog", "collection", "item"]
ALL_MODES: frozenset[str] = frozenset({"async-execute", "sync-execute"})
ALL_LEVELS: frozenset[str] = frozenset({"catalog", "collection", "item"})


class JobDismissed(Exception):
    """Raised inside a task by ``ctx.check_cancelled()`` once its job was dismissed."""


class AssetMetadata(BaseModel):
    """``inputs.asset_metadata``: fields merged into the asset after a successful run.

    Any asset field a client may set (title, description, roles, tags, ``proj:*`` ...);
    ``properties`` and ``metadata`` are deep-merged into the asset's free-form ``metadata``.
    """

    model_config = ConfigDict(extra="allow")

    title: str | None = None
    description: str | None = None
    properties: dict[str, Any] | None = Field(default=None, description="deep-merged into the asset's `metadata`")


class TaskInputs(BaseModel):
    """Base of every task's inputs. Unknown inputs are accepted and passed through (seed 000)."""

    model_config = ConfigDict(extra="allow")

    asset_metadata: AssetMetadata | None = Field(
        default=None, description="merged into the asset after a successful run; explicit fields win over task results"
    )


class TaskOutputs(BaseModel):
    model_config = ConfigDict(extra="allow")


class Task(ABC):
    """One kind of processing on an asset. Subclasses set the class attributes and ``run``."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    Inputs: ClassVar[type[TaskInputs]] = TaskInputs
    Outputs: ClassVar[type[BaseModel]] = TaskOutputs
    modes: ClassVar[frozenset[str]] = ALL_MODES
    levels: ClassVar[frozenset[str]] = ALL_LEVELS
    keywords: ClassVar[tuple[str, ...]] = ()

    def prepare_inputs(self, inputs: dict[str, Any], asset: dict[str, Any]) -> dict[str, Any]:
        """Fill inputs a caller may omit from the asset the task runs on (e.g. ingestion's ids)."""
        return inputs

    def check_request(self, inputs: Any, asset: dict[str, Any]) -> None:
        """Reject a request that cannot work (``Invalid``) before a job exists; no I/O here."""
        return None

    @abstractmethod
    def run(self, ctx: TaskContext, inputs: Any) -> BaseModel | dict[str, Any]:
        """Do the work; return the outputs. Stage writes on ``ctx``; raise to fail the job."""

    # --- description (OGC API - Processes process description) -------------------------------
    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "version": self.version,
            "keywords": list(self.keywords),
            "jobControlOptions": [*sorted(self.modes), "dismiss"],
            "outputTransmission": ["value"],
            "levels": sorted(self.levels),
        }

    def describe(self) -> dict[str, Any]:
        input_schema = self.Inputs.model_json_schema()
        output_schema = self.Outputs.model_json_schema()
        return {
            **self.summary(),
            "inputs": _ogc_parameters(input_schema),
            "outputs": _ogc_parameters(output_schema),
            "inputSchema": input_schema,
            "outputSchema": output_schema,
        }


def _ogc_parameters(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema object → OGC process ``inputs``/``outputs`` (one entry per property, refs inlined)."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    params: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        resolved = _inline_refs(prop, defs)
        params[name] = {
            "title": resolved.get("title", name),
            "description": resolved.get("description", ""),
            "minOccurs": 1 if name in required else 0,
            "maxOccurs": 1,
            "schema": resolved,
        }
    return params


def _inline_refs(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > 20:  # recursive models: stop inlining, keep the reference
        return node
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = copy.deepcopy(defs.get(ref.removeprefix("#/$defs/"), {}))
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline_refs({**target, **rest}, defs, depth + 1)
        return {k: _inline_refs(v, defs, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, defs, depth + 1) for v in node]
    return node
