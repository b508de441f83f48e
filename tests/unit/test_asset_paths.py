"""The asset API paths every layer links to (asset API, STAC records, job and ingest links)."""

from __future__ import annotations

import pytest

from dynastore.domain.asset import asset_path, assets_path


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (("demo", None, None), "/assets/catalogs/demo/assets"),
        (("demo", "s2", None), "/assets/catalogs/demo/collections/s2/assets"),
        (("demo", "s2", "scene-1"), "/assets/catalogs/demo/collections/s2/items/scene-1/assets"),
    ],
)
def test_each_level_has_its_assets_path(scope: tuple[str, str | None, str | None], expected: str) -> None:
    assert assets_path(*scope) == expected


def test_an_asset_document_names_its_own_path() -> None:
    # GIVEN an item-level asset document WHEN its path is asked THEN it is under its item
    doc = {"id": "b04", "catalog_id": "demo", "collection_id": "s2", "item_id": "scene-1"}
    assert asset_path(doc) == "/assets/catalogs/demo/collections/s2/items/scene-1/assets/b04"
    # AND a catalog-level one (empty scope fields) is under its catalog
    assert asset_path({"id": "readme", "catalog_id": "demo", "collection_id": "", "item_id": None}) == (
        "/assets/catalogs/demo/assets/readme"
    )
