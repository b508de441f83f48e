"""What custom object metadata and sidecars say about a file (pure)."""

from __future__ import annotations

from dynastore.services.indexing import describe


def test_object_metadata_fields_lists_and_free_form_values() -> None:
    described = describe(
        {
            "x-amz-meta-Title": "Band 4",
            "roles": '["data", "visual"]',
            "tags": "l2a, sentinel-2 ,",
            "datetime": "2024-05-01T10:30:00+02:00",
            "cloud_cover": "12.5",
            "valid": "true",
            "bands": "[1, 2]",
            "tile": "T32TQM",
            "asset_id": "from-the-api",
            "goog-reserved-file-mtime": "1716912345",
        },
        None,
    )
    assert described.fields["title"] == "Band 4"
    assert described.fields["roles"] == ["data", "visual"]
    assert described.fields["tags"] == ["l2a", "sentinel-2"]
    assert described.fields["datetime"] == "2024-05-01T08:30:00.000000Z"  # normalised to UTC
    assert described.metadata == {"cloud_cover": 12.5, "valid": True, "bands": [1, 2], "tile": "T32TQM"}
    assert not described.warnings


def test_the_sidecar_wins_and_brings_extension_fields() -> None:
    described = describe(
        {"title": "from object metadata", "tile": "A"},
        {
            "title": "from sidecar",
            "roles": "data,metadata",
            "properties": {"platform": "sentinel-2b"},
            "eo:bands": [{"name": "B04"}],
            "file:size": 1,
            "id": "ignored",
            "tile": "B",
        },
    )
    assert described.fields["title"] == "from sidecar"
    assert described.fields["roles"] == ["data", "metadata"]
    assert described.metadata == {"tile": "B", "platform": "sentinel-2b"}
    assert described.extensions == {"eo:bands": [{"name": "B04"}]}


def test_invalid_values_are_dropped_with_a_warning() -> None:
    described = describe({"datetime": "not a date", "title": "kept"}, {"tags": 5, "bbox": [1, 2, 3]})
    assert described.fields == {"title": "kept"}
    assert len(described.warnings) == 3
    assert any("datetime" in w for w in described.warnings)
