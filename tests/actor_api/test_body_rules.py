"""How request bodies bind to method parameters and results become responses (FastAPI's rules)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pytest
from fastapi import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
from fastapi.testclient import TestClient
from hypothesis import given, settings
from pydantic import BaseModel, Field, RootModel
from starlette.responses import PlainTextResponse, Response
from typing_extensions import TypedDict

from dapr_actors_fastapi import Actor, ActorConfigError, ActorRuntime, method, reminder, timer

from ..faults.strategies import JSON_VALUES
from ..helpers import Mount, asgi_client, error_body, make_app


class Flight(BaseModel):
    destination: str
    speed: int = 1


@dataclasses.dataclass
class Cargo:
    item: str
    weight: float


class Squadron(RootModel[list[str]]):
    pass


class Coordinates(TypedDict):
    x: int
    y: int


class Bindings(Actor):
    @method
    async def model(self, flight: Flight) -> Flight:
        return flight

    @method
    async def optional_model(self, flight: Flight | None = None) -> str:
        return "none" if flight is None else flight.destination

    @method
    async def dataclass(self, cargo: Cargo) -> Cargo:
        return cargo

    @method
    async def typed_dict(self, where: Coordinates) -> int:
        return where["x"] + where["y"]

    @method
    async def listing(self, items: list[int]) -> int:
        return sum(items)

    @method
    async def mode(self, mode: Annotated[Literal["fast", "slow"], Body()]) -> str:
        return mode

    @method
    async def squadron(self, ships: Squadron) -> int:
        return len(ships.root)

    @method
    async def pair(self, pair: tuple[int, int]) -> int:
        return pair[0] * pair[1]

    @method
    async def list_or_model(self, value: list[int] | Flight) -> str:
        return type(value).__name__

    @method
    async def keyed(self, destination: str, speed: int = 3) -> dict[str, Any]:
        return {"destination": destination, "speed": speed}

    @method
    async def several(self, flight: Flight, cargo: Cargo) -> str:
        return f"{cargo.item} to {flight.destination}"

    @method
    async def embedded(self, flight: Annotated[Flight, Body(embed=True)]) -> str:
        return flight.destination

    @method
    async def whole_scalar(self, name: Annotated[str, Body()]) -> str:
        return name.upper()

    @method
    async def constrained(self, count: Annotated[int, Field(ge=0, le=10)]) -> int:
        return count

    @method
    async def field_defaults(
        self,
        label: str,
        count: int = Field(default=2, ge=0),
        tags: list[str] = Field(default_factory=list),
    ) -> dict[str, Any]:
        tags.append(label)
        return {"count": count, "tags": tags}

    @method
    async def nothing(self) -> str:
        return "done"

    @method
    async def raw(self, payload: bytes) -> bytes:
        return payload[::-1]

    @method
    async def response(self) -> Response:
        return PlainTextResponse("plain", status_code=200, headers={"x-custom": "1"})

    @method
    async def whole_with_default(self, name: str = Body("Red Five")) -> str:
        return name

    @method
    async def returns_none(self) -> None:
        return None

    @method
    async def broken_contract(self) -> int:
        return "not an int"  # type: ignore[return-value]

    @method
    async def untyped(self, value):  # type: ignore[no-untyped-def]
        return {"echo": value}


def bindings_client(mount: Mount) -> Iterator[TestClient]:
    runtime = ActorRuntime()
    runtime.actor("bindings")(Bindings)
    with TestClient(mount(runtime)) as client:
        yield client


@pytest.fixture
def client(mount: Mount) -> Iterator[TestClient]:
    """Through the router and through the front door (``mount``)."""
    yield from bindings_client(mount)


def call(client: TestClient, name: str, **kwargs: Any) -> Any:
    return client.put(f"/actors/bindings/1/method/{name}", **kwargs)


def test_a_body_default_applies_to_an_empty_body(client: TestClient) -> None:
    assert call(client, "whole_with_default").json() == "Red Five"
    assert call(client, "whole_with_default", json="Gold Leader").json() == "Gold Leader"


def test_one_model_parameter_takes_the_whole_body(client: TestClient) -> None:
    response = call(client, "model", json={"destination": "Hoth"})
    assert response.status_code == 200
    assert response.json() == {"destination": "Hoth", "speed": 1}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("dataclass", {"item": "R2", "weight": 32.5}, {"item": "R2", "weight": 32.5}),
        ("typed_dict", {"x": 2, "y": 3}, 5),
        ("listing", [1, 2, 3], 6),
        ("optional_model", {"destination": "Dagobah"}, "Dagobah"),
        ("whole_scalar", "luke", "LUKE"),
    ],
)
def test_model_like_parameters_take_the_whole_body(
    client: TestClient, name: str, body: Any, expected: Any
) -> None:
    response = call(client, name, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_scalar_parameters_are_keyed_by_name_with_defaults(client: TestClient) -> None:
    assert call(client, "keyed", json={"destination": "Hoth"}).json() == {
        "destination": "Hoth",
        "speed": 3,
    }
    assert call(client, "keyed", json={"destination": "Hoth", "speed": 9}).json()["speed"] == 9


def test_several_parameters_are_keyed_by_name(client: TestClient) -> None:
    body = {"flight": {"destination": "Yavin"}, "cargo": {"item": "plans", "weight": 0.1}}
    assert call(client, "several", json=body).json() == "plans to Yavin"


def test_body_embed_keys_a_single_model(client: TestClient) -> None:
    assert call(client, "embedded", json={"flight": {"destination": "Endor"}}).json() == "Endor"


def test_field_defaults_fill_in_and_factories_run_per_call(client: TestClient) -> None:
    first = call(client, "field_defaults", json={"label": "a"}).json()
    second = call(client, "field_defaults", json={"label": "b"}).json()
    assert (first, second) == ({"count": 2, "tags": ["a"]}, {"count": 2, "tags": ["b"]})
    assert call(client, "field_defaults", json={"label": "c", "count": 5}).json()["count"] == 5
    assert call(client, "field_defaults", json={"label": "c", "count": -1}).status_code == 400


def test_field_constraints_apply(client: TestClient) -> None:
    assert call(client, "constrained", json={"count": 10}).json() == 10
    response = call(client, "constrained", json={"count": 11})
    assert response.status_code == 400
    assert error_body(response)["errors"][0]["loc"] == ["body", "count"]


def test_zero_parameter_method_accepts_no_body_and_no_content_type(client: TestClient) -> None:
    # gRPC callers reach the app through daprd with neither (docs/protocol.md §4.1).
    response = client.request("PUT", "/actors/bindings/1/method/nothing", content=b"")
    assert response.status_code == 200
    assert response.json() == "done"
    assert call(client, "nothing", json={"ignored": True}).json() == "done"


def test_optional_model_accepts_an_empty_body(client: TestClient) -> None:
    assert call(client, "optional_model").json() == "none"


def test_all_default_keyed_parameters_accept_an_empty_body(mount: Mount) -> None:
    class Defaults(Actor):
        @method
        async def greet(self, name: str = "world") -> str:
            return f"hello {name}"

    runtime = ActorRuntime()
    runtime.actor(Defaults)
    with TestClient(mount(runtime)) as client:
        assert client.put("/actors/Defaults/1/method/greet").json() == "hello world"


def test_raw_bytes_pass_through_both_ways(client: TestClient) -> None:
    response = call(client, "raw", content=b"\x00\x01binary")
    assert response.status_code == 200
    assert response.content == b"yranib\x01\x00"
    assert response.headers["content-type"] == "application/octet-stream"


def test_response_objects_pass_through(client: TestClient) -> None:
    response = call(client, "response")
    assert (response.status_code, response.text, response.headers["x-custom"]) == (
        200,
        "plain",
        "1",
    )


def test_none_result_is_an_empty_200(client: TestClient) -> None:
    response = call(client, "returns_none")
    assert response.status_code == 200
    assert response.content == b""


def test_untyped_method_binds_by_name_and_returns_any(client: TestClient) -> None:
    assert call(client, "untyped", json={"value": [1, "a"]}).json() == {"echo": [1, "a"]}


@pytest.mark.parametrize(
    ("name", "kwargs", "field"),
    [
        ("model", {"json": {"speed": 2}}, "body.destination"),
        ("model", {"json": {"destination": "Hoth", "speed": "fast"}}, "body.speed"),
        ("keyed", {"json": {}}, "body.destination"),
        ("keyed", {"json": {"destination": ["not", "a", "string"]}}, "body.destination"),
        ("several", {"json": {"flight": {"destination": "x"}}}, "body.cargo"),
        ("model", {"content": b"{not json"}, "body"),
        ("keyed", {"content": b'"Hoth"'}, "body"),
    ],
)
def test_bad_bodies_get_400_naming_the_field(
    client: TestClient, name: str, kwargs: dict[str, Any], field: str
) -> None:
    response = call(client, name, **kwargs)
    assert response.status_code == 400
    body = error_body(response)
    assert body["errorCode"] == "ERR_MALFORMED_REQUEST"
    assert f"bindings.{name}" in body["message"]
    assert field in body["message"]


def test_missing_body_for_a_required_model_is_400(client: TestClient) -> None:
    response = call(client, "model")
    assert response.status_code == 400
    assert "'flight'" in error_body(response)["message"]


def test_result_that_breaks_the_return_annotation_warns_like_pydantic(client: TestClient) -> None:
    # Serialization uses pydantic's default mode: best effort plus its serializer warning.
    with pytest.warns(UserWarning, match="PydanticSerializationUnexpectedValue"):
        response = call(client, "broken_contract")
    assert (response.status_code, response.json()) == (200, "not an int")


def test_wire_names_can_differ_from_function_names(mount: Mount) -> None:
    class Trooper(Actor):
        @method("performAction")
        async def perform_action(self) -> str:
            return "done"

        @method(name="shoot")
        async def fire(self) -> str:
            return "pew"

    runtime = ActorRuntime()
    runtime.actor("stormtrooper")(Trooper)
    with TestClient(mount(runtime)) as client:
        assert client.put("/actors/stormtrooper/1/method/performAction").json() == "done"
        assert client.put("/actors/stormtrooper/1/method/shoot").json() == "pew"
        assert client.put("/actors/stormtrooper/1/method/perform_action").status_code == 404


def test_subclass_inherits_and_overrides_handlers(mount: Mount) -> None:
    class Base(Actor):
        @method
        async def hello(self) -> str:
            return "base"

        @method
        async def kept(self) -> str:
            return "kept"

    class Child(Base):
        @method
        async def hello(self) -> str:
            return "child"

    runtime = ActorRuntime()
    runtime.actor(Child)
    with TestClient(mount(runtime)) as client:
        assert client.put("/actors/Child/1/method/hello").json() == "child"
        assert client.put("/actors/Child/1/method/kept").json() == "kept"


def test_openapi_documents_each_method_as_a_typed_operation() -> None:
    for client in bindings_client(make_app):  # /docs is the router's
        schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/v1.0/actors/bindings/{actor_id}/method/model"]["post"]
    assert operation["operationId"] == "bindings.model"
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/Flight"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Flight"}
    keyed = schema["paths"]["/v1.0/actors/bindings/{actor_id}/method/keyed"]["post"]
    keyed_ref = keyed["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    keyed_schema = schema["components"]["schemas"][keyed_ref.rsplit("/", 1)[1]]
    assert set(keyed_schema["properties"]) == {"destination", "speed"}
    assert keyed_schema["required"] == ["destination"]
    nothing = schema["paths"]["/v1.0/actors/bindings/{actor_id}/method/nothing"]["post"]
    assert "requestBody" not in nothing


def test_actors_registered_after_the_app_is_built_are_served_and_documented(
    mount: Mount,
) -> None:
    runtime = ActorRuntime()
    app = mount(runtime)
    runtime.actor("late")(Bindings)
    with TestClient(app) as client:
        assert client.put("/actors/late/1/method/nothing").json() == "done"
        if mount is make_app:  # the front door serves them, and documents nothing
            documented = client.get("/openapi.json").json()["paths"]
            assert "/v1.0/actors/late/{actor_id}/method/nothing" in documented


# -- mistakes caught at registration ----------------------------------------------------------


def _register(actor_class: type, name: str | None = None) -> None:
    runtime = ActorRuntime()
    runtime.actor(name)(actor_class) if name else runtime.actor(actor_class)


def test_sync_handlers_are_rejected() -> None:
    class Sync(Actor):
        @method
        def blocking(self) -> None:
            pass

    with pytest.raises(ActorConfigError, match=r"Sync\.blocking must be declared 'async def'"):
        _register(Sync)


def test_star_parameters_are_rejected() -> None:
    class Star(Actor):
        @method
        async def spread(self, *args: int) -> None:
            pass

    with pytest.raises(ActorConfigError, match="'args'"):
        _register(Star)


def _token() -> str:
    return "t"


@pytest.mark.parametrize(
    ("marker", "kind", "fix"),
    [
        (Depends(_token), "Depends", "dependencies are not resolved"),
        (Security(_token), "Security", "dependencies are not resolved"),
        (Query(), "Query", "send the value in the JSON body"),
        (Header(), "Header", "send the value in the JSON body"),
        (Cookie(), "Cookie", "send the value in the JSON body"),
        (Path(), "Path", "send the value in the JSON body"),
        (Form(), "Form", "declare it as a body field"),
        (File(), "File", "declare it as a body field"),
    ],
)
@pytest.mark.parametrize("spelling", ["default", "annotated"])
def test_parameters_from_other_sources_than_the_body_are_refused(
    marker: Any, kind: str, fix: str, spelling: str
) -> None:
    # Before: Depends() failed every call, Query()/Header() were silently read from the body.
    async def handler(self: Actor, token: str = marker if spelling == "default" else "") -> None:
        pass

    if spelling == "annotated":  # the module's annotations are strings: give a real object
        handler.__annotations__["token"] = Annotated[str, marker]

    Sourced = type("Sourced", (Actor,), {"login": method(handler)})
    expected = rf"Sourced\.login parameter 'token' uses FastAPI's {kind}\(\).*{fix}"
    with pytest.raises(ActorConfigError, match=expected):
        _register(Sourced)


def test_a_reminder_parameter_with_depends_is_refused() -> None:
    class Ticking(Actor):
        @reminder("tick")
        async def tick(self, data: Annotated[str, Depends(_token)]) -> None:
            pass

    with pytest.raises(ActorConfigError, match=r"Ticking\.tick parameter 'data'.*Depends"):
        _register(Ticking)


def test_body_markers_stay_allowed(mount: Mount) -> None:
    class Bodies(Actor):
        @method
        async def keyed(self, a: Annotated[int, Body(embed=True)], b: int = Body(2)) -> int:
            return a + b

    runtime = ActorRuntime()
    runtime.actor(Bodies)
    with TestClient(mount(runtime)) as client:
        answer = client.put("/actors/Bodies/1/method/keyed", json={"a": 1})
    assert (answer.status_code, answer.json()) == (200, 3)


def test_duplicate_wire_names_are_rejected() -> None:
    class Twice(Actor):
        @method("go")
        async def one(self) -> None:
            pass

        @method("go")
        async def two(self) -> None:
            pass

    with pytest.raises(ActorConfigError, match="two methods named 'go'"):
        _register(Twice)


@pytest.mark.parametrize("bad", ["a/b", "a#b", "a?b", "a\x00b", ".", "..", "", "a\\b"])
def test_invalid_method_names_are_rejected(bad: str) -> None:
    class Bad(Actor):
        @method(bad)
        async def handler(self) -> None:
            pass

    with pytest.raises(ActorConfigError, match="is not valid"):
        _register(Bad)


@pytest.mark.parametrize("bad", ["a/b", "x?y", "..", "dapr.internal.workflow"])
def test_invalid_type_names_are_rejected(bad: str) -> None:
    with pytest.raises(ActorConfigError, match=re.escape(repr(bad))):
        _register(Bindings, bad)


def test_unknown_callback_parameters_are_rejected() -> None:
    class Odd(Actor):
        @reminder("r")
        async def on_reminder(self, payload: str) -> None:
            pass

    with pytest.raises(ActorConfigError, match="'payload'"):
        _register(Odd)


def test_two_catch_all_reminders_are_rejected() -> None:
    class Greedy(Actor):
        @reminder
        async def one(self) -> None:
            pass

        @reminder
        async def two(self) -> None:
            pass

    with pytest.raises(ActorConfigError, match="two catch-all"):
        _register(Greedy)


def test_duplicate_timer_callbacks_are_rejected() -> None:
    class Timers(Actor):
        @timer("tick")
        async def one(self) -> None:
            pass

        @timer("tick")
        async def two(self) -> None:
            pass

    with pytest.raises(ActorConfigError, match="'tick'"):
        _register(Timers)


def test_non_actor_classes_are_rejected() -> None:
    class Plain:
        pass

    with pytest.raises(ActorConfigError, match=r"subclasses of dapr_actors_fastapi\.Actor"):
        _register(Plain)


def test_a_type_name_registers_once_per_runtime() -> None:
    runtime = ActorRuntime()
    runtime.actor("x")(Bindings)
    with pytest.raises(ActorConfigError, match="'x' is already registered"):
        runtime.actor("x")(Bindings)


def test_decorators_return_the_function_unchanged() -> None:
    async def handler(self: Actor) -> None:
        pass

    assert method(handler) is handler
    assert method("name")(handler) is handler
    assert reminder("r")(handler) is handler
    assert timer(handler) is handler
    with pytest.raises(TypeError, match="not both"):
        method("a", name="b")


# -- a JSON array of arguments, bound by position (the JS SDK's actor proxy, protocol.md §11.2) --


@pytest.mark.parametrize(
    ("name", "arguments", "by_name"),
    [
        ("keyed", ["Hoth"], {"destination": "Hoth"}),
        ("keyed", ["Hoth", 9], {"destination": "Hoth", "speed": 9}),
        ("several", [{"destination": "Yavin"}, {"item": "plans", "weight": 0.1}], None),
        ("field_defaults", ["a"], {"label": "a"}),
        ("constrained", [10], {"count": 10}),
        ("embedded", [{"destination": "Endor"}], {"flight": {"destination": "Endor"}}),
        ("untyped", [[1, "a"]], {"value": [1, "a"]}),
        ("model", [{"destination": "Hoth"}], {"destination": "Hoth"}),
        ("dataclass", [{"item": "R2", "weight": 32.5}], {"item": "R2", "weight": 32.5}),
        ("typed_dict", [{"x": 2, "y": 3}], {"x": 2, "y": 3}),
        ("optional_model", [{"destination": "Dagobah"}], {"destination": "Dagobah"}),
        ("whole_scalar", ["luke"], "luke"),
        ("mode", ["slow"], "slow"),
    ],
)
def test_an_array_binds_arguments_by_position_as_by_name(
    client: TestClient, name: str, arguments: list[Any], by_name: Any
) -> None:
    # Where an array cannot be the value itself: keyed parameters, and a single parameter
    # whose JSON is never an array (a model, a dict, a scalar).
    response = call(client, name, json=arguments)
    assert response.status_code == 200, response.text
    if by_name is not None:
        assert response.json() == call(client, name, json=by_name).json()


def test_trailing_defaults_may_be_left_out_of_the_array(client: TestClient) -> None:
    assert call(client, "keyed", json=["Hoth"]).json() == {"destination": "Hoth", "speed": 3}
    first = call(client, "field_defaults", json=["a"]).json()
    second = call(client, "field_defaults", json=["b", 4]).json()
    assert (first, second) == ({"count": 2, "tags": ["a"]}, {"count": 4, "tags": ["b"]})
    assert call(client, "whole_with_default", json=["Gold Leader"]).json() == "Gold Leader"


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("listing", [1, 2, 3], 6),
        ("pair", [6, 7], 42),
        ("squadron", ["Red Five", "Red Two"], 2),
        ("list_or_model", [1, 2], "list"),
        ("raw", [1], "]1["),
        ("nothing", ["ignored"], "done"),
    ],
)
def test_an_array_that_can_be_the_value_keeps_its_meaning(
    client: TestClient, name: str, body: Any, expected: Any
) -> None:
    # A single list-like parameter takes the array as its value, as before; a JS caller
    # spreads it instead: proxy.listing(...items).
    response = call(client, name, json=body)
    assert response.status_code == 200, response.text
    assert (response.text if name == "raw" else response.json()) == expected


@pytest.mark.parametrize(
    ("name", "body", "expected", "kind"),
    [
        ("keyed", [], "expected 1 to 2 items, got 0", "too_short"),
        ("keyed", ["Hoth", 1, 2], "expected 1 to 2 items, got 3", "too_long"),
        (
            "model",
            [{"destination": "a"}, {"destination": "b"}],
            "expected 1 item, got 2",
            "too_long",
        ),
        ("several", [{"destination": "Yavin"}], "expected 2 items, got 1", "too_short"),
    ],
)
def test_an_array_of_the_wrong_length_is_400_naming_the_parameters(
    client: TestClient, name: str, body: Any, expected: str, kind: str
) -> None:
    response = call(client, name, json=body)
    assert response.status_code == 400
    error = error_body(response)
    assert expected in error["message"]
    assert error["errors"] == [{"loc": ["body"], "msg": error["errors"][0]["msg"], "type": kind}]


@pytest.mark.parametrize(
    ("name", "body", "loc"),
    [
        ("keyed", ["Hoth", "fast"], ["body", "speed"]),
        ("model", [{"speed": 2}], ["body", "flight", "destination"]),
        ("constrained", [11], ["body", "count"]),
        ("field_defaults", ["c", -1], ["body", "count"]),
    ],
)
def test_an_invalid_argument_in_an_array_is_400_naming_its_parameter(
    client: TestClient, name: str, body: Any, loc: list[str]
) -> None:
    response = call(client, name, json=body)
    assert response.status_code == 400
    assert [entry["loc"] for entry in error_body(response)["errors"]] == [loc]


def test_an_array_that_is_not_json_is_400(client: TestClient) -> None:
    response = call(client, "keyed", content=b'["Hoth", ')
    assert response.status_code == 400
    assert error_body(response)["errorCode"] == "ERR_MALFORMED_REQUEST"


BY_POSITION = ActorRuntime()
BY_POSITION.actor("bindings")(Bindings)


# No deadline: each example builds an app, which takes longer than 200 ms on a loaded machine.
@settings(max_examples=40, deadline=None)
@given(destination=JSON_VALUES, speed=JSON_VALUES, flight=JSON_VALUES)
async def test_any_arguments_by_position_get_the_answer_they_get_by_name(
    destination: Any, speed: Any, flight: Any, mount: Mount
) -> None:
    async with asgi_client(BY_POSITION, mount) as client:

        async def put(name: str, body: Any) -> tuple[int, Any]:
            path = f"/actors/bindings/1/method/{name}"
            response = await client.put(path, content=json.dumps(body).encode())
            return response.status_code, response.json()

        # Keyed parameters: the same status, result or error, field names included.
        named = await put("keyed", {"destination": destination, "speed": speed})
        assert await put("keyed", [destination, speed]) == named
        # A model: the same status and result; an error names the parameter as well
        # (body.flight.destination rather than body.destination). An array sent by name is
        # itself taken as the arguments, so it is left out.
        if not isinstance(flight, list):
            status, result = await put("model", flight)
            positional_status, positional_result = await put("model", [flight])
            assert positional_status == status
            if status == 200:
                assert positional_result == result
