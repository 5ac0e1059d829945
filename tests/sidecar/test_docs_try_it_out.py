""" "Try it out" in the app's ``/docs`` works under ``dapr-actors run``: the documented operation
names the dev sidecar as its server, and the sidecar answers a browser's cross-origin call from
the app's page (preflight, then the call) as daprd does with ``--allowed-origins``."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

from dapr_actors_fastapi.sidecar import SidecarSettings, create_app

from ..helpers import dapr_actors_run, free_port, serve

FLY = "/v1.0/actors/x-wing/{actor_id}/method/fly"


def documented_fly(app_port: int) -> dict[str, Any]:
    schema = httpx.get(f"http://127.0.0.1:{app_port}/openapi.json").json()
    operation: dict[str, Any] = schema["paths"][FLY]["post"]
    return operation


def test_a_documented_call_goes_through_the_sidecar_from_the_apps_page() -> None:
    with dapr_actors_run("samples.quickstart:app") as (app_port, sidecar_port):
        operation = documented_fly(app_port)
        [server] = operation["servers"]
        assert server["url"] == f"http://127.0.0.1:{sidecar_port}"
        url = server["url"] + FLY.format(actor_id="red-5")
        page = f"http://localhost:{app_port}"  # the origin the browser shows /docs at
        preflight = httpx.options(
            url,
            headers={
                "Origin": page,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == page
        assert "POST" in preflight.headers["access-control-allow-methods"]
        call = httpx.post(url, json={"destination": "Hoth"}, headers={"Origin": page})
        assert call.status_code == 200, call.text
        assert call.json() == {"from": "Yavin 4", "to": "Hoth"}
        assert call.headers["access-control-allow-origin"] == page


def test_other_origins_are_not_allowed_and_allowed_origins_widens_them() -> None:
    elsewhere = "http://evil.example"
    with dapr_actors_run("samples.quickstart:app") as (_, sidecar_port):
        preflight = httpx.options(
            f"http://127.0.0.1:{sidecar_port}" + FLY.format(actor_id="1"),
            headers={"Origin": elsewhere, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 400
        assert "access-control-allow-origin" not in preflight.headers
    with dapr_actors_run("samples.quickstart:app", "--allowed-origins=*") as (_, sidecar_port):
        call = httpx.get(
            f"http://127.0.0.1:{sidecar_port}/v1.0/metadata", headers={"Origin": elsewhere}
        )
        assert call.status_code == 200
        assert call.headers["access-control-allow-origin"] == "*"


def test_an_empty_allowed_origins_answers_no_cors_as_daprds_default() -> None:
    # `dapr-actors sidecar` defaults to it; `dapr-actors run` to the app's own origins.
    with dapr_actors_run("samples.quickstart:app", "--allowed-origins=") as (_, sidecar_port):
        call = httpx.get(
            f"http://127.0.0.1:{sidecar_port}/v1.0/metadata",
            headers={"Origin": "http://localhost:3000"},
        )
        assert call.status_code == 200
        assert "access-control-allow-origin" not in call.headers


async def test_an_embedded_sidecar_honours_allowed_origins_in_its_settings() -> None:
    # No app listens: the preflight and metadata are answered without it.
    page = "http://page.example"
    settings = SidecarSettings(app_url=f"http://127.0.0.1:{free_port()}", allowed_origins=(page,))
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        preflight = await client.options(
            FLY.format(actor_id="1"),
            headers={"Origin": page, "Access-Control-Request-Method": "PUT"},
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == page
        call = await client.get("/v1.0/metadata", headers={"Origin": page})
        assert call.headers["access-control-allow-origin"] == page
