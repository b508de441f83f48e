"""The one DynamoDB table of the aws backend, its creation (tests, dev; Terraform in production),
and the claims (first-claimer-wins keys with a TTL) that event dedup and task dedup share.

Table ``{settings.aws_table_prefix}-metadata``: partition key ``pk`` (S), sort key ``sk`` (S), a
global secondary indexes ``gsi1`` on (``gsi1pk`` S, ``gsi1sk`` S) and ``gsi2`` on (``gsi2pk``,
``gsi2sk``), both projecting all attributes; TTL attribute ``expires_at``
(epoch seconds). Record layout: ``dynamo_store``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from dynastore.backends.aws._errors import sdk_errors
from dynastore.backends.claims import Held, claim_once, new_token
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.errors import Conflict, Invalid

INDEXES = ("gsi1", "gsi2")
TTL_ATTRIBUTE = "expires_at"


def table_name(prefix: str) -> str:
    return f"{prefix}-metadata"


def ensure_table(client: Any, name: str) -> None:
    """Create the table (on-demand billing, with its index and TTL) unless it exists; waits for it."""
    names = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
    strings = [{"AttributeName": n, "AttributeType": "S"} for n in names]
    with contextlib.suppress(Conflict), sdk_errors(f"table {name!r}"):
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=strings,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                        {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in INDEXES
            ],
        )
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )


class DynamoClaims:
    """``claim(key, ttl)`` is True for the first claimer of a key while its claim lives (a
    conditional put: the key is absent or its claim expired), False for a duplicate; each call
    writes its own ``claimant`` token, so a put botocore re-sent after it was applied is still
    this call's win (the rule: ``backends.claims``). DynamoDB's TTL removes expired claims
    eventually; the condition does not wait for it."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = LazyClient(client)
        self.table = table

    def _key(self, key: str) -> dict[str, Any]:
        return {"pk": {"S": f"claim#{key}"}, "sk": {"S": "-"}}

    def claim(self, key: str, ttl_seconds: float) -> bool:
        if not isinstance(key, str) or not key:
            raise Invalid("a claim key must be a non-empty string")
        now = time.time()
        token = new_token()
        item = {
            **self._key(key),
            "until": {"N": f"{now + ttl_seconds:.3f}"},  # the claim's end, to the millisecond
            TTL_ATTRIBUTE: {"N": str(int(now + ttl_seconds) + 1)},  # DynamoDB's TTL: whole seconds
            "claimant": {"S": token},
        }

        def put(condition: str, values: dict[str, Any]) -> bool:
            try:
                with sdk_errors("claim"):
                    self._client.get().put_item(
                        TableName=self.table,
                        Item=item,
                        ConditionExpression=condition,
                        ExpressionAttributeNames={"#u": "until"},
                        ExpressionAttributeValues=values,
                    )
            except Conflict:
                return False
            return True

        def read() -> Held | None:
            with sdk_errors("claim"):
                found = self._client.get().get_item(TableName=self.table, Key=self._key(key), ConsistentRead=True)
            held = found.get("Item")
            if held is None:
                return None
            until = held["until"]["N"]
            return Held(held.get("claimant", {}).get("S"), float(until), until)

        return claim_once(
            token,
            now,
            create=lambda: put("attribute_not_exists(pk) OR #u < :now", {":now": {"N": f"{now:.3f}"}}),
            read=read,
            take_over=lambda held: put("#u = :read", {":read": {"N": held.version}}),
        )

    def release(self, key: str) -> None:
        with sdk_errors("claim release"):
            self._client.get().delete_item(TableName=self.table, Key=self._key(key))
