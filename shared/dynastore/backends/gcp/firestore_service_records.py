"""Service records (``MetadataStore.get_record`` ...) on Firestore: collection ``{p}records_{kind}``,
one document per record named by its id (listed in document-name order: no composite index)."""

from __future__ import annotations

from typing import Any, cast

from dynastore.backends.checks import check_record_kind, require_str
from dynastore.backends.gcp.firestore_base import FirestoreBase
from dynastore.backends.gcp.firestore_common import pack
from dynastore.domain.ids import check_id
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import Page
from dynastore.errors import NotFound
from dynastore.ports import Doc


class ServiceRecords(FirestoreBase):
    def _record_ref(self, kind: str, record_id: str) -> Any:
        return self.col(f"records_{check_record_kind(kind)}").document(check_id(record_id, f"{kind} id"))

    def get_record(self, kind: str, record_id: str) -> Doc:
        what = f"{kind} record {record_id!r}"
        return self._get_existing(self._record_ref(kind, record_id), what, f"{what} does not exist")

    def put_record(self, kind: str, doc: Doc, *, expect_rev: int | None) -> Doc:
        record_id = require_str(doc, "id", f"a {check_record_kind(kind)} record")
        ref = self._record_ref(kind, record_id)
        what = f"{kind} {record_id!r}"

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[Doc, dict[str, Any], list[Any]]:
            current = state[ref.path]
            rev = check_rev(current.get("rev") if current else None, expect_rev, what)
            stored = {**doc, "rev": rev}
            return stored, {ref.path: {"doc": pack(stored), "id": record_id, "rev": rev}}, []

        return cast(Doc, self._compare_and_set(what, [ref], plan))

    def delete_record(self, kind: str, record_id: str) -> None:
        ref = self._record_ref(kind, record_id)
        what = f"{kind} record {record_id!r}"

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[None, dict[str, Any], list[Any]]:
            if state[ref.path] is None:
                raise NotFound(f"{what} does not exist")
            return None, {ref.path: None}, []

        self._compare_and_set(what, [ref], plan)

    def list_records(self, kind: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self._page(self._scan(f"records_{check_record_kind(kind)}", [[]], []), limit, token)
