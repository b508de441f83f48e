"""Batched writes (``write_items``, ``write_assets``) whose TransactWriteItems botocore sends again
after the first send was applied (its answer lost: a reset connection, a 5xx, throttling). moto, like
a client that cannot rely on it, ignores botocore's idempotency token: the second send fails its own
conditions. The batch must answer its own result, be stored once (one revision per request, its
audit entries once), and above 100 actions (several transactions) a re-sent part must not undo the
parts written before it. A batch that is genuinely stale still gets its conflict and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from dynastore.domain.audit import audit_doc
from dynastore.errors import Conflict
from dynastore.ports import AssetWrite, ItemWrite
from support.stac_docs import store_catalog_with_item

pytestmark = pytest.mark.aws

MANY = 60  # 60 items, a collection check and 60 audit entries: 121 actions, two transactions
BULK = 120  # 120 assets and their 120 audit entries: three transactions, the first two with assets


def _resend_applied_transaction(client: Any, nth: int = 1) -> list[int]:
    """botocore sends the ``nth`` applied TransactWriteItems once more (as if its answer was lost);
    returns a list that gets an entry when it did."""
    applied: list[int] = []
    resent: list[int] = []

    def needs_retry(response: Any = None, **_: Any) -> int | None:
        if response is not None and response[0].status_code == 200:
            applied.append(1)
            if len(applied) == nth:
                resent.append(nth)
                return 0  # send again at once
        return None  # let botocore decide

    client.meta.events.register_first("needs-retry.dynamodb.TransactWriteItems", needs_retry)
    return resent


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def _answer_5xx_after_applied(client: Any, nth: int) -> list[int]:
    """The ``nth`` applied TransactWriteItems answers InternalServerError instead, and so do its re-sends
    until botocore gives up (its answer lost for good); returns a list that gets an entry when it did."""
    applied: list[int] = []
    failing: list[int] = []
    body = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost"}'

    def needs_retry(response: Any = None, attempts: int = 1, **_: Any) -> int | None:
        if failing:
            return 0 if attempts < 5 else None  # at once, up to the client's 5 attempts
        if response is not None and response[0].status_code == 200:
            applied.append(1)
            if len(applied) == nth:
                failing.append(nth)
                return 0
        return None

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if not failing or len(failing) > 1:
            return None
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 500, headers, _Body(body))

    def after_call(**_: Any) -> None:
        if failing:
            failing.append(0)  # this call is over: later calls are sent for real

    client.meta.events.register_first("needs-retry.dynamodb.TransactWriteItems", needs_retry)
    client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", before_send)
    client.meta.events.register_first("after-call.dynamodb.TransactWriteItems", after_call)
    return failing


def _write_before_first_transaction(store: Any, write: Any) -> None:
    """Another writer's ``write`` lands between the batch's read and its transaction (a real race)."""
    done: list[int] = []

    def before(**_: Any) -> None:
        if not done:
            done.append(1)
            write()

    store.client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", before)


def _item(item_id: str, title: str) -> dict[str, Any]:
    return {"type": "Feature", "id": item_id, "collection": "s2", "catalog_id": "c", "properties": {"title": title}}


def _asset(asset_id: str, title: str) -> dict[str, Any]:
    return {"catalog_id": "c", "id": asset_id, "collection_id": "s2", "item_id": "i1", "title": title}


def _audit_ids(store: Any, record_type: str) -> list[str]:
    return [entry["id"] for entry in store.list_audit("c", record_type=record_type, limit=1000).items]


def _assert_audited_once(store: Any, record_type: str, audit_ids: list[str]) -> None:
    """Each of ``audit_ids`` is in catalog c's audit trail exactly once."""
    ours = set(audit_ids)
    assert sorted(i for i in _audit_ids(store, record_type) if i in ours) == sorted(audit_ids)


def _with_asset(store: Any) -> None:
    """Catalog ``c``, collection ``s2``, item ``i1`` and asset ``a1``, each at revision 1."""
    store_catalog_with_item(store)
    store.write_assets([AssetWrite(_asset("a1", "v1"), 0)], audits=[audit_doc("c", "asset", "a1", "create")])


def _batch(expect_i1: int | None, expect_i2: int | None, expect_a1: int | None, expect_a2: int | None) -> Any:
    items = [
        ItemWrite(_item("i1", "v2"), expect_i1, audit_doc("c", "item", "i1", "update")),
        ItemWrite(_item("i2", "v1"), expect_i2, audit_doc("c", "item", "i2", "create")),
    ]
    assets = [AssetWrite(_asset("a1", "v2"), expect_a1), AssetWrite(_asset("a2", "v1"), expect_a2)]
    audits = [audit_doc("c", "asset", "a1", "update"), audit_doc("c", "asset", "a2", "create")]
    return items, assets, audits


