"""botocore re-sends a request whose answer it did not get (a timeout, a 5xx) with the same parameters.
A conditional TransactWriteItems whose first send was applied then fails its own condition: the write
must answer as the success it was (found by its audit entry), not as a stale revision (412 to the
one writer that won). DynamoDB would also honour the request's idempotency token; moto does not,
and the answer must not depend on it."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.domain.audit import audit_doc
from dynastore.errors import Conflict
from support.stac_docs import store_catalog_with_item

pytestmark = pytest.mark.aws


def _resend_first_transaction(client: Any) -> list[int]:
    """botocore retries the first TransactWriteItems after it was applied (as if its answer was lost)."""
    sent: list[int] = []

    def needs_retry(attempts: int, **_: Any) -> int | None:
        sent.append(attempts)
        return 0 if len(sent) == 1 else None  # 0: send again at once; None: let botocore decide

    client.meta.events.register_first("needs-retry.dynamodb.TransactWriteItems", needs_retry)
    return sent


def test_an_item_write_botocore_sends_twice_answers_its_own_success(aws: Any) -> None:
    # GIVEN an item at revision 1, and a client that sends the next transaction a second time after
    # the first was applied
    store = aws.adapters.store
    store_catalog_with_item(store)
    sent = _resend_first_transaction(store.client)
    # WHEN the item is replaced at revision 1 (If-Match)
    doc = {"type": "Feature", "id": "i1", "collection": "s2", "catalog_id": "c", "properties": {"title": "new"}}
    written = store.put_item("c", doc, expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))
    # THEN it was sent twice, and answers its revision 2 (not a stale-revision conflict)
    assert len(sent) >= 2 and written["rev"] == 2
    assert store.get_item("c", "s2", "i1")["properties"] == {"title": "new"}
    # AND a real stale writer still loses
    with pytest.raises(Conflict):
        store.put_item("c", doc, expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))
