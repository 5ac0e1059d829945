"""A failing SQLite store answers in Dapr's error shape with daprd's codes (docs/protocol.md
§7.2, §7.3, §7.6), not a bare 500: the faults are real, made by a second connection to the
sidecar's database file while the sidecar serves over loopback HTTP."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app

UPSERT = [{"operation": "upsert", "request": {"key": "k", "value": 1}}]


def counter_app() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("counter")
    class Counter(Actor):
        @method
        async def touch(self) -> None:
            pass

    return runtime


@contextlib.contextmanager
def other_connection(database: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(database, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


async def test_a_locked_store_fails_the_transaction_with_err_actor_state_transaction_save(
    tmp_path: Path,
) -> None:
    database = tmp_path / "state.db"
    async with ActorTestEnv(make_app(counter_app()), state_db=str(database)) as env:
        assert (await env.invoke_actor("counter", "1", "touch")).status == 200  # active
        with other_connection(database) as db:
            db.execute("BEGIN IMMEDIATE")  # holds the write lock past the busy timeout (5 s)
            locked = await env.state_transaction("counter", "1", UPSERT)
            db.execute("ROLLBACK")
        after = await env.state_transaction("counter", "1", UPSERT)
        saved = await env.get_state("counter", "1", "k")
    assert locked.status == 500
    assert locked.headers["content-type"] == "application/json"
    error = locked.json()
    assert error["errorCode"] == "ERR_ACTOR_STATE_TRANSACTION_SAVE"
    assert error["message"].startswith("error saving actor transaction state: database is locked")
    assert str(database) in error["message"]
    assert (after.status, saved.status, saved.json()) == (204, 200, 1)  # nothing was left half


async def test_a_store_that_lost_its_table_fails_reads_with_err_actor_state_get(
    tmp_path: Path,
) -> None:
    database = tmp_path / "state.db"
    async with ActorTestEnv(make_app(counter_app()), state_db=str(database)) as env:
        with other_connection(database) as db:
            db.execute("ALTER TABLE actor_values RENAME TO moved_away")
            broken = await env.get_state("counter", "1", "k")
            db.execute("ALTER TABLE moved_away RENAME TO actor_values")
        repaired = await env.get_state("counter", "1", "k")
    assert broken.status == 500
    assert broken.json()["errorCode"] == "ERR_ACTOR_STATE_GET"
    assert broken.json()["message"].startswith(
        "error getting actor state: no such table: actor_values"
    )
    assert repaired.status == 204