def test_an_item_batch_sent_twice_answers_its_own_write_stored_once(aws: Any) -> None:
    # GIVEN item i1 and asset a1 at revision 1, and a client that sends the next applied transaction again
    store = aws.adapters.store
    _with_asset(store)
    resent = _resend_applied_transaction(store.client)
    # WHEN a batch replaces i1 and a1 at revision 1 and creates i2 and a2 (If-Match / create-only)
    items, assets, audits = _batch(1, 0, 1, 0)
    written = store.write_items("c", items, assets=assets, audits=audits)
    # THEN it was sent twice, and answers its own write (not a stale-revision conflict)
    assert resent and [(d["id"], d["rev"]) for d in written] == [("i1", 2), ("i2", 1)]
    # AND it is stored once: one revision each, each audit entry once
    assert [store.get_item("c", "s2", i)["rev"] for i in ("i1", "i2")] == [2, 1]
    assert [store.get_asset("c", a)["rev"] for a in ("a1", "a2")] == [2, 1]
    _assert_audited_once(store, "item", [w.audit["id"] for w in items])
    _assert_audited_once(store, "asset", [a["id"] for a in audits])


def test_an_asset_batch_sent_twice_answers_its_own_write(aws: Any) -> None:
    # GIVEN asset a1 at revision 1, and a client that sends the next applied transaction again
    store = aws.adapters.store
    _with_asset(store)
    resent = _resend_applied_transaction(store.client)
    # WHEN a1 is replaced at revision 1 and a2 created, in one write_assets
    _, assets, audits = _batch(None, None, 1, 0)
    written = store.write_assets(assets, audits=audits)
    # THEN it answers its own write, stored once with its audit entries once
    assert resent and [(d["id"], d["rev"]) for d in written] == [("a1", 2), ("a2", 1)]
    assert [store.get_asset("c", a)["rev"] for a in ("a1", "a2")] == [2, 1]
    _assert_audited_once(store, "asset", [a["id"] for a in audits])


def test_an_upsert_batch_sent_twice_is_one_revision(aws: Any) -> None:
    # GIVEN item i1 and asset a1 at revision 1, and a client that sends the next applied transaction again
    store = aws.adapters.store
    _with_asset(store)
    resent = _resend_applied_transaction(store.client)
    # WHEN a batch upserts i1, i2, a1 and a2 (no expected revision)
    items, assets, audits = _batch(None, None, None, None)
    written = store.write_items("c", items, assets=assets, audits=audits)
    # THEN the rule is one request, one revision: i1 and a1 go to revision 2 (not 3), i2 and a2 to 1,
    # and the answer is what is stored
    assert resent and [(d["id"], d["rev"]) for d in written] == [("i1", 2), ("i2", 1)]
    assert [store.get_item("c", "s2", i)["rev"] for i in ("i1", "i2")] == [2, 1]
    assert [store.get_asset("c", a)["rev"] for a in ("a1", "a2")] == [2, 1]


@pytest.mark.parametrize("part", [1, 2], ids=["first-part", "second-part"])
def test_a_bulk_write_in_parts_with_a_part_sent_twice_keeps_every_part(aws: Any, part: int) -> None:
    # GIVEN a catalog, and a client that sends the applied transaction of one part a second time
    store = aws.adapters.store
    store_catalog_with_item(store)
    resent = _resend_applied_transaction(store.client, part)
    # WHEN 120 assets are created with their 120 audit entries (three transactions)
    writes = [AssetWrite(_asset(f"a{n:03}", "v1"), 0) for n in range(BULK)]
    audits = [audit_doc("c", "asset", f"a{n:03}", "create") for n in range(BULK)]
    written = store.write_assets(writes, audits=audits)
    # THEN it answers its own write; no part was undone: every asset at revision 1, every audit entry once
    assert resent == [part] and [d["rev"] for d in written] == [1] * BULK
    stored = store.get_assets("c", [w.doc["id"] for w in writes])
    assert sorted((d["id"], d["rev"]) for d in stored) == [(w.doc["id"], 1) for w in writes]
    assert sorted(_audit_ids(store, "asset")) == sorted(a["id"] for a in audits)


def test_an_item_upsert_in_parts_with_a_part_sent_twice_is_one_revision(aws: Any) -> None:
    # GIVEN 60 items at revision 1, and a client that sends the first applied part of the next write again
    store = aws.adapters.store
    store_catalog_with_item(store)
    ids = [f"i{n:03}" for n in range(MANY)]
    store.write_items("c", [ItemWrite(_item(i, "v1"), 0, audit_doc("c", "item", i, "create")) for i in ids])
    resent = _resend_applied_transaction(store.client)
    # WHEN all 60 are upserted (60 puts, a collection check, 60 audit entries: two transactions)
    batch = [ItemWrite(_item(i, "v2"), None, audit_doc("c", "item", i, "update")) for i in ids]
    written = store.write_items("c", batch)
    # THEN one request, one revision: every item at revision 2 with the new title, as answered
    assert resent and [d["rev"] for d in written] == [2] * MANY
    stored = store.get_items("c", [("s2", i) for i in ids])
    assert sorted((d["id"], d["rev"], d["properties"]["title"]) for d in stored) == [(i, 2, "v2") for i in ids]
    _assert_audited_once(store, "item", [w.audit["id"] for w in batch])


