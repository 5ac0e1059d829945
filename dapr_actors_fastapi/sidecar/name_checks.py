"""The names in the sidecar API's paths, refused with daprd's own words.

daprd runs ``ValidateName`` on actor types and ids (invoke route) and on reminder and timer
names (create routes), and ``NormalizeMethod`` on methods (``pkg/messaging/method/normalize.go``;
docs/protocol.md §7.1). A refused name is ``400 ERR_BAD_REQUEST`` with the error's text after
``invalid request:``, e.g. ``invalid request: invalid actorId: name contains forbidden
character: "../../evil"``. The rule itself is ``_wire/names.py``'s, shared with the app side.
"""

from __future__ import annotations

import re

from .._wire.names import control_character_at, go_quote, is_valid_name, normalize_method
from .errors import bad_request
from .state import is_text

_FORBIDDEN = re.compile(r"[#?\x00/\\]")


def name_problem(name: str) -> str | None:
    """Why ``ValidateName`` refuses ``name``, in its words, or ``None`` if it accepts it."""
    if is_valid_name(name):
        return None
    if _FORBIDDEN.search(name):
        return f"name contains forbidden character: {go_quote(name)}"
    at = control_character_at(name)  # NUL is a forbidden character, found above
    if at is not None:
        return f"name contains control character at position {at}: {go_quote(name)}"
    if name in (".", ".."):
        return f"name is a path traversal sequence: {go_quote(name)}"
    # Only the empty name is left, which no route can match; say so rather than nothing.
    return "name is empty"


def checked_name(name: str, what: str | None = None) -> str:
    """``name`` if daprd accepts it, else 400 ``ERR_BAD_REQUEST`` in daprd's words; ``what``
    prefixes them as daprd's invoke route does (``invalid actorId: …``)."""
    problem = name_problem(name)
    if problem is not None:
        raise bad_request(problem if what is None else f"invalid {what}: {problem}")
    return utf8(name, what or "name")


def checked_method(method: str) -> str:
    """``method`` as daprd's ``NormalizeMethod`` leaves it (``admin/../legit`` is ``legit``),
    else 400 ``ERR_BAD_REQUEST`` in daprd's words. A method that cleans to nothing is refused
    too, where daprd would call the app's bare method path (docs/protocol.md §13.1)."""
    try:
        cleaned = normalize_method(method)
    except ValueError as error:
        raise bad_request(str(error)) from None
    if not cleaned:
        raise bad_request(f"invalid method: {go_quote(method)} names no method once cleaned")
    return utf8(cleaned, "method")


def utf8(name: str, what: str) -> str:
    """``name`` unless its escapes decoded to bytes that are not UTF-8 (``%FF``)."""
    if not is_text(name):
        shown = name.encode("utf-8", "surrogateescape")
        raise bad_request(f"invalid {what}: {shown!r} is not UTF-8 once unescaped")
    return name
