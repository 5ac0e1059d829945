"""``/docs`` shows each actor method as callers make it: ``POST /v1.0/actors/...`` on the
sidecar, with the sidecar as the operation's server, so that "Try it out" goes through it.
``tests/sidecar/test_docs_try_it_out.py`` sends a documented call through the dev sidecar."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorRuntime, SidecarClient, method

from ..helpers import asgi_client, error_body, make_app


class Flight(BaseModel):
    destination: str


def fleet_runtime(sidecar: SidecarClient | None = None) -> ActorRuntime:
    runtime = ActorRuntime(sidecar=sidecar)

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self, flight: Flight) -> Flight:
            """Fly to the flight's destination."""
            return flight

    return runtime


def documented(runtime: ActorRuntime) -> dict[str, Any]:
    with TestClient(make_app(runtime)) as client:
        schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


def test_a_method_is_documented_at_the_sidecars_path_with_the_sidecar_as_its_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DAPR_HTTP_ENDPOINT", raising=False)
    monkeypatch.setenv("DAPR_HTTP_PORT", "3999")
    schema = documented(fleet_runtime())
    assert list(schema["paths"]) == ["/v1.0/actors/x-wing/{actor_id}/method/fly"]
    operation = schema["paths"]["/v1.0/actors/x-wing/{actor_id}/method/fly"]["post"]
    assert [server["url"] for server in operation["servers"]] == ["http://127.0.0.1:3999"]
    assert operation["description"].startswith("Fly to the flight's destination.")
    # It says where the call arrives in this app, and what "Try it out" needs of daprd.
    assert "PUT /actors/x-wing/{actor_id}/method/fly" in operation["description"]
    assert "--allowed-origins" in operation["description"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Flight"}


def test_the_server_is_the_sidecar_the_runtime_was_given() -> None:
    schema = documented(fleet_runtime(SidecarClient(endpoint="http://sidecar.local:3500")))
    operation = schema["paths"]["/v1.0/actors/x-wing/{actor_id}/method/fly"]["post"]
    assert [server["url"] for server in operation["servers"]] == ["http://sidecar.local:3500"]


@pytest.mark.parametrize("body", [b'{"destination": "Hoth"}', b"not json", b""])
async def test_a_sidecar_call_sent_to_the_app_is_told_where_to_go(body: bytes) -> None:
    runtime = fleet_runtime(SidecarClient(endpoint="http://127.0.0.1:3777"))
    async with asgi_client(runtime) as client:
        response = await client.post("/v1.0/actors/x-wing/1/method/fly", content=body)
    assert response.status_code == 404  # never FastAPI's 422, whatever the body
    error = error_body(response)
    assert error["errorCode"] == "ERR_NOT_THE_SIDECAR"
    assert "http://127.0.0.1:3777" in error["message"]
    assert "POST /v1.0/actors/x-wing/1/method/fly" in error["message"]


async def test_the_callback_route_still_serves_the_method() -> None:
    async with asgi_client(fleet_runtime()) as client:
        response = await client.put("/actors/x-wing/1/method/fly", json={"destination": "Hoth"})
    assert response.status_code == 200
    assert response.json() == {"destination": "Hoth"}


def test_a_type_registered_after_the_router_is_documented_with_the_same_server() -> None:
    runtime = fleet_runtime(SidecarClient(endpoint="http://127.0.0.1:3888"))
    app = make_app(runtime)

    @runtime.actor("y-wing")
    class YWing(Actor):
        @method
        async def bomb(self) -> str:
            return "done"

    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
    operation = paths["/v1.0/actors/y-wing/{actor_id}/method/bomb"]["post"]
    assert [server["url"] for server in operation["servers"]] == ["http://127.0.0.1:3888"]