@pytest.mark.parametrize("count,part", [(2, 1), (BULK, 2)], ids=["one-transaction", "second-part"])
def test_a_batch_whose_answer_is_a_5xx_after_it_was_applied_answers_its_write(aws: Any, count: int, part: int) -> None:
    # GIVEN a catalog, and a client whose applied transaction (of one part) answers 500, re-sent until
    # botocore gives up
    store = aws.adapters.store
    store_catalog_with_item(store)
    failing = _answer_5xx_after_applied(store.client, part)
    # WHEN assets are created with their audit entries
    writes = [AssetWrite(_asset(f"a{n:03}", "v1"), 0) for n in range(count)]
    audits = [audit_doc("c", "asset", f"a{n:03}", "create") for n in range(count)]
    written = store.write_assets(writes, audits=audits)
    # THEN it answers its own write (not 503), and all of it is stored once with every audit entry
    assert failing[:1] == [part] and [d["rev"] for d in written] == [1] * count
    stored = store.get_assets("c", [w.doc["id"] for w in writes])
    assert sorted((d["id"], d["rev"]) for d in stored) == [(w.doc["id"], 1) for w in writes]
    assert sorted(_audit_ids(store, "asset")) == sorted(a["id"] for a in audits)


def test_a_batch_that_loses_a_race_still_conflicts_and_writes_nothing(aws: Any) -> None:
    # GIVEN item i1 and asset a1 at revision 1, and another writer that replaces i1 after the batch
    # read it and before its transaction
    store = aws.adapters.store
    _with_asset(store)
    _write_before_first_transaction(
        store, lambda: store.put_item("c", _item("i1", "theirs"), expect_rev=1, audit=audit_doc("c", "item", "i1", "x"))
    )
    # WHEN the batch replaces i1 at revision 1 (and a1, and creates i2 and a2)
    items, assets, audits = _batch(1, 0, 1, 0)
    # THEN it is a conflict, and nothing of it is written
    with pytest.raises(Conflict):
        store.write_items("c", items, assets=assets, audits=audits)
    assert store.get_item("c", "s2", "i1")["properties"]["title"] == "theirs"
    assert store.get_items("c", [("s2", "i2")]) == [] and store.get_assets("c", ["a2"]) == []
    assert store.get_asset("c", "a1")["rev"] == 1
    ours = {a["id"] for a in audits} | {w.audit["id"] for w in items}
    assert not ours & set(_audit_ids(store, "item") + _audit_ids(store, "asset"))


def test_a_bulk_write_whose_second_part_loses_a_race_conflicts_and_leaves_nothing(aws: Any) -> None:
    # GIVEN 120 assets at revision 1, and another writer that replaces the last one (in the second
    # part) after the bulk write read them and before its first part
    store = aws.adapters.store
    store_catalog_with_item(store)
    ids = [f"a{n:03}" for n in range(BULK)]
    store.write_assets([AssetWrite(_asset(i, "v1"), 0) for i in ids], audits=[])
    last = ids[-1]
    _write_before_first_transaction(
        store, lambda: store.write_assets([AssetWrite(_asset(last, "theirs"), 1)], audits=[])
    )
    # WHEN all 120 are replaced at revision 1 with their audit entries (three transactions)
    audits = [audit_doc("c", "asset", i, "update") for i in ids]
    with pytest.raises(Conflict):
        store.write_assets([AssetWrite(_asset(i, "v2"), 1) for i in ids], audits=audits)
    # THEN it is a conflict, its first part undone: every other asset still at revision 1, no audit entry
    stored = {d["id"]: (d["rev"], d["title"]) for d in store.get_assets("c", ids)}
    assert stored == {**{i: (1, "v1") for i in ids[:-1]}, last: (2, "theirs")}
    assert _audit_ids(store, "asset") == []


def test_a_bulk_write_failing_in_a_later_part_puts_back_only_what_is_still_its_own(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 150 assets at revision 1, and a bulk write too big for one transaction (150 replaced) whose
    # second part fails after another writer changed one record of its first part
    store = aws.adapters.store
    store_catalog_with_item(store)
    ids = [f"a{n:03}" for n in range(150)]
    store.write_assets([AssetWrite(_asset(i, "v0"), 0) for i in ids], audits=[])
    real = store._transact
    parts: list[int] = []

    def transact(what: str, actions: Any) -> Any:
        parts.append(1)
        if len(parts) == 2:
            store.write_assets([AssetWrite(_asset(ids[7], "other"), 2)], audits=[])
            raise Conflict(f"{what}: failed")
        return real(what, actions)

    monkeypatch.setattr(store, "_transact", transact)
    # WHEN the bulk write runs
    with pytest.raises(Conflict):
        store.write_assets([AssetWrite(_asset(i, "bulk"), None) for i in ids], audits=[])
    # THEN what its first part wrote is put back, but the other writer's later version is left alone
    found = {d["id"]: (d["title"], d["rev"]) for d in store.get_assets("c", ids)}
    assert found == {i: ("other", 3) if i == ids[7] else ("v0", 1) for i in ids}
