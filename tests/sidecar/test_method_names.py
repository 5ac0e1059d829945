"""Methods named in a URL are normalized as daprd's ``NormalizeMethod`` does (docs/protocol.md
§7.1, §8.1): after percent-decoding, ``#``, ``?``, NUL and control characters are refused, and
dot segments are resolved rather than refused, never climbing above the target's root.

The cases are those of daprd's integration tests
``tests/integration/suite/daprd/serviceinvocation/http/reservedchars/pathcorrectness.go`` and
``tests/integration/suite/actors/call/methodinjection.go``, sent over real loopback HTTP, byte
for byte, to the dev sidecar in front of an app that reports the path it was called on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yarl
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from dapr_actors_fastapi import Actor, ActorRuntime, current_turn, method
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app

APP_ID = "callee"


def reporting_app() -> Any:
    """An actor app whose actor and catch-all route both answer with the path they were
    reached on, as the Go handler of daprd's test does (``path|query``, decoded)."""
    runtime = ActorRuntime()

    @runtime.actor("mytype")
    class MyType(Actor):
        @method
        async def legit(self) -> str:
            turn = current_turn()
            assert turn is not None
            return f"/actors/mytype/{self.id}/method/{turn.name}"

        @method
        async def secret(self) -> str:
            return "secret"

    app = make_app(runtime)

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def report(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{request.scope['path']}|{request.url.query}")

    return app


@dataclass
class Sidecar:
    http: aiohttp.ClientSession
    base: str

    async def send(
        self, verb: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """``path`` exactly as written: no re-encoding, no dot-segment removal by the client."""
        url = yarl.URL(self.base + path, encoded=True)
        async with self.http.request(verb, url, headers=headers) as response:
            return response.status, await response.text()

    async def error(
        self, verb: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str]]:
        url = yarl.URL(self.base + path, encoded=True)
        async with self.http.request(verb, url, headers=headers) as response:
            assert response.headers["content-type"] == "application/json"
            body: dict[str, str] = await response.json()
            assert set(body) == {"errorCode", "message"}, body
            return response.status, body


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sidecar() -> AsyncIterator[Sidecar]:
    async with (
        ActorTestEnv(reporting_app(), app_id=APP_ID) as env,
        aiohttp.ClientSession() as http,
    ):
        yield Sidecar(http, env.sidecar_url)


INVOKE = f"/v1.0/invoke/{APP_ID}/method/"


# -- service invocation (§8.1) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "refusal"),
    [
        ("test%23stream", 'forbidden character: "test#stream"'),
        ("test%3Fstream", 'forbidden character: "test?stream"'),
        ("test%00stream", 'forbidden character: "test\\x00stream"'),  # Go's %q
        ("test%0Dstream", 'control character at position 4: "test\\rstream"'),
        ("a%23b%3Fc%25d", 'forbidden character: "a#b?c%d"'),
    ],
)
async def test_reserved_characters_in_an_invoked_method_are_500(
    sidecar: Sidecar, method: str, refusal: str
) -> None:
    for path, headers in ((INVOKE + method, None), ("/" + method, {"dapr-app-id": APP_ID})):
        status, error = await sidecar.error("GET", path, headers)
        assert (status, error["errorCode"]) == (500, "ERR_DIRECT_INVOKE"), (path, error)
        assert error["message"].startswith(f"failed to invoke, id: {APP_ID}, err: "), error
        assert error["message"].endswith(refusal), error


@pytest.mark.parametrize("method", ["test%25stream", "test%2541"])
async def test_a_decoded_percent_in_an_invoked_method_is_500(sidecar: Sidecar, method: str) -> None:
    # daprd: Go cannot build a URL from "test%stream" (500); "test%41" would reach the app as
    # "testA", decoded twice, which the dev sidecar refuses as well (docs/protocol.md §13.1).
    for path, headers in ((INVOKE + method, None), ("/" + method, {"dapr-app-id": APP_ID})):
        status, error = await sidecar.error("GET", path, headers)
        assert (status, error["errorCode"]) == (500, "ERR_DIRECT_INVOKE"), (path, error)
        assert "a '%' (sent as %25) cannot be passed on" in error["message"], error


@pytest.mark.parametrize(
    ("method", "reaches"),
    [
        ("test%22stream", '/test"stream|'),
        ("test%2Astream", "/test*stream|"),
        ("test%5Cstream", "/test\\stream|"),
        ("admin%2F..%2Fpublic", "/public|"),
        ("..%2F..%2Fpublic", "/public|"),  # cannot climb above the target's root
        ("test#stream", "/test|"),  # a literal "#" ends the path at the client
        ("test?stream", "/test|stream"),  # a literal "?" starts the query
        ('test"stream', '/test"stream|'),
        ("test*stream", "/test*stream|"),
    ],
)
async def test_other_characters_and_traversal_reach_the_app_cleaned(
    sidecar: Sidecar, method: str, reaches: str
) -> None:
    if "#" in method:  # what a client sends: the fragment never leaves it
        method = method.partition("#")[0]
    assert await sidecar.send("GET", INVOKE + method) == (200, reaches)


@pytest.mark.parametrize(
    ("path", "reaches"),
    [
        ("/mymethod", "/mymethod|"),
        ("/admin/../public", "/public|"),
        ("/admin%2F..%2Fpublic", "/public|"),
        ("/../../public", "/public|"),
    ],
)
async def test_the_dapr_app_id_header_form_is_cleaned_the_same_way(
    sidecar: Sidecar, path: str, reaches: str
) -> None:
    assert await sidecar.send("GET", path, {"dapr-app-id": APP_ID}) == (200, reaches)


# -- actor methods (§7.1) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["admin%2F..%2Flegit", "..%2F..%2Flegit", "legit%2F.", "legit?redirect=x.com"]
)
async def test_traversal_in_an_actor_method_is_resolved(sidecar: Sidecar, method: str) -> None:
    status, body = await sidecar.send("PUT", f"/v1.0/actors/mytype/1/method/{method}")
    assert (status, body) == (200, '"/actors/mytype/1/method/legit"')


@pytest.mark.parametrize(
    ("method", "refusal"),
    [
        ("legit%3Fredirect=x.com", 'forbidden character: "legit?redirect=x.com"'),
        ("legit%23fragment", 'forbidden character: "legit#fragment"'),
        ("legit%00evil", 'forbidden character: "legit\\x00evil"'),
        ("legit%0Devil", 'control character at position 5: "legit\\revil"'),
        ("..", "names no method once cleaned"),
    ],
)
async def test_reserved_characters_in_an_actor_method_are_400(
    sidecar: Sidecar, method: str, refusal: str
) -> None:
    status, error = await sidecar.error("PUT", f"/v1.0/actors/mytype/1/method/{method}")
    assert (status, error["errorCode"]) == (400, "ERR_BAD_REQUEST"), error
    assert error["message"].startswith("invalid request: "), error
    assert refusal in error["message"], error
