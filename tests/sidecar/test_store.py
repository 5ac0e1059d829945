"""The dev sidecar's state store: one actor's value is never another's, and a database file
written by an older version, which joined keys as ``app||type||id||key``, still reads."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.sidecar.store import ReminderRecord, StateKey, StateStore, StateWrite

from .test_actors import cluster


def vault_app() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("vault")
    class Vault(Actor):
        @method
        async def open(self) -> None:
            pass

    return runtime


async def put(http: aiohttp.ClientSession, actor_id: str, key: str, value: object) -> None:
    base = f"/v1.0/actors/vault/{quote(actor_id, safe='')}"
    async with http.put(f"{base}/method/open") as r:
        assert r.status == 200, await r.text()
    upsert = [{"operation": "upsert", "request": {"key": key, "value": value}}]
    async with http.post(f"{base}/state", json=upsert) as r:
        assert r.status == 204, await r.text()


async def get(http: aiohttp.ClientSession, actor_id: str, key: str) -> object:
    path = f"/v1.0/actors/vault/{quote(actor_id, safe='')}/state/{quote(key, safe='')}"
    async with http.get(path) as r:
        assert r.status in (200, 204), await r.text()
        return await r.json() if r.status == 200 else None


async def test_keys_and_ids_holding_the_separator_do_not_meet() -> None:
    async with cluster(vault_app()) as (http, _):
        await put(http, "x", "y||z", "x's")
        assert await get(http, "x||y", "z") is None
        await put(http, "x||y", "z", "x||y's")
        assert await get(http, "x", "y||z") == "x's"
        assert await get(http, "x||y", "z") == "x||y's"


def write_old_layout(path: Path, app_id: str) -> None:
    """A database as the previous version left it: one joined key column."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE actor_state (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL)"
    )
    rows = [
        (f"{app_id}||vault||1||gold", b"42", None),
        (f"{app_id}||vault||1||silver", b'"lots"', time.time() + 3600),
        (f"{app_id}||vault||1||dust", b'"gone"', time.time() - 1),
        (f"{app_id}||vault||x||y||z", b'"x\'s"', None),
        ("other-app||vault||1||gold", b"7", None),
    ]
    db.executemany("INSERT INTO actor_state VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()


async def test_a_database_from_an_older_version_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_old_layout(path, "bank")
    for _ in range(2):  # the second start finds the file already migrated
        async with cluster(vault_app(), app_id="bank", state_db=str(path)) as (http, _):
            assert await get(http, "1", "gold") == 42
            assert await get(http, "1", "silver") == "lots"
            assert await get(http, "1", "dust") is None  # expired, as before
            assert await get(http, "x", "y||z") == "x's"
            assert await get(http, "x||y", "z") is None
            await put(http, "1", "gold", 43)
            assert await get(http, "1", "gold") == 43
            await put(http, "1", "gold", 42)
    store = StateStore(path)
    try:
        other = store.get(StateKey("other-app", "vault", "1", "gold"), time.time())
        assert other is not None  # another app's rows moved too
        assert other.value == b"7"
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "actor_state" not in tables


def test_a_write_replaces_a_migrated_value(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_old_layout(path, "bank")
    store = StateStore(path)
    try:
        key = StateKey("bank", "vault", "1", "gold")
        store.apply([StateWrite(key, b"1")], time.time())
        stored = store.get(key, time.time())
        assert stored is not None
        assert stored.value == b"1"
        store.apply([StateWrite(key, None)], time.time())
        assert store.get(key, time.time()) is None
    finally:
        store.close()


def reminder_record(actor_id: str, remaining: int) -> ReminderRecord:
    return ReminderRecord(
        "robot", actor_id, "tick", None, "0s", "R3/PT1S", "", 1.0, remaining, None
    )


def test_reminders_saved_together_are_saved_all_or_none(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        store.save_reminders("app", [reminder_record("1", 2), reminder_record("2", 2)])
        assert [r.remaining for r in store.reminders("app")] == [2, 2]
        with contextlib.closing(sqlite3.connect(tmp_path / "state.db")) as db:
            db.execute(
                "CREATE TRIGGER no_robot_2 BEFORE INSERT ON reminders WHEN NEW.actor_id = '2' "
                "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
            )
        with pytest.raises(sqlite3.IntegrityError, match="disk says no"):
            store.save_reminders("app", [reminder_record("1", 1), reminder_record("2", 1)])
        assert [r.remaining for r in store.reminders("app")] == [2, 2]  # robot 1's undone too
    finally:
        store.close()
