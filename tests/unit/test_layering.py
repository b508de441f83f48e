"""Which way the library's imports point (DESIGN §2: dependencies point inwards)."""

from __future__ import annotations

import ast
from pathlib import Path

import dynastore

LIBRARY = Path(dynastore.__file__).resolve().parent


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _edits_sys_path(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner = node.value
            if isinstance(inner.value, ast.Name) and (inner.value.id, inner.attr) == ("sys", "path"):
                return True
    return False


def test_backends_never_import_bootstrap() -> None:
    # GIVEN every backend module WHEN its imports are read
    offenders = [
        str(path.relative_to(LIBRARY))
        for path in _modules(LIBRARY / "backends")
        if "dynastore.bootstrap" in _imported(path)
    ]
    # THEN none imports bootstrap (bootstrap imports a backend, lazily, by name)
    assert offenders == []


def test_the_library_never_edits_sys_path() -> None:
    # GIVEN every module of the library WHEN its code is read
    offenders = [str(path.relative_to(LIBRARY)) for path in _modules(LIBRARY) if _edits_sys_path(path)]
    # THEN none changes the import path (the emulator stack of infra/ runs as its own process)
    assert offenders == []
