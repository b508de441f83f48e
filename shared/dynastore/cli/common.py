"""What every command shares: settings from the environment and the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dynastore.config import Settings


def settings_from(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings from the environment, with the command line winning where given."""
    from dynastore.config import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if getattr(args, "data_dir", None) is not None:
        values["data_dir"] = Path(args.data_dir)
    return Settings(**values)  # type: ignore[arg-type]
