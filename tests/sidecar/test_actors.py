"""The dev sidecar in front of a real app, both under uvicorn on loopback ports.

Covers actor invocation (docs/protocol.md §4, §5, §7.1), the state API (§7.2–7.3), idle
deactivation (§6.1), tokens and limits (§7.0), and the seed's curl examples for these routes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import yarl
from fastapi import FastAPI, Request

from dapr_actors_fastapi import Actor, ActorRuntime, SidecarClient, current_turn, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app

from ..helpers import answer_lifespan, free_port, make_app, poll_until, serve, within


@contextlib.asynccontextmanager
async def cluster(
    runtime: ActorRuntime, **settings: Any
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """App and dev sidecar on ephemeral ports; yields a session on the sidecar and its URL.
    State lives in memory unless ``state_db`` names a file."""
    app = make_app(runtime)
    settings.setdefault("state_db", ":memory:")
    async with serve(app) as app_url:
        sidecar = create_app(SidecarSettings(app_url=app_url, **settings))
        async with serve(sidecar) as sidecar_url, aiohttp.ClientSession(sidecar_url) as http:
            await until_ready(http)
            yield http, sidecar_url


async def until_ready(http: aiohttp.ClientSession, seconds: float = 10.0) -> None:
    """Poll ``/v1.0/healthz`` until 204: the sidecar serves as soon as it listens, but reads
    the app's ``/dapr/config`` in the background, and answers 500 (and hosts nothing in
    ``/v1.0/metadata``) until it has."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        async with http.get("/v1.0/healthz") as response:
            if response.status == 204:
                return
        if loop.time() > deadline:
            raise AssertionError(f"the dev sidecar was not ready within {seconds}s")
        await asyncio.sleep(0.01)


