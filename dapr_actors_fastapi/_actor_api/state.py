"""``ActorState``: an actor's state as a unit of work per turn (docs/protocol.md §7.2, §7.3).

* Reads go to the sidecar once per key and are cached; writes stay in memory and go out as
  **one** transaction when the turn ends, or not at all when nothing changed or the turn failed.
* Values are held as JSON bytes. ``get`` decodes a fresh object every time, so mutating what it
  returned cannot corrupt the cache or a pending write; ``set`` serializes at once, so a value
  that is not JSON fails on the line that set it, not at the end of the turn.
* Reentrant requests of one chain run on the same instance and share its pending writes. The
  host (``_hosting/type_host.py``) saves when the chain's outermost request on this actor ends,
  and rolls a failed nested request back to where it started; this module only offers the
  operations.
* The cache outlives the turn (``cache_state=True``, the default), which is right while one
  process hosts the actor; with ``cache_state=False`` it is dropped when each turn ends.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar, overload
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from .._turn import Turn, current_turn
from .._wire.paths import actor_path
from .._wire.strict_json import to_strict_json
from ..durations import SECOND, to_nanoseconds
from ..exceptions import StateKeyNotFound
from .actor_type import AnyActorType, SidecarRequests

T = TypeVar("T")
D = TypeVar("D")

_NO_DEFAULT: Any = object()
# Go's RFC 3339 has up to nine fraction digits; datetime takes six.
_EXTRA_FRACTION = re.compile(r"(\.\d{6})\d+")

TTL = timedelta | int | float | str


class _Write(NamedTuple):
    """A pending change: JSON bytes to store (``None`` deletes) and an optional TTL."""

    value: bytes | None
    ttl_seconds: int | None


Savepoint = dict[str, _Write]


class ActorState:
    """The state of one actor, reached as ``self.state`` inside its turns.

    Keys are non-empty strings; values are anything pydantic can serialize to JSON (models,
    dataclasses, dicts, lists, numbers, strings, datetimes...). Changes are saved together when
    the method, reminder or timer turn returns, and discarded if it raises.
    """

    __slots__ = ("_actor_id", "_actor_type", "_cache", "_expiry", "_path", "_pending")

    def __init__(self, actor_id: str, actor_type: AnyActorType) -> None:
        self._actor_id = actor_id
        self._actor_type = actor_type
        self._path = actor_path(actor_type.name, actor_id)
        self._cache: dict[str, bytes | None] = {}  # None: known to be absent
        self._expiry: dict[str, float] = {}  # monotonic deadline of cached values with a TTL
        self._pending: dict[str, _Write] = {}

    # -- reading --------------------------------------------------------------------------------

    @overload
    async def get(self, key: str) -> Any: ...
    @overload
    async def get(self, key: str, value_type: type[T]) -> T: ...
    @overload
    async def get(self, key: str, value_type: type[T], *, default: D) -> T | D: ...
    @overload
    async def get(self, key: str, *, default: D) -> Any | D: ...
    async def get(self, key: str, value_type: Any = None, *, default: Any = _NO_DEFAULT) -> Any:
        """The value of ``key``, validated as ``value_type`` when given (a model, ``int``,
        ``list[Order]``...), or plain JSON otherwise.

        A missing key returns ``default`` or raises ``StateKeyNotFound`` (a ``KeyError``); a
        stored value that does not fit ``value_type`` raises ``ValueError``.
        """
        raw = await self._read(key)
        if raw is None:
            if default is _NO_DEFAULT:
                raise StateKeyNotFound(key, self._actor_type.name, self._actor_id)
            return default
        return self._decode(key, raw, value_type)

    async def contains(self, key: str) -> bool:
        """Whether ``key`` has a value (counting this turn's unsaved changes)."""
        return await self._read(key) is not None

    @overload
    async def get_or_set(self, key: str, value: T) -> T: ...
    @overload
    async def get_or_set(self, key: str, value: Any, value_type: type[T]) -> T: ...
    async def get_or_set(self, key: str, value: Any, value_type: Any = None) -> Any:
        """The value of ``key``; if it has none, set it to ``value`` and return ``value``."""
        raw = await self._read(key)
        if raw is not None:
            return self._decode(key, raw, value_type)
        await self.set(key, value)
        return value

    def keys(self) -> list[str]:
        """The keys this actor knows to have a value: read or written so far, sorted.

        The sidecar's HTTP API cannot list an actor's keys, so keys never read or written
        since activation are not included.
        """
        now = time.monotonic()
        known = {
            key
            for key, value in self._cache.items()
            if value is not None and self._expiry.get(key, math.inf) > now
        }
        for key, write in self._pending.items():
            if write.value is None:
                known.discard(key)
            else:
                known.add(key)
        return sorted(known)

    # -- writing --------------------------------------------------------------------------------

    async def set(self, key: str, value: Any, *, ttl: TTL | None = None) -> None:
        """Set ``key`` to ``value`` when this turn ends; ``ttl`` (a ``timedelta``, seconds, or a
        duration such as ``"60s"`` or ``"PT1M"``) lets the store expire it.

        Raises ``TypeError`` when ``value`` cannot be serialized to JSON (``ValueError`` for a
        float NaN or infinity, which JSON cannot carry). A TTL needs daprd's
        ``ActorStateTTL`` feature (the dev sidecar always has it).
        """
        self._check_writable("set", key)
        ttl_seconds = _ttl_seconds(ttl, key)
        raw = to_strict_json(value, f"state value for key {key!r}")
        self._pending[key] = _Write(raw, ttl_seconds)

    async def delete(self, key: str) -> None:
        """Remove ``key`` when this turn ends (nothing happens if it has no value)."""
        self._check_writable("delete", key)
        self._pending[key] = _Write(None, None)

    # -- the unit of work, driven by the host -------------------------------------------------

    @property
    def has_changes(self) -> bool:
        """Whether this turn has unsaved changes."""
        return bool(self._pending)

    def savepoint(self) -> Savepoint:
        """The pending changes as they are now, for ``rollback``."""
        return dict(self._pending)

    def rollback(self, savepoint: Savepoint) -> None:
        """Forget the changes made since ``savepoint`` (a failed nested request)."""
        self._pending = savepoint

    def discard(self) -> None:
        """Forget every unsaved change (a failed turn)."""
        self._pending = {}
        self._end_turn()

    async def save(self) -> None:
        """Send the pending changes as one transaction; nothing when nothing changed.

        On any failure the changes are dropped and the keys involved are forgotten, since the
        store may or may not have applied them; the next read fetches them again.
        """
        pending, self._pending = self._pending, {}
        operations = [
            operation
            for key, write in pending.items()
            if (operation := self._operation(key, write)) is not None
        ]
        if operations:
            sent = time.monotonic()
            try:
                await self._client.request(
                    "POST",
                    f"{self._path}/state",
                    body=b"[" + b",".join(operations) + b"]",
                    content_type="application/json",
                )
            except BaseException:
                for key in pending:
                    self._forget(key)
                raise
            for key, write in pending.items():
                deadline = None if write.ttl_seconds is None else sent + write.ttl_seconds
                self._remember(key, write.value, deadline)
        self._end_turn()

    # -- internals ------------------------------------------------------------------------------

    @property
    def _client(self) -> SidecarRequests:
        return self._actor_type.sidecar

    def _end_turn(self) -> None:
        if not self._actor_type.settings.cache_state:
            self._cache.clear()
            self._expiry.clear()

    async def _read(self, key: str) -> bytes | None:
        write = self._pending.get(key)
        if write is not None:
            return write.value
        if key in self._cache:
            deadline = self._expiry.get(key)
            if deadline is None or time.monotonic() < deadline:
                return self._cache[key]
            self._forget(key)
        return await self._fetch(key)

    async def _fetch(self, key: str) -> bytes | None:
        _check_key(key)
        response = await self._client.request(
            "GET", f"{self._path}/state/{quote(key, safe='')}", idempotent=True
        )
        value = response.body if response.status == 200 and response.body else None
        self._remember(key, value, _ttl_deadline(response.headers))
        return value

    def _remember(self, key: str, value: bytes | None, deadline: float | None) -> None:
        self._cache[key] = value
        if deadline is None:
            self._expiry.pop(key, None)
        else:
            self._expiry[key] = deadline

    def _forget(self, key: str) -> None:
        self._cache.pop(key, None)
        self._expiry.pop(key, None)

    def _operation(self, key: str, write: _Write) -> bytes | None:
        """The transaction entry for ``write``, or ``None`` when it changes nothing."""
        unchanged = key in self._cache and self._cache[key] == write.value
        if unchanged and key not in self._expiry and write.ttl_seconds is None:
            return None
        encoded_key = json.dumps(key).encode()
        if write.value is None:
            return b'{"operation":"delete","request":{"key":%s}}' % encoded_key
        if write.ttl_seconds is None:
            return b'{"operation":"upsert","request":{"key":%s,"value":%s}}' % (
                encoded_key,
                write.value,
            )
        return (
            b'{"operation":"upsert","request":{"key":%s,"value":%s,'
            b'"metadata":{"ttlInSeconds":"%d"}}}' % (encoded_key, write.value, write.ttl_seconds)
        )

    def _check_writable(self, operation: str, key: str) -> None:
        _check_key(key)
        turn = current_turn()
        where = f"{self._actor_type.name}/{self._actor_id}"
        if turn is None or not self._runs(turn):
            raise RuntimeError(
                f"self.state.{operation}({key!r}) ran outside a turn of actor {where} (in a "
                "background task?); state is saved when a turn ends, so change it inside a "
                "method, reminder or timer handler"
            )
        if turn.kind == "deactivate":
            raise RuntimeError(
                f"self.state.{operation}({key!r}) ran in on_deactivate of {where}; the sidecar "
                "has already dropped the actor and would refuse to save, so save state in the "
                "turns that change it"
            )

    def _runs(self, turn: Turn) -> bool:
        if turn.actor_id != self._actor_id or turn.actor_type != self._actor_type.name:
            return False
        if turn.kind == "deactivate":
            return True  # refused with its own reason
        return self._actor_type.turns.runs_turn(self._actor_id, turn)

    def _decode(self, key: str, raw: bytes, value_type: Any) -> Any:
        if value_type is None:
            return json.loads(raw)
        try:
            return _adapter(value_type).validate_json(raw)
        except ValidationError as error:
            raise ValueError(
                f"state key {key!r} of actor {self._actor_type.name}/{self._actor_id} holds "
                f"{raw[:200].decode('utf-8', 'replace')}, which is not a valid "
                f"{getattr(value_type, '__name__', value_type)}: {error}"
            ) from None


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key:
        raise TypeError(f"state keys are non-empty strings, got {key!r}")


@lru_cache(maxsize=256)
def _cached_adapter(value_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(value_type)


def _adapter(value_type: Any) -> TypeAdapter[Any]:
    try:
        return _cached_adapter(value_type)
    except TypeError:  # an unhashable type expression
        return TypeAdapter(value_type)


def _ttl_seconds(ttl: TTL | None, key: str) -> int | None:
    """Whole seconds (rounded up, as daprd takes ``ttlInSeconds`` as an integer)."""
    if ttl is None:
        return None
    accepted = "a timedelta, a number of seconds, or a duration such as '60s' or 'PT1M'"
    if isinstance(ttl, bool):
        raise TypeError(f"ttl for state key {key!r} must be {accepted}, got {ttl!r}")
    if isinstance(ttl, int | float):
        seconds = ttl
    elif isinstance(ttl, timedelta | str):
        try:
            seconds = to_nanoseconds(ttl, field="ttl") / SECOND
        except (TypeError, ValueError) as error:
            raise ValueError(f"ttl for state key {key!r}: {error}") from None
    else:
        raise TypeError(f"ttl for state key {key!r} must be {accepted}, got {ttl!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"ttl for state key {key!r} must be longer than zero, got {ttl!r}")
    return math.ceil(seconds)


def _ttl_deadline(headers: Mapping[str, str]) -> float | None:
    """When a value read with ``metadata.ttlExpireTime`` stops being cacheable."""
    # Go canonicalizes the name to "Metadata.ttlexpiretime"; compare without case.
    expires = next(
        (value for name, value in headers.items() if name.lower() == "metadata.ttlexpiretime"),
        None,
    )
    if expires is None:
        return None
    try:
        moment = datetime.fromisoformat(_EXTRA_FRACTION.sub(r"\1", expires))
    except ValueError:
        return time.monotonic()  # unreadable: do not cache beyond this read
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return time.monotonic() + (moment - datetime.now(UTC)).total_seconds()
