"""SQLite persistence for the dev sidecar: actor state and reminders.

A value is keyed by its four parts (app id, actor type, actor id, key) in separate columns.
daprd joins them as ``appId||type||id||key`` (docs/protocol.md §7.7), which is ambiguous: actor
``x`` writing key ``y||z`` and actor ``x||y`` reading key ``z`` meet on one row. Older versions
of this store used that joined key in the table ``actor_state``; such a file is migrated when it
is opened (see ``_migrate_joined_keys``).

A file database survives restarts; ``:memory:`` is for tests. The sidecar is single-threaded
asyncio and every statement is short, so the connection is used directly from the event loop (one
thread at a time, though maybe not the one that opened it); a transaction's writes commit
together or not at all.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .errors import DaprError

logger = logging.getLogger(__name__)

# daprd's codes and message prefixes for a failing actor state store (docs/protocol.md §7.6).
STATE_GET_FAILED = ("ERR_ACTOR_STATE_GET", "error getting actor state")
STATE_SAVE_FAILED = ("ERR_ACTOR_STATE_TRANSACTION_SAVE", "error saving actor transaction state")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actor_values (
    app_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expires_at REAL,
    PRIMARY KEY (app_id, actor_type, actor_id, key)
);
CREATE TABLE IF NOT EXISTS reminders (
    app_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    data BLOB,
    due_time TEXT NOT NULL,
    period TEXT NOT NULL,
    ttl TEXT NOT NULL,
    next_due REAL NOT NULL,
    remaining INTEGER,
    expires_at REAL,
    PRIMARY KEY (app_id, actor_type, actor_id, name)
);
"""

_KEY_MATCHES = "app_id = ? AND actor_type = ? AND actor_id = ? AND key = ?"
_JOINED_KEYS_TABLE = "actor_state"  # the layout before actor_values, migrated on open
_SEPARATOR = "||"

