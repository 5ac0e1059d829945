"""Names are escaped exactly once on every hop: an actor id, method, reminder or timer name that
holds ``%XX``, spaces or non-ASCII reaches the app, and the state store, as that very name.

Each hop (a client → the dev sidecar, the app's own client → the dev sidecar, the dev sidecar →
the app) is crossed here with ids that differ only in how they would decode a second time:
``a%62`` must not be ``ab``.
"""

from __future__ import annotations

from urllib.parse import quote

from dapr_actors_fastapi import Actor, ActorRuntime, current_turn, method, reminder, timer
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app, poll_until

# Pairs that collide when a name is unescaped twice, and the other characters that may be in
# an id (daprd's ValidateName refuses '/', '\\', '#', '?' and control characters).
IDS = [
    "ab",
    "a%62",
    "100%",
    "%",
    "%25",
    "a%2Fb",
    "a%3Fb",
    "a b",
    "a+b",
    "ünïcødé",
    "日本",
    "€%E2%82%AC",
]


def echo_app(fired: list[tuple[str, str, str]]) -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("echo")
    class Echo(Actor):
        @method
        async def remember(self) -> str:
            await self.state.set("who", self.id)
            return self.id

        @method
        async def recall(self) -> str | None:
            return await self.state.get("who", str, default=None)

        @method("ab")
        async def plain(self) -> str:
            return "ab"

        @method("a%62")
        async def escaped(self) -> str:
            return "a%62"

        @method
        async def schedule(self, name: str) -> None:
            await self.reminders.register(name, due_time="0s", period="1h")
            await self.timers.register(name, "ring", due_time="0s")

        @reminder
        async def any_reminder(self, name: str) -> None:
            fired.append(("reminder", self.id, name))

        @timer
        async def ring(self) -> None:
            turn = current_turn()
            assert turn is not None
            fired.append(("timer", self.id, turn.name))

    @runtime.actor("caller")
    class Caller(Actor):
        @method
        async def relay(self, target: str) -> str:
            return await Echo.proxy(target).remember()  # the app's client → the sidecar

    return runtime


async def test_each_id_reaches_its_own_actor_and_state() -> None:
    async with ActorTestEnv(make_app(echo_app([]))) as env:
        for actor_id in IDS:
            answer = await env.invoke_actor("echo", actor_id, "remember")
            assert (answer.status, answer.json()) == (200, actor_id), answer.text
        for actor_id in IDS:
            answer = await env.invoke_actor("echo", actor_id, "recall")
            assert (answer.status, answer.json()) == (200, actor_id), answer.text
            stored = await env.get_state("echo", actor_id, "who")
            assert (stored.status, stored.json()) == (200, actor_id)
        counts = await env.active_actors()
        assert counts["echo"] == len(IDS)


async def test_the_apps_own_client_addresses_each_id_once() -> None:
    async with ActorTestEnv(make_app(echo_app([]))) as env:
        for actor_id in IDS:
            answer = await env.invoke_actor("caller", "1", "relay", {"target": actor_id})
            assert (answer.status, answer.json()) == (200, actor_id), answer.text
        for actor_id in IDS:
            stored = await env.get_state("echo", actor_id, "who")
            assert (stored.status, stored.json()) == (200, actor_id)


async def test_method_names_are_not_unescaped_twice() -> None:
    async with ActorTestEnv(make_app(echo_app([]))) as env:
        for name in ("ab", "a%62"):
            answer = await env.invoke_actor("echo", "1", name)
            assert (answer.status, answer.json()) == (200, name), answer.text


async def test_reminder_and_timer_names_reach_the_app_as_registered() -> None:
    fired: list[tuple[str, str, str]] = []
    names = ["rb", "r%62", "50% off", "ünï"]
    async with ActorTestEnv(make_app(echo_app(fired))) as env:
        for name in names:
            answer = await env.invoke_actor("echo", "a%62", "schedule", {"name": name})
            assert answer.status == 200, answer.text
        expected = {(kind, "a%62", name) for kind in ("reminder", "timer") for name in names}
        await poll_until(lambda: expected <= set(fired), what=f"{expected - set(fired)} to fire")
        path = f"/v1.0/actors/echo/{quote('a%62', safe='')}/reminders/{quote('r%62', safe='')}"
        answer = await env.request("GET", path)
        assert (answer.status, answer.json()["actorID"]) == (200, "a%62"), answer.text
        assert set(fired) == expected  # nothing fired for a name the app made up


async def test_ids_daprd_refuses_get_400_and_never_reach_the_app() -> None:
    async with ActorTestEnv(make_app(echo_app([]))) as env:
        # ("." and ".." are refused too, but HTTP clients resolve them before sending.)
        # Each named as Go's %q prints it, as daprd's message does.
        for actor_id, shown in [
            ("a/b", '"a/b"'),
            ("../../evil", '"../../evil"'),
            ("a\\b", '"a\\\\b"'),
            ("a#b", '"a#b"'),
            ("a?b", '"a?b"'),
            ("a\x01b", '"a\\x01b"'),
        ]:
            answer = await env.invoke_actor("echo", actor_id, "remember")
            assert answer.status == 400, (actor_id, answer.text)
            assert answer.json()["errorCode"] == "ERR_BAD_REQUEST"
            assert "invalid actorId: name contains " in answer.json()["message"]
            assert shown in answer.json()["message"]
        assert await env.active_actors() == {"echo": 0, "caller": 0}
