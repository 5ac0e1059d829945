"""A stub Dapr sidecar for the stateful benchmark: actor state in a dict, nothing else.

Run: ``uvicorn benchmarks.stub_sidecar:app --port 3500`` (the harness adds uvloop, httptools,
``--no-access-log``), or ``python benchmarks/stub_sidecar.py --port 3500``. A raw ASGI app, so
that the stub costs as little CPU as uvicorn allows and the app under test is what is measured.

It answers what an actor's state needs, as daprd does (docs/protocol.md §7.2, §7.3):

* ``GET /v1.0/actors/{type}/{id}/state/{key}``: 200 with the stored JSON value, or 204;
* ``POST|PUT /v1.0/actors/{type}/{id}/state``: a JSON array of ``upsert``/``delete``
  operations, applied to the dict and answered 204; anything else is 400 and counted;
* ``GET /v1.0/healthz`` and ``/v1.0/healthz/outbound``: 204 (the official SDK waits for it);
* ``GET /stub/stats``: the counters below as JSON, for the harness. Any other request is
  answered 404 and counted as ``unexpected``.

Counters: ``reads`` (``reads_found`` of them answered 200), ``transactions``, ``operations``,
``invalid`` bodies, ``unexpected`` requests, and, for the benchmark's counter actors,
``count_total`` (the sum of every stored integer ``count``, i.e. the number of turns that
incremented one) and ``count_skips`` (upserts of ``count`` that were not the stored value + 1:
a lost or doubled update); ``actors``, how many actors hold a stored value. At shutdown the counters are printed to stdout.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ACTORS_PREFIX = "/v1.0/actors/"
HEALTH_PATHS = frozenset({"/v1.0/healthz", "/v1.0/healthz/outbound"})
STATS_PATH = "/stub/stats"
COUNT_KEY = "count"
_JSON = [(b"content-type", b"application/json")]


class InvalidTransaction(ValueError):
    """A state transaction body that daprd would refuse."""


class StubSidecar:
    """The ASGI app; one instance per process holds the state and the counters."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], bytes] = {}  # (type, id, key) -> JSON value
        self.counts: dict[tuple[str, str], int] = {}  # (type, id) -> stored integer "count"
        self.stats = dict.fromkeys(
            (
                "reads",
                "reads_found",
                "transactions",
                "operations",
                "invalid",
                "unexpected",
                "count_skips",
            ),
            0,
        )

    def snapshot(self) -> dict[str, int]:
        # "actors": how many actors hold any stored value (the memory scenario's check)
        holders = {(actor_type, actor_id) for actor_type, actor_id, _ in self.values}
        return self.stats | {"count_total": sum(self.counts.values()), "actors": len(holders)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        method, path = scope["method"], scope["path"]
        if path.startswith(ACTORS_PREFIX):
            parts = path[len(ACTORS_PREFIX) :].split("/")
            if len(parts) == 4 and parts[2] == "state" and method == "GET":
                await self._read(send, parts[0], parts[1], parts[3])
                return
            if len(parts) == 3 and parts[2] == "state" and method in ("POST", "PUT"):
                await self._transaction(receive, send, parts[0], parts[1])
                return
        elif path in HEALTH_PATHS and method == "GET":
            await _answer(send, 204)
            return
        elif path == STATS_PATH and method == "GET":
            await _answer(send, 200, json.dumps(self.snapshot()).encode(), _JSON)
            return
        self.stats["unexpected"] += 1
        print(f"unexpected request: {method} {path}", flush=True)
        await _answer(send, 404, b"not served by the stub sidecar")

    async def _read(self, send: Send, actor_type: str, actor_id: str, key: str) -> None:
        self.stats["reads"] += 1
        value = self.values.get((actor_type, actor_id, key))
        if value is None:
            await _answer(send, 204)
            return
        self.stats["reads_found"] += 1
        await _answer(send, 200, value, _JSON)

    async def _transaction(
        self, receive: Receive, send: Send, actor_type: str, actor_id: str
    ) -> None:
        body = await _read_body(receive)
        try:
            operations = _parse_transaction(body)
        except InvalidTransaction as error:
            self.stats["invalid"] += 1
            print(f"invalid transaction for {actor_type}/{actor_id}: {error}: {body[:200]!r}")
            await _answer(send, 400, str(error).encode())
            return
        self.stats["transactions"] += 1
        self.stats["operations"] += len(operations)
        for operation, key, value in operations:
            self._apply(actor_type, actor_id, operation, key, value)
        await _answer(send, 204)

    def _apply(self, actor_type: str, actor_id: str, operation: str, key: str, value: Any) -> None:
        if operation == "delete":
            self.values.pop((actor_type, actor_id, key), None)
            if key == COUNT_KEY:
                self.counts.pop((actor_type, actor_id), None)
            return
        self.values[(actor_type, actor_id, key)] = json.dumps(value, separators=(",", ":")).encode()
        if key == COUNT_KEY and type(value) is int:
            before = self.counts.get((actor_type, actor_id), 0)
            if value != before + 1:
                self.stats["count_skips"] += 1
            self.counts[(actor_type, actor_id)] = value

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                print(f"stub sidecar stats: {json.dumps(self.snapshot())}", flush=True)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _parse_transaction(body: bytes) -> list[tuple[str, str, Any]]:
    """(operation, key, value) for each entry of a bare JSON array of operations."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise InvalidTransaction(f"not JSON ({error})") from None
    if not isinstance(document, list) or not document:
        raise InvalidTransaction("expected a non-empty JSON array of operations")
    parsed = []
    for entry in document:
        if not isinstance(entry, dict):
            raise InvalidTransaction("an operation is not a JSON object")
        operation, request = entry.get("operation"), entry.get("request")
        if operation not in ("upsert", "delete") or not isinstance(request, dict):
            raise InvalidTransaction(f"bad operation {operation!r} or request {request!r}")
        key = request.get("key")
        if not isinstance(key, str) or not key:
            raise InvalidTransaction(f"bad key {key!r}")
        if operation == "upsert" and "value" not in request:
            raise InvalidTransaction(f"upsert of {key!r} has no value")
        metadata = request.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidTransaction(f"metadata of {key!r} is not an object")
        parsed.append((operation, key, request.get("value")))
    return parsed


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(
    send: Send, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    head = [*(headers or ())]
    if status != 204:  # a 204 has no body and no Content-Length (RFC 9110 §8.6)
        head.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


app = StubSidecar()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3500)
    args = parser.parse_args()
    uvicorn.run(
        app, host=args.host, port=args.port, loop="uvloop", http="httptools",
        access_log=False, log_level="warning",
    )  # fmt: skip


if __name__ == "__main__":
    main()
