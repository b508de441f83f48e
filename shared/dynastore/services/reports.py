"""The report a maintenance run returns (retention, cleanup, static export)."""

from __future__ import annotations

from dataclasses import dataclass

from dynastore.ports import Doc


@dataclass
class RunReport:
    """A dataclass of counters and the errors a run reported and went on past; its document is its
    fields, in the order the subclass declares them."""

    def to_doc(self) -> Doc:
        return dict(self.__dict__)