_REMINDER_COLUMNS = (
    "actor_type, actor_id, name, data, due_time, period, ttl, next_due, remaining, expires_at"
)
_SAVE_REMINDER = (
    f"INSERT OR REPLACE INTO reminders (app_id, {_REMINDER_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class StateKey(NamedTuple):
    """Where one value lives: its actor and its key, each part on its own."""

    app_id: str
    actor_type: str
    actor_id: str
    key: str


@dataclass(frozen=True, slots=True)
class StateWrite:
    """One operation of a state transaction: ``value`` ``None`` deletes the key."""

    key: StateKey
    value: bytes | None
    ttl_seconds: int | None = None


class ReminderRecord(NamedTuple):
    """A reminder as registered (strings kept verbatim) and how far it has got; its fields are
    the columns of the ``reminders`` table in order. A tuple, because every fire saves one:
    ``dataclasses.astuple`` deep-copied each field and cost more than the SQLite write."""

    actor_type: str
    actor_id: str
    name: str
    data: bytes | None  # the registered JSON value, or None when none was given
    due_time: str
    period: str
    ttl: str
    next_due: float  # Unix time of the next fire
    remaining: int | None  # fires left, None when unbounded
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class StoredValue:
    value: bytes
    expires_at: float | None  # Unix time, or None when the value never expires


class StateStore:
    """Actor state in one SQLite database."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        # check_same_thread=False: under `dapr-actors run` the store is opened before the
        # sidecar's thread starts (so a bad --state-db is reported first), then used only there.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            if self.path != ":memory:":
                # WAL keeps readers and the writer apart and survives a killed process intact.
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate_joined_keys()
        except BaseException:
            self._db.close()  # a file that is not a database must not leave a connection open
            raise

    def _migrate_joined_keys(self) -> None:
        """Move the rows of an older file's ``actor_state`` (one ``app||type||id||key`` column)
        into ``actor_values``, in one transaction, and drop that table.

        A joined key is split at its first three separators: that is how each row reads unless
        an app id, actor type or actor id itself held ``||``, the very case the old layout could
        not tell apart. A value already in ``actor_values`` is kept.
        """
        found = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_JOINED_KEYS_TABLE,)
        ).fetchone()
        if found is None:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            rows = self._db.execute(
                f"SELECT key, value, expires_at FROM {_JOINED_KEYS_TABLE}"
            ).fetchall()
            moved = [
                (joined, parts, value, expires_at)
                for joined, value, expires_at in rows
                if len(parts := str(joined).split(_SEPARATOR, 3)) == 4
            ]
            self._db.executemany(
                "INSERT OR IGNORE INTO actor_values "
                "(app_id, actor_type, actor_id, key, value, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(*parts, value, expires_at) for _, parts, value, expires_at in moved],
            )
            self._db.executemany(
                f"DELETE FROM {_JOINED_KEYS_TABLE} WHERE key = ?", [(row[0],) for row in moved]
            )
            if len(moved) == len(rows):
                self._db.execute(f"DROP TABLE {_JOINED_KEYS_TABLE}")
            else:  # not written by this package: left where they are
                logger.warning(
                    "%s: %d rows of the old table %r have no app||type||id||key key; left there",
                    self.path,
                    len(rows) - len(moved),
                    _JOINED_KEYS_TABLE,
                )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        logger.info("%s: moved %d actor state values to the current layout", self.path, len(moved))

    def get(self, key: StateKey, now: float) -> StoredValue | None:
        """The value under ``key``, or ``None`` if absent or expired at ``now``; a failing
        store is daprd's ``500 ERR_ACTOR_STATE_GET`` (``DaprError``)."""
        try:
            row = self._db.execute(
                f"SELECT value, expires_at FROM actor_values WHERE {_KEY_MATCHES}", key
            ).fetchone()
        except sqlite3.Error as error:
            raise self._failed(STATE_GET_FAILED, error) from error
        if row is None or (row[1] is not None and row[1] <= now):
            return None
        return StoredValue(bytes(row[0]), row[1])

    def apply(self, writes: Sequence[StateWrite], now: float) -> None:
        """Apply every write atomically: on any error, none of them is kept. A failing store
        (locked, full, read-only) is daprd's ``500 ERR_ACTOR_STATE_TRANSACTION_SAVE``."""
        try:
            self._apply(writes, now)
        except sqlite3.Error as error:
            raise self._failed(STATE_SAVE_FAILED, error) from error

    def _apply(self, writes: Sequence[StateWrite], now: float) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                if write.value is None:
                    self._db.execute(f"DELETE FROM actor_values WHERE {_KEY_MATCHES}", write.key)
                else:
                    expires = None if write.ttl_seconds is None else now + write.ttl_seconds
                    self._db.execute(
                        "INSERT OR REPLACE INTO actor_values "
                        "(app_id, actor_type, actor_id, key, value, expires_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (*write.key, write.value, expires),
                    )
            self._db.execute("COMMIT")  # inside: a COMMIT that fails (disk full) rolls back too
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _failed(self, failure: tuple[str, str], error: sqlite3.Error) -> DaprError:
        code, doing = failure
        return DaprError(500, code, f"{doing}: {error} (the dev sidecar's store {self.path})")

    def save_reminder(self, app_id: str, record: ReminderRecord) -> None:
        """Insert or replace a reminder, progress included."""
        self._db.execute(_SAVE_REMINDER, (app_id, *record))

    def save_reminders(self, app_id: str, records: Sequence[ReminderRecord]) -> None:
        """Insert or replace several reminders in one transaction: all of them or none.

        One commit instead of one per record: a burst of fires saves its progress for a fraction
        of the cost."""
        self._db.execute("BEGIN")
        try:
            self._db.executemany(_SAVE_REMINDER, [(app_id, *record) for record in records])
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def delete_reminder(self, app_id: str, actor_type: str, actor_id: str, name: str) -> bool:
        """Delete a reminder; ``True`` if it existed."""
        cursor = self._db.execute(
            "DELETE FROM reminders WHERE app_id = ? AND actor_type = ? AND actor_id = ? "
            "AND name = ?",
            (app_id, actor_type, actor_id, name),
        )
        return cursor.rowcount > 0

    def reminders(self, app_id: str) -> list[ReminderRecord]:
        """Every reminder of ``app_id``, to resume firing after a restart."""
        rows = self._db.execute(
            f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE app_id = ?", (app_id,)
        ).fetchall()
        return [
            ReminderRecord(
                row[0],
                row[1],
                row[2],
                None if row[3] is None else bytes(row[3]),
                *row[4:],
            )
            for row in rows
        ]

    def close(self) -> None:
        self._db.close()
