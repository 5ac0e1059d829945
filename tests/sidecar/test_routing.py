"""The actor routes' matcher (``sidecar/routing.py`` ``actor_route``) against the Starlette
routes it replaced: for any verb and escaped path, the same route and the same parameters."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.responses import Response
from starlette.routing import Match, Route

from dapr_actors_fastapi.sidecar.routing import ActorRoute, actor_route, unescape


async def _unused(request: Any) -> Response:
    raise AssertionError("only matched, never called")


# The routes as Starlette patterns, as the sidecar declared them before it matched them itself.
PATTERNS = [
    ("/method/{rest:path}", ("GET", "POST", "PUT", "DELETE"), "invoke_actor"),
    ("/state", ("POST", "PUT"), "state_transaction"),
    ("/state/{rest:path}", ("GET",), "get_state"),
    ("/reminders/{rest}", ("POST", "PUT"), "create_reminder"),
    ("/reminders/{rest}", ("GET",), "get_reminder"),
    ("/reminders/{rest}", ("DELETE",), "delete_reminder"),
    ("/timers/{rest}", ("POST", "PUT"), "create_timer"),
    ("/timers/{rest}", ("DELETE",), "delete_timer"),
]
ROUTES = [
    (Route("/v1.0/actors/{actor_type}/{actor_id}" + suffix, _unused, methods=list(verbs)), name)
    for suffix, verbs, name in PATTERNS
]


def starlette_route(verb: str, raw_path: bytes) -> ActorRoute | None:
    scope = {"type": "http", "path": raw_path.decode("latin-1"), "root_path": "", "method": verb}
    for route, name in ROUTES:
        match, child = route.matches(scope)
        if match is Match.FULL:
            params = {k: unescape(v.encode("latin-1")) for k, v in child["path_params"].items()}
            return ActorRoute(
                name, params["actor_type"], params["actor_id"], params.get("rest", "")
            )
    return None


SEGMENTS = ["x-wing", "33", "a%2Fb", "..%2F..%2Fevil", "%FF", "", "method", "state", "reminders"]
SEGMENTS += ["timers", "fly", "a+b", "v1.0", "actors", "%25"]


@given(
    verb=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    segments=st.lists(st.sampled_from(SEGMENTS), min_size=0, max_size=6),
    prefix=st.sampled_from(["/v1.0/actors/", "/v1.0/actors/x-wing/33/", "/v1.0/", "/"]),
)
@example(verb="PUT", segments=["x-wing", "33", "method", "fly"], prefix="/v1.0/actors/")
@example(verb="PUT", segments=["method", ""], prefix="/v1.0/actors/x-wing/33/")
@example(verb="GET", segments=["state", "a", "b"], prefix="/v1.0/actors/x-wing/33/")
@example(verb="GET", segments=["state", ""], prefix="/v1.0/actors/x-wing/33/")
@example(verb="POST", segments=["state"], prefix="/v1.0/actors/x-wing/33/")
@example(verb="DELETE", segments=["timers", ""], prefix="/v1.0/actors/x-wing/33/")
def test_actor_routes_match_as_the_starlette_routes_did(
    verb: str, segments: list[str], prefix: str
) -> None:
    raw_path = (prefix + "/".join(segments)).encode()
    assert actor_route(verb, raw_path) == starlette_route(verb, raw_path)


def test_parameters_are_unescaped_once_after_matching() -> None:
    route = actor_route("PUT", b"/v1.0/actors/x-wing/..%2F..%2Fevil/method/a%2562")
    assert route == ActorRoute("invoke_actor", "x-wing", "../../evil", "a%62")
    assert actor_route("HEAD", b"/v1.0/actors/x-wing/33/state/k") is None  # as chi: GET only
