"""Service records (``MetadataStore.get_record`` ...) on DynamoDB: pk ``R#{kind}``, sk the record id
(listed in key order)."""

from __future__ import annotations

from typing import Any

from dynastore.backends.aws.dynamo_base import DynamoBase, Query, record
from dynastore.backends.checks import check_record_kind, require_str
from dynastore.domain.ids import check_id
from dynastore.domain.search import Page
from dynastore.errors import NotFound
from dynastore.ports import Doc


class ServiceRecords(DynamoBase):
    def get_record(self, kind: str, record_id: str) -> Doc:
        what = f"{kind} record {record_id!r}"
        pk = f"R#{check_record_kind(kind)}"
        return self._get_existing(pk, check_id(record_id, f"{kind} id"), what, f"{what} does not exist")

    def put_record(self, kind: str, doc: Doc, *, expect_rev: int | None) -> Doc:
        record_id = check_id(require_str(doc, "id", f"a {check_record_kind(kind)} record"), f"{kind} id")
        pk = f"R#{kind}"

        def build(stored: Doc, current: dict[str, Any] | None) -> dict[str, Any]:
            return record(pk, record_id, stored)

        return self._put_versioned(pk, record_id, doc, expect_rev, None, build, f"{kind} {record_id!r}")

    def delete_record(self, kind: str, record_id: str) -> None:
        pk, sk = f"R#{check_record_kind(kind)}", check_id(record_id, f"{kind} id")
        what = f"{kind} record {record_id!r}"

        def attempt() -> None:
            current = self._get_item(pk, sk, what)
            if current is None:
                raise NotFound(f"{what} does not exist")
            self._transact(what, [self._delete_action(pk, sk, current)])

        self._cas(what, attempt)

    def list_records(self, kind: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self._page(Query(f"R#{check_record_kind(kind)}"), f"records:{kind}", limit, token)
