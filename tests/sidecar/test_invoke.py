"""Service invocation through the dev sidecar (docs/protocol.md §8, policy P10, the seed's examples).

Everything runs over real loopback HTTP: an aiohttp client calls a small sidecar app that routes
every path to ``ServiceInvoker.handle``, which calls ``samples.math_service`` or an echo app, each
under uvicorn.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import yarl
from multidict import CIMultiDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dapr_actors_fastapi.sidecar import SidecarSettings
from dapr_actors_fastapi.sidecar.invoke import VERBS, AnyVerb, ServiceInvoker
from dapr_actors_fastapi.sidecar.resources import ResourceError
from samples import math_service

from ..helpers import serve

SEED_BODY = {"arg1": 10, "arg2": 23}
NO_TARGET = "failed getting app id either from the URL path or the header dapr-app-id"


# -- the apps behind the sidecar ------------------------------------------------------------


async def echo(request: Request) -> Response:
    """Answers with what it received, exactly as it arrived."""
    seen = {
        "method": request.method,
        "path": request.scope["raw_path"].decode("latin-1"),
        "query": request.scope["query_string"].decode("latin-1"),
        "headers": request.headers.items(),
        "body": (await request.body()).decode("latin-1"),
    }
    return JSONResponse(seen, headers={"x-seen-method": request.method})


async def status(request: Request) -> Response:
    code = request.path_params["code"]
    headers = {"x-custom": "kept", "keep-alive": "timeout=5", "proxy-authenticate": "Basic"}
    response = PlainTextResponse(f"answered {code}", status_code=code, headers=headers)
    response.headers.append("set-cookie", "a=1")
    response.headers.append("set-cookie", "b=2")
    return response


async def redirect(request: Request) -> Response:
    return RedirectResponse("/elsewhere", status_code=302)


def echo_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/status/{code:int}", status, methods=["POST"]),
            Route("/redirect", redirect),
            Route("/{path:path}", AnyVerb(echo)),  # every verb, even PROPFIND
        ]
    )


@pytest.fixture
async def math_url() -> AsyncIterator[str]:
    async with serve(math_service.app) as url:
        yield url


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    async with serve(echo_app()) as url:
        yield url


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A loopback port that is bound but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# -- the sidecar under test -----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: CIMultiDict[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    def seen_headers(self, name: str) -> list[str]:
        """The values of header ``name`` that reached the echo app."""
        return [v for k, v in self.json()["headers"] if k == name.lower()]

    def error(self) -> dict[str, str]:
        body: dict[str, str] = self.json()
        assert set(body) == {"errorCode", "message"}, body
        assert self.headers["content-type"] == "application/json"
        return body


@dataclass
class Client:
    http: aiohttp.ClientSession
    base: str

    async def call(self, verb: str, path: str, **kwargs: Any) -> Answer:
        # encoded=True: the path goes out byte for byte (no re-quoting, no dot-segment removal).
        url = yarl.URL(self.base + path, encoded=True)
        async with self.http.request(verb, url, allow_redirects=False, **kwargs) as response:
            return Answer(response.status, response.headers.copy(), await response.read())


@contextlib.asynccontextmanager
async def sidecar(**settings: Any) -> AsyncIterator[Client]:
    """A sidecar app whose every route is service invocation, served on a loopback port."""
    defaults: dict[str, Any] = {
        "app_url": "http://127.0.0.1:9",
        "app_id": "caller",
        "state_db": ":memory:",
        "api_token": None,  # hermetic: not from DAPR_API_TOKEN / APP_API_TOKEN
        "app_api_token": None,
    }
    invoker = ServiceInvoker(SidecarSettings(**(defaults | settings)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await invoker.open()
        try:
            yield
        finally:
            await invoker.close()

    app = Starlette(routes=[Route("/{path:path}", AnyVerb(invoker.handle))], lifespan=lifespan)
    async with serve(app) as url, aiohttp.ClientSession() as http:
        yield Client(http, url)


def write_endpoint(folder: Path, name: str, base_url: str, headers: str = "") -> None:
    (folder / f"{name}.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\n"
        "kind: HTTPEndpoint\n"
        f"metadata:\n  name: {name}\n"
        f"spec:\n  baseUrl: {base_url}\n" + headers
    )


# -- the seed's examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "namespace"),
    [
        ("/v1.0/invoke/mathService/method/add", "default"),
        ("/v1.0/invoke/mathService/method/api/v1/add", "default"),
        ("/v1.0/invoke/mathService.testing/method/api/v1/add", "testing"),
    ],
)
async def test_seed_examples_for_an_app_id(math_url: str, path: str, namespace: str) -> None:
    async with sidecar(apps={"mathService": math_url}, namespace=namespace) as client:
        answer = await client.call("POST", path, json=SEED_BODY)
    assert (answer.status, answer.text) == (200, "33")
    assert answer.headers["content-type"].startswith("text/plain")


async def test_seed_example_for_an_http_endpoint(math_url: str, tmp_path: Path) -> None:
    (tmp_path / "statestore.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
        "spec:\n  type: state.in-memory\n  version: v1\n"
    )
    write_endpoint(tmp_path, "mathHTTPEndpoint", math_url)
    async with sidecar(resources_path=str(tmp_path)) as client:
        answer = await client.call(
            "POST", "/v1.0/invoke/mathHTTPEndpoint/method/add", json=SEED_BODY
        )
    assert (answer.status, answer.text) == (200, "33")


@pytest.mark.parametrize("encode", [False, True], ids=["literal", "percent-encoded"])
async def test_seed_example_for_a_url(math_url: str, encode: bool) -> None:
    target = quote(math_url, safe="") if encode else math_url
    async with sidecar() as client:
        answer = await client.call("POST", f"/v1.0/invoke/{target}/method/add", json=SEED_BODY)
    assert (answer.status, answer.text) == (200, "33")


async def test_math_service_prints_numbers_as_javascript_does(math_url: str) -> None:
    async with sidecar(apps={"mathService": math_url}) as client:
        path = "/v1.0/invoke/mathService/method/add"
        fraction = await client.call("POST", path, json={"arg1": 1.5, "arg2": 2, "operator": "+"})
        whole = await client.call("POST", path, json={"arg1": 10.5, "arg2": "0.5"})
    assert (fraction.text, whole.text) == ("3.5", "11")


# -- addressing (§8.1) ----------------------------------------------------------------------


async def test_the_dapr_app_id_header_addresses_any_path(echo_url: str) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        plain = await client.call("GET", "/api/v1/items?x=1", headers={"dapr-app-id": "echo"})
        # The header wins over the path form; the whole path is the method.
        both = await client.call(
            "GET", "/v1.0/invoke/other/method/x", headers={"Dapr-App-Id": "echo"}
        )
    assert (plain.json()["path"], plain.json()["query"]) == ("/api/v1/items", "x=1")
    assert plain.seen_headers("dapr-app-id") == []
    assert both.json()["path"] == "/v1.0/invoke/other/method/x"


@pytest.mark.parametrize("user", ["dapr-app-id", "DAPR-APP-ID"])
async def test_basic_auth_addresses_any_path_and_is_forwarded(echo_url: str, user: str) -> None:
    authorization = "Basic " + base64.b64encode(f"{user}:echo".encode()).decode()
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", "/orders/7", headers={"Authorization": authorization})
    assert answer.json()["path"] == "/orders/7"
    assert answer.seen_headers("authorization") == [authorization]


async def test_ordinary_basic_credentials_name_no_target(echo_url: str) -> None:
    authorization = "Basic " + base64.b64encode(b"alice:secret").decode()
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", "/orders/7", headers={"Authorization": authorization})
    assert answer.status == 404
    assert answer.error() == {"errorCode": "ERR_DIRECT_INVOKE", "message": NO_TARGET}


@pytest.mark.parametrize(
    "path",
    [
        "/v1.0/invoke/mathService",
        "/v1.0/invoke/mathService/add",
        "/v1.0/invoke/mathService/method",
        "/v1.0/invoke//method/add",
        "/not/an/invoke/path",
    ],
)
async def test_a_request_without_a_target_is_404(math_url: str, path: str) -> None:
    async with sidecar(apps={"mathService": math_url}) as client:
        answer = await client.call("POST", path, json=SEED_BODY)
    assert answer.status == 404
    assert answer.error() == {"errorCode": "ERR_DIRECT_INVOKE", "message": NO_TARGET}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1.0/invoke/mathService/method/", {}),
        ("/v1.0/invoke/mathService/method/.", {}),
        ("/", {"dapr-app-id": "mathService"}),
    ],
)
async def test_an_empty_method_is_400(math_url: str, path: str, headers: dict[str, str]) -> None:
    async with sidecar(apps={"mathService": math_url}) as client:
        answer = await client.call("POST", path, json=SEED_BODY, headers=headers)
    assert answer.status == 400
    error = answer.error()
    assert error["errorCode"] == "ERR_DIRECT_INVOKE"
    assert "method name not given for 'mathService'" in error["message"]
    assert "/v1.0/invoke/mathService/method/<method>" in error["message"]


@pytest.mark.parametrize(
    ("method", "arrives_as"),
    [
        ("api/v1/items", "/api/v1/items"),
        ("api//v1/items/", "/api/v1/items"),
        ("a/./b/../c", "/a/c"),
        ("../../etc/passwd", "/etc/passwd"),  # cannot climb above the target's root
        ("files/a%20b", "/files/a%20b"),
        ("files/a%2Fb", "/files/a/b"),  # as daprd: an encoded slash becomes a real one
    ],
)
async def test_nested_methods_are_cleaned_and_re_encoded(
    echo_url: str, method: str, arrives_as: str
) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", f"/v1.0/invoke/echo/method/{method}")
    assert answer.json()["path"] == arrives_as


async def test_query_strings_pass_through_byte_for_byte(echo_url: str) -> None:
    query = "b=2&a=x%20y&a=%2B+1&flag&empty="
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", f"/v1.0/invoke/echo/method/items/search?{query}")
    assert (answer.json()["path"], answer.json()["query"]) == ("/items/search", query)


async def test_the_own_app_is_a_target_with_or_without_namespace(echo_url: str) -> None:
    async with sidecar(app_id="self", app_url=echo_url, namespace="prod") as client:
        short = await client.call("GET", "/v1.0/invoke/self/method/ping")
        long = await client.call("GET", "/v1.0/invoke/self.prod/method/ping")
    assert short.json()["path"] == long.json()["path"] == "/ping"


# -- sidecar errors (§8.3) ------------------------------------------------------------------


async def test_an_unknown_app_id_names_it_and_how_to_register_it(math_url: str) -> None:
    async with sidecar(apps={"mathService": math_url}) as client:
        answer = await client.call("POST", "/v1.0/invoke/nope/method/add", json=SEED_BODY)
    assert answer.status == 500
    error = answer.error()
    assert error["errorCode"] == "ERR_DIRECT_INVOKE"
    assert error["message"].startswith("failed to invoke, id: nope, err: app id 'nope'")
    assert "--app nope=URL" in error["message"]
    assert "known: caller, mathService" in error["message"]


async def test_an_app_id_in_another_namespace_is_unknown(math_url: str) -> None:
    async with sidecar(apps={"mathService": math_url}, namespace="testing") as client:
        answer = await client.call("POST", "/v1.0/invoke/mathService.prod/method/add")
    assert answer.status == 500
    message = answer.error()["message"]
    assert message.startswith("failed to invoke, id: mathService.prod, err: ")
    assert "namespace 'prod'" in message
    assert "--app mathService.prod=URL" in message


async def test_apps_in_other_namespaces_are_reachable_by_their_qualified_name(
    math_url: str, echo_url: str
) -> None:
    apps = {"mathService.testing": math_url, "echo.prod": echo_url}
    async with sidecar(apps=apps, namespace="prod") as client:
        qualified = await client.call(
            "POST", "/v1.0/invoke/mathService.testing/method/add", json=SEED_BODY
        )
        own_namespace = await client.call("GET", "/v1.0/invoke/echo/method/ping")
        own_namespace_qualified = await client.call("GET", "/v1.0/invoke/echo.prod/method/ping")
        unqualified = await client.call("POST", "/v1.0/invoke/mathService/method/add")
    assert (qualified.status, qualified.text) == (200, "33")
    for answer in (own_namespace, own_namespace_qualified):
        assert answer.json()["path"] == "/ping"
        assert answer.seen_headers("dapr-callee-app-id") == ["echo"]
        assert answer.seen_headers("dapr-caller-namespace") == ["prod"]
    assert unqualified.status == 500
    assert "in namespace 'prod' is not known" in unqualified.error()["message"]


async def test_an_app_id_with_two_dots_is_invalid(math_url: str) -> None:
    async with sidecar(apps={"mathService": math_url}) as client:
        answer = await client.call("POST", "/v1.0/invoke/mathService.a.b/method/add")
    assert answer.status == 500
    assert answer.error() == {
        "errorCode": "ERR_DIRECT_INVOKE",
        "message": "failed to invoke, id: mathService.a.b, err: invalid app id "
        "mathService.a.b: use <app-id> or <app-id>.<namespace>",
    }


async def test_an_unreachable_app_is_500(closed_url: str) -> None:
    async with sidecar(apps={"ghost": closed_url}) as client:
        by_id = await client.call("POST", "/v1.0/invoke/ghost/method/add", json=SEED_BODY)
        by_url = await client.call("POST", f"/v1.0/invoke/{closed_url}/method/add")
    port = closed_url.rsplit(":", 1)[1]
    for answer, target in ((by_id, "ghost"), (by_url, closed_url)):
        assert answer.status == 500
        error = answer.error()
        assert error["errorCode"] == "ERR_DIRECT_INVOKE"
        assert error["message"].startswith(f"failed to invoke, id: {target}, err: ")
        assert port in error["message"]


@pytest.mark.parametrize(
    ("path", "complaint"),
    [
        ("/v1.0/invoke/http%3A%2F%2F/method/x", "err: invalid URL 'http://'"),
        ("/v1.0/invoke/http%3A%2F%2Fh%3Fq%3D1/method/x", "err: invalid URL 'http://h?q=1'"),
    ],
)
async def test_invalid_methods_and_urls_are_500(echo_url: str, path: str, complaint: str) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", path)
    assert answer.status == 500
    error = answer.error()
    assert error["errorCode"] == "ERR_DIRECT_INVOKE"
    assert complaint in error["message"]


async def test_control_characters_in_a_method_are_refused() -> None:
    # Starlette's {path:path} never matches a decoded newline, so no route reaches handle() with
    # one over HTTP; a router that sends everything to handle() would, hence the direct call.
    invoker = ServiceInvoker(SidecarSettings(app_url="http://127.0.0.1:9", app_id="self"))
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1.0/invoke/self/method/a\nb",
        "query_string": b"",
        "headers": [],
    }
    answer = await invoker.handle(Request(scope))
    assert answer.status_code == 500
    assert json.loads(answer.body) == {
        "errorCode": "ERR_DIRECT_INVOKE",
        "message": "failed to invoke, id: self, err: rpc error: code = InvalidArgument desc = "
        'invalid method: method contains control character at position 1: "a\\nb"',
    }


async def test_a_body_over_the_limit_is_413(echo_url: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"12345"
        yield b"67890"

    async with sidecar(apps={"echo": echo_url}, max_body_size=8) as client:
        announced = await client.call("POST", "/v1.0/invoke/echo/method/x", data=b"123456789")
        chunked = await client.call("POST", "/v1.0/invoke/echo/method/x", data=chunks())
        fits = await client.call("POST", "/v1.0/invoke/echo/method/x", data=b"12345678")
    for answer in (announced, chunked):
        assert answer.status == 413
        assert answer.error() == {"errorCode": "ERR_BODY_TOO_LARGE", "message": "stream too large"}
    assert fits.json()["body"] == "12345678"


# -- what reaches the target (§8.2) ---------------------------------------------------------


@pytest.mark.parametrize("verb", sorted(VERBS))
async def test_verbs_pass_through(echo_url: str, verb: str) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call(verb, "/v1.0/invoke/echo/method/thing")
    assert answer.status == 200
    assert answer.headers["x-seen-method"] == verb


async def test_other_verbs_become_post(echo_url: str) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("PROPFIND", "/v1.0/invoke/echo/method/thing", data=b"<x/>")
    assert (answer.json()["method"], answer.json()["body"]) == ("POST", "<x/>")


async def test_body_and_content_type_pass_through(echo_url: str) -> None:
    payload = bytes(range(256))
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call(
            "PUT",
            "/v1.0/invoke/echo/method/blob",
            data=payload,
            headers={"Content-Type": "application/x-custom", "X-Trace": "t1"},
        )
    assert answer.json()["body"].encode("latin-1") == payload
    assert answer.seen_headers("content-type") == ["application/x-custom"]
    assert answer.seen_headers("content-length") == ["256"]
    assert answer.seen_headers("x-trace") == ["t1"]


async def test_hop_by_hop_request_headers_are_dropped(echo_url: str) -> None:
    headers = {
        "Connection": "keep-alive, X-Drop-Me",
        "X-Drop-Me": "1",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic eDp5",
        "TE": "trailers",
        "X-Keep-Me": "1",
    }
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", "/v1.0/invoke/echo/method/x", headers=headers)
    for name in ("x-drop-me", "keep-alive", "proxy-authorization", "te"):
        assert answer.seen_headers(name) == [], name
    assert answer.seen_headers("x-keep-me") == ["1"]
    # The target sees its own host, not the sidecar's.
    assert answer.seen_headers("host") == [echo_url.removeprefix("http://")]


async def test_caller_and_callee_headers_for_app_ids_replace_the_callers(echo_url: str) -> None:
    forged = {"Dapr-Caller-App-Id": "forged", "dapr-callee-app-id": "forged"}
    async with sidecar(app_id="self", app_url=echo_url, apps={"echo": echo_url}) as client:
        remote = await client.call("GET", "/v1.0/invoke/echo/method/x", headers=forged)
        local = await client.call("GET", "/v1.0/invoke/self/method/x", headers=forged)
    for answer, callee in ((remote, "echo"), (local, "self")):
        assert answer.seen_headers("dapr-caller-app-id") == ["self"]
        assert answer.seen_headers("dapr-caller-namespace") == ["default"]
        assert answer.seen_headers("dapr-callee-app-id") == [callee]


async def test_external_targets_get_no_caller_headers_and_endpoint_headers_win(
    echo_url: str, tmp_path: Path
) -> None:
    spec_headers = "  headers:\n    - name: X-Api-Key\n      value: from-spec\n"
    spec_headers += "    - name: X-Retries\n      value: 3\n"
    write_endpoint(tmp_path, "echoEndpoint", echo_url + "/base/", spec_headers)
    # Same casing: aiohttp's client keeps only the last of names differing in case only.
    caller = CIMultiDict([("x-api-key", "from-caller"), ("x-api-key", "again")])
    async with sidecar(resources_path=str(tmp_path)) as client:
        endpoint = await client.call(
            "GET", "/v1.0/invoke/echoEndpoint/method/../v1/x?q=1", headers=caller
        )
        url = await client.call("GET", f"/v1.0/invoke/{echo_url}/method/x", headers=caller)
    assert (endpoint.json()["path"], endpoint.json()["query"]) == ("/base/v1/x", "q=1")
    assert endpoint.seen_headers("x-api-key") == ["from-spec"]
    assert endpoint.seen_headers("x-retries") == ["3"]
    assert url.seen_headers("x-api-key") == ["from-caller", "again"]
    for answer in (endpoint, url):
        for name in ("dapr-caller-app-id", "dapr-caller-namespace", "dapr-callee-app-id"):
            assert answer.seen_headers(name) == [], name


async def test_tokens_the_callers_is_dropped_the_own_apps_is_set(echo_url: str) -> None:
    tokens = {"api_token": "sidecar-token", "app_api_token": "app-token"}
    async with sidecar(app_id="self", app_url=echo_url, apps={"other": echo_url}, **tokens) as c:
        own = await c.call("GET", "/v1.0/invoke/self/method/x", headers={"dapr-api-token": "t"})
        other = await c.call("GET", "/v1.0/invoke/other/method/x", headers={"dapr-api-token": "t"})
    assert own.seen_headers("dapr-api-token") == ["app-token"]
    assert other.seen_headers("dapr-api-token") == []


async def test_without_a_sidecar_token_the_callers_token_passes(echo_url: str) -> None:
    async with sidecar(apps={"other": echo_url}) as client:
        answer = await client.call(
            "GET", "/v1.0/invoke/other/method/x", headers={"dapr-api-token": "theirs"}
        )
    assert answer.seen_headers("dapr-api-token") == ["theirs"]


# -- what comes back (§8.3) -----------------------------------------------------------------


@pytest.mark.parametrize("code", [200, 201, 409, 502])
async def test_status_headers_and_body_come_back_verbatim(echo_url: str, code: int) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("POST", f"/v1.0/invoke/echo/method/status/{code}")
    assert (answer.status, answer.text) == (code, f"answered {code}")
    assert answer.headers["x-custom"] == "kept"
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers.getall("set-cookie") == ["a=1", "b=2"]
    # Hop-by-hop headers stop at the sidecar.
    assert "proxy-authenticate" not in answer.headers
    assert "keep-alive" not in answer.headers


async def test_redirects_are_returned_not_followed(echo_url: str) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        answer = await client.call("GET", "/v1.0/invoke/echo/method/redirect")
    assert (answer.status, answer.headers["location"]) == (302, "/elsewhere")


async def test_cookies_from_one_call_do_not_leak_into_the_next(echo_url: str) -> None:
    async with sidecar(apps={"echo": echo_url}) as client:
        await client.call("POST", "/v1.0/invoke/echo/method/status/200")
        # A fresh client session, so only the sidecar could have kept the cookie.
        async with aiohttp.ClientSession() as fresh:
            answer = await Client(fresh, client.base).call("GET", "/v1.0/invoke/echo/method/x")
    assert answer.seen_headers("cookie") == []


# -- resource files -------------------------------------------------------------------------

ENDPOINT = "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: ep\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (ENDPOINT + "spec: [unclosed\n", "not valid YAML"),
        ("- a\n- list\n", "a resource must be a mapping"),
        (ENDPOINT.replace("v1alpha1", "v2"), "use apiVersion: dapr.io/v1alpha1"),
        (ENDPOINT.replace("  name: ep\n", "  labels: {}\n") + "spec: {}\n", "metadata.name"),
        (ENDPOINT + "spec: {}\n", "spec.baseUrl must be an http:// or https:// URL"),
        (ENDPOINT + "spec:\n  baseUrl: localhost:3001\n", "e.g. http://localhost:3001"),
        (ENDPOINT + "spec:\n  baseUrl: http://h\n  headers: {a: b}\n", "spec.headers must be"),
        (
            ENDPOINT + "spec:\n  baseUrl: http://h\n  headers:\n    - name: Authorization\n"
            "      secretKeyRef: {name: s, key: k}\n",
            "header 'Authorization' uses secretKeyRef",
        ),
        (ENDPOINT + "spec:\n  baseUrl: http://h\n  clientTLS: {}\n", "spec.clientTLS"),
    ],
)
def test_a_malformed_resource_file_stops_start_up_naming_it(
    tmp_path: Path, text: str, complaint: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ResourceError) as caught:
        ServiceInvoker(SidecarSettings(app_url="http://a", resources_path=str(tmp_path)))
    assert str(tmp_path / "bad.yaml") in str(caught.value)
    assert complaint in str(caught.value)


def test_duplicate_endpoint_names_are_refused_naming_both_files(tmp_path: Path) -> None:
    write_endpoint(tmp_path, "a", "http://one")
    (tmp_path / "b.yml").write_text((tmp_path / "a.yaml").read_text())
    with pytest.raises(ResourceError) as caught:
        ServiceInvoker(SidecarSettings(app_url="http://a", resources_path=str(tmp_path)))
    assert str(tmp_path / "a.yaml") in str(caught.value)
    assert str(tmp_path / "b.yml") in str(caught.value)


def test_a_missing_resources_folder_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ResourceError, match="does not exist") as caught:
        ServiceInvoker(SidecarSettings(app_url="http://a", resources_path=str(missing)))
    assert str(missing) in str(caught.value)


async def test_several_documents_per_file_and_other_files_are_ignored(
    echo_url: str, tmp_path: Path
) -> None:
    (tmp_path / "all.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n---\n"
        + ENDPOINT.replace("name: ep", "name: first")
        + f"spec:\n  baseUrl: {echo_url}/one\n---\n"
        + ENDPOINT.replace("name: ep", "name: second")
        + f"spec:\n  baseUrl: {echo_url}/two\n---\n"
    )
    (tmp_path / "notes.txt").write_text("not: [yaml")
    async with sidecar(resources_path=str(tmp_path)) as client:
        first = await client.call("GET", "/v1.0/invoke/first/method/x")
        second = await client.call("GET", "/v1.0/invoke/second/method/x")
        store = await client.call("GET", "/v1.0/invoke/store/method/x")
    assert (first.json()["path"], second.json()["path"]) == ("/one/x", "/two/x")
    assert store.status == 500  # a component is not an invocation target
    assert "add an HTTPEndpoint resource named 'store'" in store.error()["message"]


def test_documents_are_numbered_in_messages(tmp_path: Path) -> None:
    (tmp_path / "two.yaml").write_text(ENDPOINT + "spec:\n  baseUrl: http://h\n---\n" + ENDPOINT)
    with pytest.raises(ResourceError, match=r"two\.yaml \(document 2\): HTTPEndpoint 'ep'"):
        ServiceInvoker(SidecarSettings(app_url="http://a", resources_path=str(tmp_path)))
