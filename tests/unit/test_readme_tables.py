"""README.md stays true to the code: every route has a row in "API at a glance", every ``Settings``
field a row in "Configuration", and neither table names something the code no longer has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from pydantic import AliasChoices

from dynastore.api.app import create_app, discover_routers
from dynastore.bootstrap import Services
from dynastore.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
# `<level>` in the glance table stands for the three asset levels' base paths.
LEVELS = (
    "/assets/catalogs/{}/assets",
    "/assets/catalogs/{}/collections/{}/assets",
    "/assets/catalogs/{}/collections/{}/items/{}/assets",
)
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _section(title: str) -> list[str]:
    """The lines of the README section ``## <title>`` up to the next ``## `` heading."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start + 1 : end]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _normalized(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _served_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, path parameters written ``{}``."""
    app = create_app(cast(Services, None))  # building the app reads no service
    routes: list[Any] = [r for r in app.routes if hasattr(r, "path")]
    routes += [r for _name, router in discover_routers() for r in router.routes]
    return {
        (method, _normalized(route.path))
        for route in routes
        for method in (getattr(route, "methods", None) or ())
        if method not in IGNORED_METHODS
    }


def _glance_rows() -> set[tuple[str, str]]:
    """(method, path) of every row of the "API at a glance" table."""
    listed: set[tuple[str, str]] = set()
    for line in _section("API at a glance"):
        cells = _cells(line) if line.startswith("|") else []
        if len(cells) < 2 or not re.fullmatch(r"[A-Z]+(, [A-Z]+)*", cells[0]):
            continue
        for path in re.findall(r"`([^`]+)`", cells[1]):
            paths = [path.replace("<level>", level) for level in LEVELS] if "<level>" in path else [path]
            listed.update((method, _normalized(p)) for method in cells[0].split(", ") for p in paths)
    return listed


def _documented_variables() -> set[str]:
    """The variable names in the first column of the "Configuration" table."""
    names: set[str] = set()
    for line in _section("Configuration"):
        cells = _cells(line) if line.startswith("|") else []
        if cells:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]))
    return names


def _env_names(name: str) -> set[str]:
    info = Settings.model_fields[name]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return {choice.upper() for choice in alias.choices if isinstance(choice, str)}
    if isinstance(alias, str):
        return {alias.upper()}
    return {f"{Settings.model_config.get('env_prefix', '')}{name}".upper()}


def test_every_route_has_a_row_in_api_at_a_glance() -> None:
    # GIVEN the routes the app serves WHEN the README's glance table is read
    missing = sorted(_served_routes() - _glance_rows())
    # THEN each one has a row (method and path)
    assert not missing, f"README 'API at a glance' has no row for: {missing}"


def test_api_at_a_glance_names_no_route_the_app_lacks() -> None:
    # GIVEN the glance table WHEN compared with the served routes
    stale = sorted(_glance_rows() - _served_routes())
    # THEN it lists nothing the app does not serve
    assert not stale, f"README 'API at a glance' lists routes the app does not serve: {stale}"


def test_every_setting_has_a_row_in_configuration() -> None:
    # GIVEN every Settings field WHEN the README's configuration table is read
    documented = _documented_variables()
    missing = sorted(name for name in Settings.model_fields if not _env_names(name) & documented)
    # THEN each field's variable has a row
    assert not missing, f"README 'Configuration' has no row for the Settings fields: {missing}"


def test_configuration_names_only_real_settings() -> None:
    # GIVEN the configuration table WHEN its variables are compared with Settings
    known = set().union(*(_env_names(name) for name in Settings.model_fields))
    stale = sorted(_documented_variables() - known)
    # THEN every variable it names is read by Settings
    assert not stale, f"README 'Configuration' names variables Settings does not read: {stale}"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_contents_links_name_top_level_sections() -> None:
    # GIVEN the README's contents line WHEN its links are compared with the `## ` headings
    text = README.read_text(encoding="utf-8")
    contents = text.split("**Contents**", 1)[1].split("\n\n", 1)[0]
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    anchors = {_anchor(heading) for heading in headings}
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    # THEN each link reaches a section, and each section is linked
    assert sorted(set(linked) - anchors) == [], "contents links with no section"
    assert sorted(anchors - set(linked)) == [], "sections missing from the contents line"
