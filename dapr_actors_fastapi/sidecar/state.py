"""The actor state API's bodies: parsing a transaction, and values as daprd stores them.

daprd decodes ``POST|PUT /v1.0/actors/{type}/{id}/state`` into ``[]TransactionalOperation``
(docs/protocol.md §7.2): a bare JSON array; ``operation`` is exactly ``upsert`` or ``delete``;
``request`` fields match case-insensitively; ``metadata`` values must be strings. Every
mistake is answered here with 400 ``ERR_MALFORMED_REQUEST`` naming the operation and field,
before anything is written (daprd answers some of them with a 500).

Two things daprd lets through are refused too, as they cannot be stored faithfully: a lone
UTF-16 surrogate (``"\\ud800"``) in a key or value, which Go silently turns into U+FFFD, and a
``ttlInSeconds`` beyond Go's int64.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .._wire.strict_json import from_go_json
from .errors import malformed
from .store import StateKey, StateWrite

_GO_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)  # strconv.ParseInt(s, 10, 64) syntax
_INT64 = range(-(2**63), 2**63)
_MAX_TTL_SECONDS = 2**31 - 1  # components-contrib ParseTTL caps the TTL at MaxInt32

KeyOf = Callable[[str], StateKey]
"""Where one of the transaction's keys lives: the actor's own ``StateKey`` for it."""


def go_json(value: Any) -> bytes:
    """``value`` encoded as Go's ``json.Marshal`` encodes a decoded ``any``: compact, map keys
    sorted, and ``<``, ``>``, ``&``, U+2028, U+2029 escaped.

    ``ValueError`` naming the problem when a string holds a lone surrogate, which is not text,
    or the value nests deeper than this process can follow.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    except RecursionError:
        raise ValueError("nested too deeply to store") from None
    # These characters only occur inside JSON strings, so replacing them in the text is safe.
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{_surrogate_in(text)}; JSON strings must be valid Unicode") from None


def is_text(value: str) -> bool:
    """Whether ``value`` is valid Unicode: no lone surrogate (``"\\ud800"`` in JSON)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _surrogate_in(text: str) -> str:
    where = next(i for i, char in enumerate(text) if "\ud800" <= char <= "\udfff")
    return f"a lone surrogate {text[where]!r} at {text[max(0, where - 10) : where + 10]!r}"


def decode_transaction(body: bytes) -> list[Any]:
    """The operations of a state transaction body as daprd's JSON decoder reads them, or 400
    ``ERR_MALFORMED_REQUEST`` for what that decoder refuses: not JSON, not an array, an
    operation that is not an object (or null), an ``operation`` that is not a string.

    daprd decodes the body before it looks at the actor (``onActorStateTransaction``), so these
    mistakes are named even for an actor that is not active; ``transaction_writes`` checks the
    rest once the actor is known to be active.
    """
    try:
        operations = from_go_json(body) if body.strip() else None
    except ValueError as error:
        raise malformed(f"body is not JSON: {error}") from None
    if not isinstance(operations, list):
        raise malformed(
            "a state transaction is a JSON array of operations, e.g. "
            '[{"operation": "upsert", "request": {"key": "k", "value": 1}}]'
        )
    for index, operation in enumerate(operations):
        if operation is None:
            continue
        if not isinstance(operation, dict):
            raise malformed(f"operation {index} must be an object with 'operation' and 'request'")
        kind = _case_insensitive(operation).get("operation")
        if kind is not None and not isinstance(kind, str):
            raise malformed(f"operation {index}: 'operation' must be a string, not {kind!r}")
    return operations


def transaction_writes(operations: list[Any], key_of: KeyOf) -> list[StateWrite]:
    """The writes of ``decode_transaction``'s operations, or a ``DaprError`` naming what is
    wrong with one of them."""
    return [_parse_operation(op, index, key_of) for index, op in enumerate(operations)]


def _parse_operation(operation: Any, index: int, key_of: KeyOf) -> StateWrite:
    where = f"operation {index}"
    if not isinstance(operation, dict):
        raise malformed(f"{where} must be an object with 'operation' and 'request'")
    fields = _case_insensitive(operation)
    kind = fields.get("operation")
    request = fields.get("request")
    if kind not in ("upsert", "delete"):
        raise malformed(f"{where}: operation type {kind!r} not supported (upsert or delete)")
    if not isinstance(request, dict):
        raise malformed(f"{where}: 'request' must be an object with a 'key'")
    request = _case_insensitive(request)
    key = request.get("key")
    if not isinstance(key, str) or not key:
        raise malformed(f"{where}: missing key (a non-empty string)")
    if not is_text(key):
        raise malformed(f"{where}: key {key!r} holds {_surrogate_in(key)}; use valid Unicode")
    etag = request.get("etag")
    if etag is not None and not isinstance(etag, str):
        raise malformed(f"{where}: etag must be a string")
    if kind == "delete":
        return StateWrite(key_of(key), None)
    try:
        value = go_json(request.get("value"))
    except ValueError as error:
        raise malformed(f"{where}: value for key {key!r}: {error}") from None
    return StateWrite(key_of(key), value, _ttl(request.get("metadata"), where))


def _case_insensitive(fields: dict[str, Any]) -> dict[str, Any]:
    return {name.lower(): value for name, value in fields.items()}


def _ttl(metadata: Any, where: str) -> int | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise malformed(f"{where}: metadata must be an object of strings")
    ttl = metadata.get("ttlInSeconds")
    if ttl is None:
        return None
    if not _GO_INT.fullmatch(ttl):
        raise malformed(f"{where}: ttlInSeconds {_shown(ttl)} is not an integer")
    seconds = int(ttl)
    if seconds not in _INT64:
        raise malformed(
            f"{where}: ttlInSeconds {_shown(ttl)} is out of range: use at most "
            f"{_MAX_TTL_SECONDS} seconds (about 68 years), or -1 for no expiry"
        )
    if seconds < 0:
        return None  # -1 means "never expires", as in Dapr
    return min(seconds, _MAX_TTL_SECONDS)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 24 else f"{text[:20]!r}… ({len(text)} characters)"
