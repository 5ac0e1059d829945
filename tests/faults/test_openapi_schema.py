"""Schemathesis reads the app's own ``/openapi.json`` and sends what it documents, valid and
invalid, to the running routes: none of it is a 5xx, and every 4xx is Dapr's
``{"errorCode", "message"}`` (docs/protocol.md P5, P6).

The document shows each method as callers send it, ``POST /v1.0/actors/...`` on the sidecar;
the sidecar relays the body unchanged to the app's ``PUT /actors/...``, so each example goes
there (``send``). The requests go over httpx's ASGI transport, like the rest of the app-side
suite, so each is a real HTTP exchange with the app in-process. The actors raise on nothing
that validates: a 500 of their own (P7) would not be bad input's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx2 as httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import given, settings
from pydantic import BaseModel
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.python import asgi

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

from ..helpers import error_body, lifespan_running, make_app


class Order(BaseModel):
    item: str
    quantity: int


class Receipt(BaseModel):
    orders: list[Order]
    total: int


def shop_app() -> FastAPI:
    runtime = ActorRuntime()

    @runtime.actor("shop")
    class Shop(Actor):
        """Every kind of body FastAPI documents; raises on nothing."""

        @method
        async def order(self, order: Order) -> Order:
            """A model body, a model back."""
            return order

        @method
        async def checkout(self, orders: list[Order], coupon: str | None = None) -> Receipt:
            """Two parameters: the body is an object of them."""
            return Receipt(orders=orders, total=sum(order.quantity for order in orders))

        @method
        async def rename(self, name: str) -> str:
            return name

        @method
        async def upload(self, blob: bytes) -> int:
            return len(blob)

        @method
        async def whoami(self) -> str:
            return self.id

        @method
        async def forget(self) -> None:
            pass

        @reminder("restock")
        async def restock(self, data: Order, due_time: str, period: str) -> None:
            pass

        @timer("tick")
        async def tick(self, due_time: str, period: str, data: int | None = None) -> None:
            pass

    return make_app(runtime)


def documented_schema() -> BaseSchema:
    """What ``shop_app()`` serves at ``/openapi.json``."""
    source = shop_app()
    try:
        return schemathesis.openapi.from_asgi("/openapi.json", source)
    finally:
        # Schemathesis starts the app's lifespan in a thread of its own and keeps it running
        # until the process exits; the examples go to another app, over httpx's transport.
        asgi.shutdown_lifespans()


SCHEMA = documented_schema()
APP = shop_app()  # the handlers keep no state, so every example may share it
METHODS = ["order", "checkout", "rename", "upload", "whoami", "forget"]
STATUSES: Counter[tuple[str, int]] = Counter()


def test_the_schema_documents_every_method_and_no_callback() -> None:
    # Reminders and timers are daprd's callbacks, not an API for people: only methods show.
    assert sorted(SCHEMA.raw_schema["paths"]) == sorted(
        f"/v1.0/actors/shop/{{actor_id}}/method/{name}" for name in METHODS
    )


def test_the_schema_documents_errors_as_answered() -> None:
    # Found with schemathesis: every operation documented FastAPI's 422 HTTPValidationError,
    # while a body that does not validate gets 400 in Dapr's shape.
    components = SCHEMA.raw_schema["components"]["schemas"]
    for path in SCHEMA.raw_schema["paths"].values():
        responses = path["post"]["responses"]
        assert set(responses) == {"200", "401", "4XX", "5XX"}, responses
        assert set(responses["401"]["content"]) == {"text/plain"}  # daprd's http.Error
        for status in ("4XX", "5XX"):
            reference = responses[status]["content"]["application/json"]["schema"]["$ref"]
            error = components[reference.rsplit("/", 1)[1]]
            assert error["required"] == ["errorCode", "message"], error
            assert error["additionalProperties"] is True, error


async def send(case: Case) -> httpx.Response:
    """The callback the sidecar makes for ``case``: its body, headers and query, at the app's
    ``PUT /actors/...`` (what daprd relays to, docs/protocol.md §4)."""
    request = case.as_transport_kwargs(base_url="http://app")
    unknown = set(request) - {"method", "url", "headers", "params", "cookies", "json", "data"}
    assert not unknown, f"schemathesis sends {unknown}: teach send() to pass them on"
    assert request["method"] == "POST", request
    assert request["url"].startswith("http://app/v1.0/actors/"), request["url"]
    transport = httpx.ASGITransport(app=APP)
    async with (
        lifespan_running(APP),
        httpx.AsyncClient(
            transport=transport, base_url="http://app", cookies=request["cookies"]
        ) as client,
    ):
        return await client.request(
            "PUT",
            request["url"].replace("/v1.0/actors/", "/actors/", 1),
            headers=request["headers"],
            params=request["params"],
            json=request.get("json"),
            content=request.get("data"),
        )


def assert_no_bare_500(case: Case, response: httpx.Response) -> None:
    STATUSES[case.operation.label, response.status_code] += 1
    assert response.status_code < 500, (case.as_curl_command(), response.text)
    if response.status_code >= 400:
        error_body(response)


@settings(max_examples=80)
@given(case=SCHEMA.as_strategy(generation_mode=GenerationMode.POSITIVE))
async def test_what_the_schema_allows_is_answered_without_a_5xx(case: Case) -> None:
    assert_no_bare_500(case, await send(case))


@settings(max_examples=120)
@given(case=SCHEMA.as_strategy(generation_mode=GenerationMode.NEGATIVE))
async def test_what_the_schema_forbids_is_a_dapr_4xx(case: Case) -> None:
    response = await send(case)
    assert_no_bare_500(case, response)


@pytest.fixture(scope="module", autouse=True)
def report_statuses() -> Any:
    yield
    print(f"\nschemathesis: {sum(STATUSES.values())} requests, by operation and status:")
    for (label, status), count in sorted(STATUSES.items()):
        print(f"  {label:<45} {status}: {count}")
