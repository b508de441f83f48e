"""The one audit builder (``domain.audit.audit_doc``) writes exactly what the audit model would:
every write path uses it, so its shortcut (no validation pass) must change speed, not data."""

from __future__ import annotations

import pytest

from dynastore.domain.audit import AuditEvent, audit_doc, audit_docs


@pytest.mark.parametrize(
    ("args", "details"),
    [
        (("demo", "asset", "b04", "index", "indexer"), {"key": "demo/s2/B04.tif", "generation": "7", "event_id": "e"}),
        (("demo", "catalog", "demo", "create"), {"storage": {"bucket": "b", "prefix": "demo/"}}),
        (("demo", "item", "scene-1", "delete", "key-ab12"), {"assets": 3}),
        (("demo", "collection", "s2", "update", "key-ab12"), {"patch": {"title": None}}),
        (("demo", "asset", "a", "hard_delete", "key-ab12"), {"href": "https://x.org/a", "deleted_file": False}),
        (("demo", "job", "j-1", "dismiss", "system"), {}),
    ],
)
def test_an_audit_document_is_what_the_audit_model_gives(args: tuple[str, ...], details: dict) -> None:
    # GIVEN an event of any record type WHEN built without a validation pass
    doc = audit_doc(*args, **details)  # type: ignore[arg-type]
    # THEN the audit model validates it to the very same document, fields in model order
    validated = AuditEvent.model_validate(doc).to_doc()
    assert doc == validated and list(doc) == list(validated)
    # AND it is the event the model builds from the same values (only id and time are generated)
    catalog_id, record_type, record_id, action, *actor = args
    built = AuditEvent(
        catalog_id=catalog_id,
        record_type=record_type,  # type: ignore[arg-type]
        record_id=record_id,
        action=action,
        actor=actor[0] if actor else "system",
        details=details,
        id=doc["id"],
        at=doc["at"],
    ).to_doc()
    assert doc == built


def test_ids_are_unique_and_the_time_may_be_given() -> None:
    first = audit_doc("demo", "asset", "a", "create", "bob", at="2024-01-01T00:00:00.000000Z", bulk=True)
    second = audit_doc("demo", "asset", "a", "create", "bob")
    assert first["id"] != second["id"] and len(first["id"]) == 32
    assert first["at"] == "2024-01-01T00:00:00.000000Z" and first["details"] == {"bulk": True}
    assert second["at"] > first["at"] and second["actor"] == "bob"


def test_details_without_a_value_are_left_out() -> None:
    doc = audit_doc("demo", "asset", "a", "missing", "indexer", key="demo/a", generation=None)
    assert doc["details"] == {"key": "demo/a"}
    assert AuditEvent.model_validate(doc).to_doc() == doc


def test_a_batch_builder_gives_audit_docs_documents() -> None:
    # GIVEN the per-batch builder of a bulk write's audit entries
    audit = audit_docs("demo", "asset", "bob", at="2024-01-01T00:00:00.000000Z", via="stac-item", publisher=None)
    # WHEN it builds several entries
    docs = [audit(f"a{i}", "create" if i % 2 else "replace") for i in range(600)]
    # THEN each is what audit_doc gives for the same values, fields in the same order, ids aside
    for i, doc in enumerate(docs):
        expected = audit_doc(
            "demo", "asset", f"a{i}", doc["action"], "bob", at="2024-01-01T00:00:00.000000Z", via="stac-item"
        )
        assert {**doc, "id": ""} == {**expected, "id": ""} and list(doc) == list(expected)
    # AND every entry has its own 32-hex-digit id and its own details object
    assert len({d["id"] for d in docs}) == len(docs) and all(len(d["id"]) == 32 for d in docs)
    assert all(int(d["id"], 16) >= 0 for d in docs)
    docs[0]["details"]["via"] = "changed"
    assert docs[1]["details"] == {"via": "stac-item"}
