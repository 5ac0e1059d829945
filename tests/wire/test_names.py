"""daprd's ``NormalizeMethod`` and Go's ``path.Clean`` as ``_wire/names.py`` reproduces them
(docs/protocol.md §7.1, §8.1); expected values are those Go gives for the same input."""

from __future__ import annotations

import re

import pytest

from dapr_actors_fastapi._wire.names import go_path_clean, normalize_method


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("a//b/", "a/b"),
        ("//a", "/a"),
        ("/../a", "/a"),
        ("a/../..", ".."),
        ("../a/../..", "../.."),
        ("a/./b/../c", "a/c"),
        ("/", "/"),
    ],
)
def test_go_path_clean(path: str, cleaned: str) -> None:
    assert go_path_clean(path) == cleaned


@pytest.mark.parametrize(
    ("method", "normalized"),
    [
        ("admin/../public", "public"),
        ("../../secret", "secret"),
        ("..", ""),
        (".", ""),
        ("", ""),
        ("../..", ""),
        ("a b/%", "a b/%"),  # a '%' is left to the URL builder, as in daprd
    ],
)
def test_normalize_method_resolves_dot_segments(method: str, normalized: str) -> None:
    assert normalize_method(method) == normalized


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("a#b", 'method contains forbidden character: "a#b"'),
        ("a?b", 'method contains forbidden character: "a?b"'),
        ("a\x00b", 'method contains forbidden character: "a\\x00b"'),
        ("é\tx", 'method contains control character at position 2: "é\\tx"'),
        ("a\x7f", 'method contains control character at position 1: "a\\x7f"'),
    ],
)
def test_normalize_method_refuses_what_daprd_refuses(method: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        normalize_method(method)
