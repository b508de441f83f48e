"""The plumbing of the DynamoDB store: item codec, reads, paged queries under a read budget,
keyset tokens, conditional transactions and versioned puts (layout: ``dynamo_store``)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson

from dynastore.backends.aws._errors import error_code, sdk_errors, translate
from dynastore.backends.checks import check_limit, next_seq
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.domain.retry import retry_on_conflict
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import Page
from dynastore.errors import Conflict, Invalid, NotFound, Unavailable
from dynastore.ports import Doc

SEP = "!"  # sorts before every character an id may hold: "col!item" orders as (col, item)
TXN_ITEMS = 100  # DynamoDB's limit of items per TransactWriteItems
CAS_ATTEMPTS = 50
SENT_BY = "txn"  # the attribute each Put of a transaction carries: that transaction's own random token
Item = dict[str, Any]  # a DynamoDB item in the low-level client's typed form

def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(value: int) -> dict[str, str]:
    return {"N": str(value)}


def key(pk: str, sk: str) -> Item:
    return {"pk": S(pk), "sk": S(sk)}


def record(pk: str, sk: str, doc: Doc, **extra: str | int | None) -> Item:
    """The item holding ``doc`` (its JSON text in ``doc``, its ``rev`` native for conditions);
    ``extra`` string/number attributes, None ones left out (sparse indexes)."""
    item = {**key(pk, sk), "doc": S(orjson.dumps(doc).decode()), "rev": N(int(doc.get("rev") or 0))}
    for name, value in extra.items():
        if value is not None:
            item[name] = N(value) if isinstance(value, int) else S(value)
    return item


def unpack(item: Item) -> Doc:
    return cast(Doc, orjson.loads(item["doc"]["S"]))


def attr(item: Item | None, name: str) -> str | None:
    value = (item or {}).get(name)
    return None if value is None else str(next(iter(value.values())))


def chunks(values: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_token(token: str | None, signature: str) -> dict[str, Any] | None:
    """The position a token holds, ``Invalid`` when it is malformed or from another listing/order."""
    if token is None:
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise Invalid("the page token is not valid: pass the token of the previous page unchanged") from None
    if not isinstance(data, dict) or data.get("o") != signature:
        raise Invalid("the page token belongs to another listing or sort order: start again without a token")
    return data


def _stamped(action: dict[str, Any], token: dict[str, str]) -> dict[str, Any]:
    """``action`` with its Put's item carrying ``token`` (a copy: callers reuse their items)."""
    if "Put" not in action:
        return action
    put = action["Put"]
    return {**action, "Put": {**put, "Item": {**put["Item"], SENT_BY: token}}}


class _Changed(Exception):
    """A conditional transaction failed: an item changed since it was read."""


@dataclass
class Query:
    """One partition of the table or of an index, read in key order from after ``after``."""

    pk: str
    index: str | None = None
    forward: bool = True
    begins_with: str | None = None
    at_least: str | None = None  # sort key >= this (export's since)

    @property
    def names(self) -> tuple[str, str]:
        return ("gsi1pk", "gsi1sk") if self.index == "gsi1" else ("gsi2pk", "gsi2sk") if self.index else ("pk", "sk")