class Seen:
    """What the app saw of the last call, for header assertions."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.pairs: list[tuple[str, str]] = []  # every header, repeated names included


def fleet(seen: Seen, deactivated: list[str]) -> ActorRuntime:
    runtime = ActorRuntime(scan_interval="50ms")

    @runtime.actor("stormtrooper")
    class Stormtrooper(Actor):
        async def on_deactivate(self) -> None:
            deactivated.append(self.id)

        @method
        async def shoot(self) -> str:
            return "pew"

        @method("performAction")
        async def perform_action(self) -> None:
            pass

        @method
        async def fail(self) -> None:
            raise RuntimeError("custom error")

    @runtime.actor("x-wing", reentrancy=True, idle_timeout="200ms")
    class XWing(Actor):
        async def on_deactivate(self) -> None:
            deactivated.append(self.id)

        @method
        async def fly(self, destination: str) -> dict[str, str]:
            return {"location": destination}

        @method
        async def headers(self) -> dict[str, str]:
            turn = current_turn()
            assert turn is not None
            return dict(seen.headers)

    return runtime


@pytest.fixture
async def sidecar() -> AsyncIterator[tuple[aiohttp.ClientSession, Seen, list[str]]]:
    seen, deactivated = Seen(), []
    runtime = fleet(seen, deactivated)
    app = make_app(runtime)

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        seen.headers = {k.lower(): v for k, v in request.headers.items()}
        seen.pairs = [(k.lower(), v) for k, v in request.headers.items()]
        return await call_next(request)

    async with serve(app) as app_url:
        settings = SidecarSettings(app_url=app_url, app_id="fleet", state_db=":memory:")
        async with serve(create_app(settings)) as url, aiohttp.ClientSession(url) as http:
            await until_ready(http)
            yield http, seen, deactivated


async def test_seed_examples_invoke_actor_methods(sidecar: Any) -> None:
    http, _, _ = sidecar
    headers = {"Content-Type": "application/json"}
    async with http.post("/v1.0/actors/stormtrooper/50/method/shoot", headers=headers) as r:
        assert (r.status, await r.json()) == (200, "pew")
    body = '{\n        "destination": "Hoth"\n      }'
    async with http.post("/v1.0/actors/x-wing/33/method/fly", headers=headers, data=body) as r:
        assert (r.status, await r.json()) == (200, {"location": "Hoth"})
        assert r.headers["content-type"] == "application/json"
    for verb in ("GET", "PUT", "DELETE"):
        async with http.request(verb, "/v1.0/actors/stormtrooper/50/method/shoot") as r:
            assert r.status == 200, verb


async def test_app_sees_the_headers_daprd_sends(sidecar: Any) -> None:
    http, seen, _ = sidecar
    async with http.put(
        "/v1.0/actors/x-wing/1/method/headers",
        headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    ) as r:
        assert r.status == 200
    assert seen.headers["dapr-api-call"] == "true"
    assert seen.headers["dapr-caller-app-id"] == "fleet"
    assert seen.headers["dapr-caller-namespace"] == "default"
    assert len(seen.headers["dapr-reentrancy-id"]) == 36  # minted: x-wing is reentrant
    assert seen.headers["traceparent"].startswith("00-0af7651916cd43dd")
    async with http.put(
        "/v1.0/actors/stormtrooper/1/method/performAction", skip_auto_headers=["Content-Type"]
    ) as r:
        assert r.status == 200
    assert "dapr-reentrancy-id" not in seen.headers  # stormtrooper is not reentrant
    assert "content-type" not in seen.headers  # none sent by the caller, none invented


async def test_a_caller_cannot_pose_as_another_app(sidecar: Any) -> None:
    # daprd drops the caller's identity headers and stamps its own
    # (pkg/acl/workflow/identity.go StripUntrustedCallerIdentity).
    http, seen, _ = sidecar
    forged = {"dapr-caller-app-id": "admin", "Dapr-Caller-Namespace": "kube-system"}
    async with http.put("/v1.0/actors/stormtrooper/1/method/shoot", headers=forged) as r:
        assert r.status == 200
    identity = [pair for pair in seen.pairs if pair[0].startswith("dapr-caller-")]
    assert sorted(identity) == [
        ("dapr-caller-app-id", "fleet"),
        ("dapr-caller-namespace", "default"),
    ]


async def test_every_header_the_app_repeats_reaches_the_caller() -> None:
    # daprd adds the app's headers one by one (pkg/api/http/actors.go onDirectActorMessage).
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        config = scope["path"] == "/dapr/config"
        headers = [(b"content-type", b"application/json")]
        headers += [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b'{"entities": ["jar"]}' if config else b'"ok"'}
        )

    async with serve(app) as app_url:
        settings = SidecarSettings(app_url=app_url, state_db=":memory:")
        async with serve(create_app(settings)) as url, aiohttp.ClientSession(url) as http:
            await until_ready(http)
            async with http.put("/v1.0/actors/jar/1/method/open") as r:
                assert (r.status, await r.json()) == (200, "ok")
                assert r.headers.getall("set-cookie") == ["a=1", "b=2"]


async def test_errors_reach_the_caller_as_daprd_reports_them(sidecar: Any) -> None:
    http, _, _ = sidecar
    async with http.put("/v1.0/actors/stormtrooper/1/method/fail") as r:
        body = await r.json()
        assert r.status == 500
        assert body["errorCode"] == "ERR_ACTOR_INVOKE_METHOD"
        assert body["message"].startswith(
            "error invoke actor method: error from actor service: (500) "
        )
        assert "custom error" in body["message"]
    async with http.put("/v1.0/actors/stormtrooper/1/method/dance") as r:
        assert (r.status, await r.json()) == (
            500,
            {
                "errorCode": "ERR_ACTOR_INVOKE_METHOD",
                "message": "error invoke actor method: actor method not found: "
                "actors/stormtrooper/1/method/dance",
            },
        )
    async with http.put("/v1.0/actors/tiefighter/1/method/shoot") as r:
        assert r.status == 500
        assert "did not find address for actor 'tiefighter/1'" in (await r.json())["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1.0/actors/stormtrooper/a%23b/method/shoot",
        "/v1.0/actors/stormtrooper/a%3Fb/method/shoot",
        "/v1.0/actors/stormtrooper/a%5Cb/method/shoot",
        "/v1.0/actors/stormtrooper/1/method/a%00b",
    ],
)
async def test_invalid_names_are_400(sidecar: Any, path: str) -> None:
    http, _, _ = sidecar
    async with http.put(path) as r:
        assert r.status == 400
        assert (await r.json())["errorCode"] == "ERR_BAD_REQUEST"


async def test_state_round_trip_with_the_seed_examples(sidecar: Any) -> None:
    http, _, _ = sidecar
    transaction = [
        {"operation": "upsert", "request": {"key": "key1", "value": "myData"}},
        {"operation": "delete", "request": {"key": "key2"}},
    ]
    # State writes need an active actor (P15).
    async with http.post("/v1.0/actors/stormtrooper/50/state", json=transaction) as r:
        assert (r.status, await r.json()) == (
            400,
            {"errorCode": "ERR_ACTOR_INSTANCE_MISSING", "message": "actor instance is missing"},
        )
    async with http.post("/v1.0/actors/stormtrooper/50/method/shoot") as r:
        assert r.status == 200
    async with http.post("/v1.0/actors/stormtrooper/50/state", json=transaction) as r:
        assert (r.status, await r.read()) == (204, b"")
    async with http.get("/v1.0/actors/stormtrooper/50/state/key1") as r:
        assert (r.status, await r.json()) == (200, "myData")
        assert r.headers["content-type"] == "application/json"
    async with http.get("/v1.0/actors/stormtrooper/50/state/key2") as r:
        assert (r.status, await r.read()) == (204, b"")
    location = [
        {"operation": "upsert", "request": {"key": "location", "value": {"location": "Alderaan"}}}
    ]
    async with http.put("/v1.0/actors/stormtrooper/50/state", json=location) as r:
        assert r.status == 204
    async with http.get(
        "/v1.0/actors/stormtrooper/50/state/location", headers={"Content-Type": "application/json"}
    ) as r:
        assert await r.json() == {"location": "Alderaan"}


async def test_state_values_are_stored_as_go_reencodes_them(sidecar: Any) -> None:
    http, _, _ = sidecar
    async with http.post("/v1.0/actors/stormtrooper/7/method/shoot"):
        pass
    raw = b'[{"operation":"upsert","request":{"key":"k","value":{ "b": 1, "a": "<&>" }}}]'
    async with http.post("/v1.0/actors/stormtrooper/7/state", data=raw) as r:
        assert r.status == 204
    async with http.get("/v1.0/actors/stormtrooper/7/state/k") as r:
        assert await r.read() == b'{"a":"\\u003c\\u0026\\u003e","b":1}'


async def test_state_ttl_sets_the_expiry_header(sidecar: Any) -> None:
    http, _, _ = sidecar
    async with http.post("/v1.0/actors/stormtrooper/8/method/shoot"):
        pass
    op = {
        "operation": "upsert",
        "request": {"key": "k", "value": 1, "metadata": {"ttlInSeconds": "60"}},
    }
    async with http.post("/v1.0/actors/stormtrooper/8/state", json=[op]) as r:
        assert r.status == 204
    async with http.get("/v1.0/actors/stormtrooper/8/state/k") as r:
        assert r.headers["metadata.ttlExpireTime"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not JSON"),
        (b'{"operations": []}', "JSON array"),
        (b'[{"operation": "merge", "request": {"key": "k"}}]', "'merge' not supported"),
        (b'[{"operation": "upsert", "request": {"value": 1}}]', "missing key"),
        (b'[{"operation": "upsert", "request": {"key": 5}}]', "missing key"),
        (
            b'[{"operation": "upsert", "request": {"key": "k", "metadata": {"ttlInSeconds": 60}}}]',
            "object of strings",
        ),
        (
            b'[{"operation": "upsert", "request": {"key": "k", "metadata": {"ttlInSeconds": "soon"}}}]',
            "'soon'",
        ),
    ],
)
async def test_malformed_transactions_are_400_and_write_nothing(
    sidecar: Any, body: bytes, named: str
) -> None:
    http, _, _ = sidecar
    async with http.post("/v1.0/actors/stormtrooper/9/method/shoot"):
        pass
    good_then_bad = (
        b'[{"operation": "upsert", "request": {"key": "first", "value": 1}}, ' + body[1:]
    )
    for payload in (body, good_then_bad if body.startswith(b"[") else body):
        async with http.post("/v1.0/actors/stormtrooper/9/state", data=payload) as r:
            error = await r.json()
            assert r.status == 400
            assert error["errorCode"] == "ERR_MALFORMED_REQUEST"
            assert named in error["message"]
    async with http.get("/v1.0/actors/stormtrooper/9/state/first") as r:
        assert r.status == 204  # the valid first operation was not applied either


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # What daprd's JSON decoder refuses is named first, active actor or not
        # (pkg/api/http/actors.go onActorStateTransaction decodes before it looks).
        (b"{not json", "ERR_MALFORMED_REQUEST"),
        (b"", "ERR_MALFORMED_REQUEST"),
        (b'{"operations": []}', "ERR_MALFORMED_REQUEST"),
        (b'[{"operation": 5, "request": {"key": "k"}}]', "ERR_MALFORMED_REQUEST"),
        # A body that decodes meets the actor check next (pkg/actors/state/state.go).
        (b'[{"operation": "merge", "request": {"key": "k"}}]', "ERR_ACTOR_INSTANCE_MISSING"),
        (b"[]", "ERR_ACTOR_INSTANCE_MISSING"),
    ],
)
async def test_a_transaction_for_an_inactive_actor_is_checked_in_daprds_order(
    sidecar: Any, body: bytes, code: str
) -> None:
    http, _, _ = sidecar
    async with http.post("/v1.0/actors/stormtrooper/never-called/state", data=body) as r:
        error = await r.json()
        assert (r.status, error["errorCode"]) == (400, code), error


async def test_idle_actors_are_deactivated_and_lose_nothing(sidecar: Any) -> None:
    http, _, deactivated = sidecar
    async with http.put("/v1.0/actors/x-wing/idle/method/fly", json={"destination": "Hoth"}):
        pass
    async with http.put("/v1.0/actors/stormtrooper/busy/method/shoot"):
        pass
    await poll_until(lambda: "idle" in deactivated, what="the idle x-wing to be deactivated")
    assert "busy" not in deactivated  # stormtrooper's idle timeout is the default hour
    async with http.get("/v1.0/metadata") as r:
        metadata = await r.json()
    counts = {entry["type"]: entry["count"] for entry in metadata["actors"]}
    assert counts == {"stormtrooper": 1, "x-wing": 0}
    assert metadata["id"] == "fleet"


async def test_reentrant_chain_through_the_sidecar() -> None:
    urls: list[str] = []
    runtime = ActorRuntime()

    @runtime.actor("ping", reentrancy=True)
    class Ping(Actor):
        @method
        async def bounce(self, hops: int) -> int:
            turn = current_turn()
            assert turn is not None
            assert turn.reentrancy_id is not None
            if hops == 0:
                return 0
            other = "b" if self.id == "a" else "a"
            async with (
                aiohttp.ClientSession(urls[0]) as http,
                http.put(
                    f"/v1.0/actors/ping/{other}/method/bounce",
                    json={"hops": hops - 1},
                    headers={"Dapr-Reentrancy-Id": turn.reentrancy_id},
                ) as response,
            ):
                assert response.status == 200, await response.text()
                return int(await response.json()) + 1

    async with cluster(runtime) as (http, url):
        urls.append(url)
        async with http.put("/v1.0/actors/ping/a/method/bounce", json={"hops": 5}) as r:
            assert (r.status, await r.json()) == (200, 5)


async def test_once_its_shutdown_began_only_the_turns_in_flight_and_their_chains_run() -> None:
    """``Sidecar.begin_shutdown`` (the first SIGTERM of ``dapr-actors run``): a call that would
    start a turn gets daprd's 503, while the turn in flight re-enters its actor through its
    chain and saves its state."""
    entered, release = asyncio.Event(), asyncio.Event()
    sidecar_port = free_port()
    runtime = ActorRuntime(sidecar=SidecarClient(endpoint=f"http://127.0.0.1:{sidecar_port}"))

    @runtime.actor("gate", reentrancy=True)
    class Gate(Actor):
        @method
        async def hold(self) -> str:
            entered.set()
            await release.wait()
            await self.state.set("seen", await Gate.proxy(self.id).echo())
            return "held"

        @method
        async def echo(self) -> str:
            return "echo"

    async with serve(make_app(runtime)) as app_url:
        sidecar = create_app(SidecarSettings(app_url=app_url, state_db=":memory:"))
        async with serve(sidecar, sidecar_port) as url, aiohttp.ClientSession(url) as http:
            await until_ready(http)
            held = asyncio.create_task(http.put("/v1.0/actors/gate/g/method/hold"))
            await within(entered.wait())
            sidecar.state.sidecar.begin_shutdown()
            for actor_id in ("other", "g"):  # a new actor, and a new turn of the busy one
                async with await within(
                    http.put(f"/v1.0/actors/gate/{actor_id}/method/echo")
                ) as refused:
                    assert (refused.status, await refused.json()) == (
                        503,
                        {
                            "errorCode": "ERR_ACTOR_RUNTIME_CLOSED",
                            "message": "actor runtime is closed",
                        },
                    )
            release.set()
            async with await within(held) as response:
                assert (response.status, await response.json()) == (200, "held")
            async with http.get("/v1.0/actors/gate/g/state/seen") as stored:
                assert await stored.json() == "echo"


async def test_api_token_guards_everything_but_health() -> None:
    runtime = fleet(Seen(), [])
    async with cluster(runtime, api_token="sidecar-secret") as (http, _):
        async with http.get("/v1.0/healthz") as r:
            assert r.status == 204
        async with http.get("/v1.0/healthz/outbound") as r:
            assert r.status == 204
        async with http.post("/v1.0/actors/stormtrooper/1/method/shoot") as r:
            assert (r.status, await r.text()) == (401, "invalid api token\n")
            assert r.headers["content-type"].startswith("text/plain")
        token = {"dapr-api-token": "sidecar-secret"}
        async with http.post("/v1.0/actors/stormtrooper/1/method/shoot", headers=token) as r:
            assert r.status == 200


async def test_app_api_token_is_sent_to_the_app() -> None:
    runtime_with_token = ActorRuntime(app_api_token="app-secret")

    @runtime_with_token.actor("guarded")
    class Guarded(Actor):
        @method
        async def hello(self) -> str:
            return "hi"

    async with (
        cluster(runtime_with_token, app_api_token="app-secret") as (http, _),
        http.put("/v1.0/actors/guarded/1/method/hello") as r,
    ):
        assert (r.status, await r.json()) == (200, "hi")
    async with (
        cluster(runtime_with_token, app_api_token="wrong") as (http, _),
        http.get("/v1.0/metadata") as r,
    ):
        # The app refused /dapr/config with 401, so the sidecar hosts nothing, as daprd
        # (which then leaves the empty "actors" list out).
        assert "actors" not in await r.json()


async def test_bodies_over_the_limit_are_413() -> None:
    runtime = fleet(Seen(), [])
    async with cluster(runtime, max_body_size=100) as (http, _):
        async with http.post("/v1.0/actors/stormtrooper/1/method/shoot", data=b"x" * 101) as r:
            assert r.status == 413

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"x" * 60

        async with http.post("/v1.0/actors/stormtrooper/1/method/shoot", data=chunks()) as r:
            assert r.status == 413
        async with http.post("/v1.0/actors/stormtrooper/1/method/shoot", data=b"x" * 100) as r:
            assert r.status == 200


NO_TARGET = "failed getting app id either from the URL path or the header dapr-app-id"
TROOPER = "/v1.0/actors/stormtrooper/1"


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        # A known path with a verb it does not take: Starlette alone would answer 405.
        ("PATCH", f"{TROOPER}/method/shoot"),
        ("DELETE", f"{TROOPER}/state"),
        ("GET", f"{TROOPER}/timers/t"),
        ("POST", "/v1.0/healthz"),
        ("DELETE", "/v1.0/metadata"),
        # A path that matches no route: Starlette alone would answer 404.
        ("GET", "/v1.0/nothing/here"),
        ("GET", "/favicon.ico"),
    ],
)
async def test_unknown_routes_fall_through_to_invocation_errors(
    sidecar: Any, verb: str, path: str
) -> None:
    # daprd's router hands NotFound and MethodNotAllowed alike to its fallback endpoint,
    # service invocation, which finds no target app in such a path (docs/protocol.md §7.0):
    # Dapr's JSON error, never the router's plain text.
    http, _, _ = sidecar
    async with http.request(verb, path) as r:
        assert r.headers["content-type"] == "application/json", await r.text()
        assert (r.status, await r.json()) == (
            404,
            {"errorCode": "ERR_DIRECT_INVOKE", "message": NO_TARGET},
        )


async def raw(http: aiohttp.ClientSession, verb: str, path: str) -> tuple[int, Any]:
    """``path`` sent exactly as written: no client re-encoding or dot-segment removal."""
    async with http.request(verb, yarl.URL(path, encoded=True)) as r:
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("verb", "path", "named"),
    [
        ("PUT", "/v1.0/actors/stormtrooper/..%2F..%2Fevil/method/shoot", '"../../evil"'),
        ("PUT", "/v1.0/actors/stormtrooper/a%2Fb/method/shoot", '"a/b"'),
        ("GET", "/v1.0/actors/stormtrooper/..%2F..%2Fevil/state/k", '"../../evil"'),
        ("POST", "/v1.0/actors/stormtrooper/..%2Fevil/state", '"../evil"'),
        ("PUT", "/v1.0/actors/stormtrooper/1/reminders/..%2F..%2Fevil", '"../../evil"'),
        ("GET", "/v1.0/actors/stormtrooper/1/reminders/a%2Fb", '"a/b"'),
        ("DELETE", "/v1.0/actors/stormtrooper/1/reminders/a%2Fb", '"a/b"'),
        ("PUT", "/v1.0/actors/stormtrooper/1/timers/..%2F..%2Fevil", '"../../evil"'),
        ("PUT", "/v1.0/actors/stormtrooper/a%FFb/method/shoot", "not UTF-8"),
        ("GET", "/v1.0/actors/stormtrooper/1/state/a%FFb", "not UTF-8"),
    ],
)
async def test_escaped_slashes_in_names_are_400_as_in_daprd(
    sidecar: Any, verb: str, path: str, named: str
) -> None:
    http, _, _ = sidecar
    status, error = await raw(http, verb, path)
    assert status == 400, error
    assert error["errorCode"] == "ERR_BAD_REQUEST"
    assert named in error["message"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        # daprd's invoke route names the parameter, then ValidateName's error
        # (pkg/api/http/actors.go onDirectActorMessage).
        (
            "/v1.0/actors/stormtrooper/..%2F..%2Fevil/method/shoot",
            b"",
            'invalid actorId: name contains forbidden character: "../../evil"',
        ),
        (
            "/v1.0/actors/storm%2Ftrooper/1/method/shoot",
            b"",
            'invalid actorType: name contains forbidden character: "storm/trooper"',
        ),
        (
            "/v1.0/actors/stormtrooper/a%01b/method/shoot",
            b"",
            'invalid actorId: name contains control character at position 1: "a\\x01b"',
        ),
        (
            "/v1.0/actors/stormtrooper/.%2E/method/shoot",
            b"",
            'invalid actorId: name is a path traversal sequence: ".."',
        ),
        # The create routes give ValidateName's error alone, once the body decoded.
        (
            "/v1.0/actors/stormtrooper/1/reminders/..%2F..%2Fevil",
            b'{"dueTime": "1h"}',
            'name contains forbidden character: "../../evil"',
        ),
        (
            "/v1.0/actors/stormtrooper/1/timers/..%2F..%2Fevil",
            b'{"dueTime": "1h", "callback": "shoot"}',
            'name contains forbidden character: "../../evil"',
        ),
    ],
)
async def test_invalid_names_get_daprds_message(
    sidecar: Any, path: str, body: bytes, message: str
) -> None:
    http, _, _ = sidecar
    async with http.put(yarl.URL(path, encoded=True), data=body) as r:
        error = await r.json()
        assert r.status == 400, error
    assert error == {"errorCode": "ERR_BAD_REQUEST", "message": "invalid request: " + message}


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        ("GET", "/v1.0/state/statestore/k"),
        ("POST", "/v1.0/state/statestore"),
        ("POST", "/v1.0/publish/pubsub/orders"),
        ("GET", "/v1.0/secrets/vault/db"),
        ("POST", "/v1.0/bindings/queue"),
        ("GET", "/v1.0/configuration/store"),
        ("POST", "/v1.0/shutdown"),
        ("POST", "/v1.0-alpha1/lock/store"),
        ("POST", "/v1.0-beta1/workflows/dapr/flow/start"),
    ],
)
async def test_apis_the_dev_sidecar_does_not_serve_are_501(
    sidecar: Any, verb: str, path: str
) -> None:
    http, _, _ = sidecar
    async with http.request(verb, path) as r:
        error = await r.json()
        assert r.status == 501, error
    assert error["errorCode"] == "ERR_NOT_IMPLEMENTED"
    assert path in error["message"]
    for served in ("/v1.0/actors", "/v1.0/invoke", "/v1.0/healthz", "/v1.0/metadata"):
        assert served in error["message"]


@pytest.mark.parametrize(
    "entities_config",
    [5, "robot", [{"entities": 5}], [{"entities": {"robot": 1}}]],
)
async def test_an_entities_config_of_the_wrong_type_hosts_nothing_as_in_daprd(
    entities_config: Any,
) -> None:
    # daprd cannot decode such a /dapr/config and drops it whole (docs/protocol.md §2.3);
    # before, the dev sidecar's start-up failed on it.
    app = FastAPI()
    config = {"entities": ["robot"], "entitiesConfig": entities_config}
    app.add_api_route("/dapr/config", lambda: config, methods=["GET"])
    async with serve(app) as app_url:
        settings = SidecarSettings(app_url=app_url, state_db=":memory:")
        async with serve(create_app(settings)) as url, aiohttp.ClientSession(url) as http:
            await until_ready(http, seconds=5)
            async with http.put("/v1.0/actors/robot/1/reminders/r", json={"dueTime": "1h"}) as r:
                assert r.status == 403
                assert (await r.json())["errorCode"] == "ERR_ACTOR_REMINDER_NON_HOSTED"
