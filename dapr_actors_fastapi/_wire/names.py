"""daprd's rules for the names it reads from URLs (docs/protocol.md §7.1, §8.1): ``ValidateName``
for actor types and ids, reminder and timer names, and ``NormalizeMethod`` for the methods of
actor calls and service invocation. One check each, so that a name this package accepts
anywhere is one the sidecar accepts too."""

from __future__ import annotations

import re

# '/' is refused for methods too, where it would be ambiguous with the remind/ and timer/
# callback paths.
_INVALID_NAME = re.compile(r"[/\\#?\x00-\x1f\x7f]")

# What NormalizeMethod refuses outright; "/" is a path separator in a method, not a refusal.
_FORBIDDEN_IN_METHOD = frozenset("#?\x00")
_CONTROL = re.compile(r"[\x01-\x1f\x7f]")

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}

RESERVED_TYPE_PREFIX = "dapr.internal."
"""Actor types under this prefix belong to Dapr itself (workflows)."""


def is_valid_name(name: str) -> bool:
    """Whether daprd's ``ValidateName`` accepts ``name``."""
    return bool(name) and name not in (".", "..") and _INVALID_NAME.search(name) is None


def checked_name(what: str, name: object) -> str:
    """``name`` if daprd accepts it in a URL; ``TypeError`` or ``ValueError`` naming it."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__} {name!r}")
    if not is_valid_name(name):
        raise ValueError(
            f"{what} {name!r} is not valid: it must be a non-empty string without '/', '\\', "
            "'#', '?' or control characters, and not '.' or '..'"
        )
    return name


def normalize_method(method: str) -> str:
    """daprd's ``NormalizeMethod`` (``pkg/messaging/method/normalize.go``): ``ValueError`` for a
    method holding ``#``, ``?``, NUL or a control character (the message as daprd words it),
    else the method with its dot segments resolved as Go's ``path.Clean`` does, without the
    leading ``../`` that would climb above the target's root. ``""`` when nothing is left.

    ``method`` is percent-decoded already, so ``admin%2F..%2Fpublic`` arrives here as
    ``admin/../public`` and comes back as ``public``.
    """
    quoted = go_quote(method)
    if any(char in _FORBIDDEN_IN_METHOD for char in method):
        raise ValueError(f"method contains forbidden character: {quoted}")
    position = control_character_at(method)
    if position is not None:
        raise ValueError(f"method contains control character at position {position}: {quoted}")
    cleaned = go_path_clean(method)
    while cleaned.startswith("../"):
        cleaned = cleaned[3:]
    return "" if cleaned in (".", "..") else cleaned


def control_character_at(text: str) -> int | None:
    """Where the first control character other than NUL is in ``text``, as a byte offset in
    UTF-8 (Go's string index, which daprd's messages give), or ``None``."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    return len(text[: found.start()].encode("utf-8", "surrogateescape"))


def go_path_clean(path: str) -> str:
    """Go's ``path.Clean``: no empty or ``.`` segments, each ``..`` removes the segment before
    it (above the root of a rooted path it is dropped; a relative path keeps it), no trailing
    ``/``, and ``"."`` for an empty result. Unlike ``posixpath.normpath``, ``//a`` is ``/a``."""
    rooted = path.startswith("/")
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment != "..":
            segments.append(segment)
        elif segments and segments[-1] != "..":
            segments.pop()
        elif not rooted:
            segments.append("..")
    joined = "/".join(segments)
    if rooted:
        return "/" + joined
    return joined or "."


def go_quote(text: str) -> str:
    """``text`` as Go's ``%q`` prints it: double quotes, Go's escapes for what is not printable;
    bytes that were not UTF-8 (lone surrogates here) as ``\\xNN``."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable() or char == " ":
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