class DynamoBase:
    """What the record mixins of ``DynamoMetadataStore`` build on (it sets these attributes)."""

    _client: LazyClient
    table: str
    scan_budget: int
    sort_cap: int

    @property
    def client(self) -> Any:
        return self._client.get()

    # ------------------------------------------------------------------ reads
    def _get_item(self, pk: str, sk: str, what: str) -> Item | None:
        with sdk_errors(what):
            found = self.client.get_item(TableName=self.table, Key=key(pk, sk), ConsistentRead=True)
        return cast(Item | None, found.get("Item"))

    def _get_existing(self, pk: str, sk: str, what: str, missing: str) -> Doc:
        item = self._get_item(pk, sk, what)
        if item is None:
            raise NotFound(missing)
        return unpack(item)

    def _batch_get(self, keys: Sequence[Item], what: str) -> list[Item]:
        """The items of ``keys`` that exist (100 keys per request, unprocessed ones retried)."""
        found: list[Item] = []
        unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
        for chunk in chunks(unique, 100):
            request: dict[str, Any] = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            while request:
                with sdk_errors(what):
                    answer = self.client.batch_get_item(RequestItems=request)
                found.extend(answer.get("Responses", {}).get(self.table, []))
                request = answer.get("UnprocessedKeys") or {}
        return found

    def _query(self, query: Query, after: str | None = None, page_size: int = 500) -> Iterator[Item]:
        """Every item of ``query`` after sort key ``after``, in order, read ``page_size`` at a time."""
        pk_name, sk_name = query.names
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": S(query.pk)}
        names = {"#pk": pk_name}
        if after is not None:
            condition += f" AND #sk {'>' if query.forward else '<'} :after"
            values[":after"], names["#sk"] = S(after), sk_name
        elif query.begins_with is not None:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"], names["#sk"] = S(query.begins_with), sk_name
        elif query.at_least is not None:
            condition += " AND #sk >= :least"
            values[":least"], names["#sk"] = S(query.at_least), sk_name
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ExpressionAttributeNames": names,
            "ScanIndexForward": query.forward,
            "Limit": page_size,
        }
        if query.index:
            args["IndexName"] = query.index
        while True:
            with sdk_errors("query"):
                answer = self.client.query(**args)
            for item in answer.get("Items", []):
                if (
                    after is not None
                    and query.begins_with is not None
                    and not (attr(item, sk_name) or "").startswith(query.begins_with)
                ):
                    return
                yield item
            if "LastEvaluatedKey" not in answer:
                return
            args["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _page(
        self,
        query: Query,
        signature: str,
        limit: int,
        token: str | None,
        check: Callable[[Doc], bool] | None = None,
        budget: int | None = None,
    ) -> Page[Doc]:
        """One keyset page of ``query``'s documents that pass ``check``; reads at most ``budget``
        items (then a short page whose token resumes after the last item read)."""
        check_limit(limit)
        position = decode_token(token, signature)
        after = str(position["k"]) if position else None
        budget = max(budget or self.scan_budget, limit + 1)
        sk_name = query.names[1]
        out: list[Doc] = []
        last: str | None = None
        page_size = min(limit + 1, 1000) if check is None else 500
        for read, item in enumerate(self._query(query, after, page_size=page_size)):
            doc = unpack(item)
            if check is None or check(doc):
                if len(out) == limit:
                    return Page(out, encode_token({"o": signature, "k": last}))
                out.append(doc)
            last = attr(item, sk_name)
            if read + 1 >= budget and len(out) < limit:
                return Page(out, encode_token({"o": signature, "k": last}), extra={"budget_exhausted": True})
        return Page(out, None)

    def _multi_page(
        self, sources: list[Query], signature: str, limit: int, token: str | None, check: Callable[[Doc], bool]
    ) -> Page[Doc]:
        """A keyset page across partitions read one after the other (catalog order)."""
        check_limit(limit)
        position = decode_token(token, signature) or {"s": 0, "t": None}
        index, inner = int(position.get("s") or 0), position.get("t")
        items: list[Doc] = []
        budget = max(self.scan_budget, 2 * (limit + 1))
        while index < len(sources) and len(items) < limit:
            page = self._page(sources[index], f"{signature}:{index}", limit - len(items), inner, check, budget)
            items.extend(page.items)
            if page.next_token is not None:
                return Page(items, encode_token({"o": signature, "s": index, "t": page.next_token}), extra=page.extra)
            index, inner = index + 1, None
        more = index < len(sources)
        return Page(items, encode_token({"o": signature, "s": index, "t": None}) if more else None)

    # ------------------------------------------------------------------ writes
    def _transact(self, what: str, actions: Sequence[dict[str, Any]]) -> dict[str, str] | None:
        """One TransactWriteItems; ``_Changed`` when a condition found its item changed. Answers the
        token its Puts were stamped with (None: nothing to write).

        botocore re-sends a request whose answer it lost (reset, 5xx, throttling) and moto ignores its
        idempotency token: a re-send of an applied transaction fails its own conditions, or the answer
        is an error although it was applied. Every Put carries this transaction's own token, so such a
        failure that finds one of its Puts stored with it is the success it was (``_applied``)."""
        if not actions:
            return None
        if len(actions) > TXN_ITEMS:
            raise Invalid(f"{what}: more than {TXN_ITEMS} records in one transaction")
        token = S(os.urandom(12).hex())
        sent = [_stamped(action, token) for action in actions]
        try:
            with sdk_errors(what):
                self.client.transact_write_items(TransactItems=sent)
        except (Conflict, Unavailable) as exc:
            if self._applied(sent, token, what):
                return token
            if isinstance(exc, Unavailable):
                raise
            cause = exc.__cause__
            if cause is not None and error_code(cause) in (
                "TransactionCanceledException",
                "TransactionConflictException",
            ):
                reasons = [r.get("Code") for r in cause.response.get("CancellationReasons") or []]  # type: ignore[attr-defined]
                if "ValidationError" in reasons:
                    raise translate(cause, what) from cause
                raise _Changed(what) from exc
            raise
        return token

    def _applied(self, sent: Sequence[dict[str, Any]], token: dict[str, str], what: str) -> bool:
        """Whether the transaction ``sent`` (stamped with ``token``) is in the table: one of its Puts
        is stored with its token (its audit entry's key is the request's own, never overwritten; a record
        may have been written over since). A deletes-only transaction cannot tell (False)."""
        keys = [key(a["Put"]["Item"]["pk"]["S"], a["Put"]["Item"]["sk"]["S"]) for a in sent if "Put" in a]
        return bool(keys) and any(item.get(SENT_BY) == token for item in self._batch_get(keys, what))

    def _put_action(self, item: Item, current: Item | None) -> dict[str, Any]:
        """A Put of ``item`` that holds only if the stored item is still ``current``."""
        put: dict[str, Any] = {"TableName": self.table, "Item": item}
        if current is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#rev = :rev"
            put["ExpressionAttributeNames"] = {"#rev": "rev"}
            put["ExpressionAttributeValues"] = {":rev": current["rev"]}
        return {"Put": put}

    def _delete_action(self, pk: str, sk: str, current: Item | None = None) -> dict[str, Any]:
        delete: dict[str, Any] = {"TableName": self.table, "Key": key(pk, sk)}
        if current is not None:
            delete["ConditionExpression"] = "#rev = :rev"
            delete["ExpressionAttributeNames"] = {"#rev": "rev"}
            delete["ExpressionAttributeValues"] = {":rev": current["rev"]}
        return {"Delete": delete}

    def _exists_action(self, pk: str, sk: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": key(pk, sk),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    def _audit_action(self, audit: Doc) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": self._audit_item(audit)}}

    def _audit_item(self, audit: Doc) -> Item:
        if not isinstance(audit, dict) or not isinstance(audit.get("catalog_id"), str):
            raise Invalid("an audit event needs a catalog_id")
        at = str(audit.get("at") or "")
        order = f"{at}{SEP}{next_seq():020d}{SEP}{audit.get('id') or ''}"
        record_of = f"U#{audit['catalog_id']}#{audit.get('record_type') or ''}#{audit.get('record_id') or ''}"
        return record(f"U#{audit['catalog_id']}", order, audit, gsi1pk=record_of, gsi1sk=order)

    def _cas(self, what: str, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt`` (read, plan, conditional transaction) again while it loses races."""
        exhausted = f"{what} kept changing under {CAS_ATTEMPTS} attempts to write it; retry"
        return retry_on_conflict(attempt, attempts=CAS_ATTEMPTS, retry_on=(_Changed,), exhausted=exhausted)

    def _put_versioned(
        self,
        pk: str,
        sk: str,
        doc: Doc,
        expect_rev: int | None,
        audit: Doc | None,
        build: Callable[[Doc, Item | None], Item],
        what: str,
        extra: Sequence[dict[str, Any]] = (),
    ) -> Doc:
        """Write ``doc`` over revision ``expect_rev`` with its audit event, in one transaction
        (``extra``: more actions that must hold, e.g. a ConditionCheck of the parent)."""
        # Built once: a malformed audit is refused before anything is written (a transaction whose answer
        # was lost is told from a lost race by ``_transact``).
        audit_item = self._audit_item(audit) if audit is not None else None

        def attempt() -> Doc:
            current = self._get_item(pk, sk, what)
            rev = check_rev(int(attr(current, "rev") or 0) if current else None, expect_rev, what)
            stored = {**doc, "rev": rev}
            actions = [self._put_action(build(stored, current), current), *extra]
            if audit_item is not None:
                actions.append({"Put": {"TableName": self.table, "Item": audit_item}})
            self._transact(what, actions)
            return stored

        return cast(Doc, self._cas(what, attempt))

    def _batch_write(self, requests: Sequence[dict[str, Any]], what: str) -> None:
        """Unconditional puts/deletes, 25 per BatchWriteItem, unprocessed ones retried."""
        for chunk in chunks(list(requests), 25):
            pending: dict[str, Any] = {self.table: chunk}
            while pending:
                with sdk_errors(what):
                    answer = self.client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
