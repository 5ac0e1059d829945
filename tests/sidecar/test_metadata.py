"""The dev sidecar's metadata and health API against daprd's (docs/protocol.md §3.1, §10.1):
``GET /v1.0/metadata``'s document, ``PUT /v1.0/metadata/{key}``, and ``GET
/v1.0/healthz?appid=``; over real loopback HTTP, the app and the sidecar each under uvicorn."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app

ENDPOINT = """apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: {name}
spec:
  baseUrl: http://127.0.0.1:9
"""


def fleet_app() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self) -> str:
            return "flying"

    @runtime.actor("tie")
    class Tie(Actor):
        pass

    return runtime


async def test_the_document_has_daprds_keys_for_the_app_and_its_resources(
    tmp_path: Path,
) -> None:
    for name in ("mathHTTPEndpoint", "echoEndpoint"):
        (tmp_path / f"{name}.yaml").write_text(ENDPOINT.format(name=name))
    async with ActorTestEnv(
        make_app(fleet_app()), app_id="fleet", resources_path=str(tmp_path)
    ) as env:
        assert (await env.invoke_actor("x-wing", "1", "fly")).status == 200
        document = (await env.get_metadata()).json()
        app = urlsplit(env.app_url)
    assert document["appConnectionProperties"] == {
        "port": app.port,
        "protocol": "http",
        "channelAddress": "127.0.0.1",
        "maxConcurrency": -1,  # daprd's --app-max-concurrency default; no health checks run
    }
    assert document["httpEndpoints"] == [{"name": "echoEndpoint"}, {"name": "mathHTTPEndpoint"}]
    counts = [{"type": "x-wing", "count": 1}, {"type": "tie", "count": 0}]
    assert document["actors"] == counts
    assert document["actorRuntime"] == {
        "runtimeStatus": "RUNNING",
        "activeActors": counts,
        "hostReady": True,
        "placement": "placement: connected",
    }
    assert document["extended"]["daprRuntimeVersion"] == document["runtimeVersion"]
    # In daprd's order: Go writes a struct's fields as declared (pkg/api/http/metadata.go).
    assert list(document) == [
        "id",
        "runtimeVersion",
        "actors",
        "components",
        "extended",
        "httpEndpoints",
        "appConnectionProperties",
        "actorRuntime",
    ]


async def test_an_app_hosting_no_actor_types_is_a_ready_host_with_nothing_listed() -> None:
    async with ActorTestEnv(make_app(ActorRuntime()), app_id="plain") as env:
        document = (await env.get_metadata()).json()
    # daprd's hostReady says the actor runtime is ready, not that it hosts a type; the empty
    # lists are left out (omitempty), as is httpEndpoints without resources.
    assert document["actorRuntime"] == {
        "runtimeStatus": "RUNNING",
        "hostReady": True,
        "placement": "placement: connected",
    }
    assert "actors" not in document
    assert "httpEndpoints" not in document


async def test_put_metadata_stores_the_text_under_extended_and_answers_204() -> None:
    async with ActorTestEnv(make_app(ActorRuntime()), app_id="plain", api_token="s3cret") as env:
        first = await env.request("PUT", "/v1.0/metadata/owner", b"team rogue")
        replaced = await env.request("PUT", "/v1.0/metadata/owner", b"team gold")
        empty = await env.request("PUT", "/v1.0/metadata/note", b"")
        not_utf8 = await env.request("PUT", "/v1.0/metadata/a%20b", b"caf\xe9")
        wrong_token = await env.request(
            "PUT", "/v1.0/metadata/x", b"y", headers={"dapr-api-token": "wrong"}
        )
        extended = (await env.get_metadata()).json()["extended"]
    for answer in (first, replaced, empty, not_utf8):
        assert (answer.status, answer.body) == (204, b"")
    assert extended["owner"] == "team gold"
    assert extended["note"] == ""
    assert extended["a b"] == "caf\ufffd"  # the key unescaped; bytes that are not UTF-8 as U+FFFD
    assert list(extended) == sorted(extended)  # Go writes a map's keys sorted
    assert wrong_token.status == 401  # unlike healthz, the route needs the API token
    assert "x" not in extended


async def test_other_verbs_on_a_metadata_key_fall_through_to_invocation() -> None:
    # daprd routes PUT only; any other verb there is service invocation with no target.
    async with ActorTestEnv(make_app(ActorRuntime())) as env:
        answer = await env.request("GET", "/v1.0/metadata/owner")
    assert answer.status == 404
    assert answer.json()["errorCode"] == "ERR_DIRECT_INVOKE"


async def test_healthz_with_another_app_id_is_500_appid_not_match() -> None:
    async with ActorTestEnv(make_app(ActorRuntime()), app_id="fleet") as env:
        same = await env.request("GET", "/v1.0/healthz?appid=fleet")
        plain = await env.request("GET", "/v1.0/healthz")
        other = await env.request("GET", "/v1.0/healthz?appid=other")
        empty = await env.request("GET", "/v1.0/healthz?appid=")
    assert (same.status, plain.status) == (204, 204)
    for answer in (other, empty):
        assert answer.status == 500
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {
            "errorCode": "ERR_HEALTH_APPID_NOT_MATCH",
            "message": "dapr app-id does not match",
        }
