"""``GET /dapr/config``: golden documents in the shapes daprd decodes (docs/protocol.md §2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dapr_actors_fastapi import Actor, ActorConfigError, ActorRuntime, method

from ..helpers import Mount, make_app


class Ping(Actor):
    @method
    async def ping(self) -> str:
        return "pong"


class Pong(Actor):
    @method
    async def ping(self) -> str:
        return "ping"


def fetch_config(runtime: ActorRuntime, mount: Mount = make_app, **headers: str) -> Any:
    with TestClient(mount(runtime)) as client:
        response = client.get("/dapr/config", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_defaults_are_go_durations_and_only_registered_types() -> None:
    runtime = ActorRuntime()
    runtime.actor("ping")(Ping)
    assert fetch_config(runtime) == {
        "entities": ["ping"],
        "actorIdleTimeout": "1h0m0s",
        "actorScanInterval": "30s",
        "drainOngoingCallTimeout": "30s",
        "drainRebalancedActors": True,
    }


def test_no_types_registered_gives_empty_entities() -> None:
    assert fetch_config(ActorRuntime())["entities"] == []


def test_reentrancy_block_appears_only_when_configured() -> None:
    on = ActorRuntime(reentrancy=True, max_stack_depth=5)
    on.actor(Ping)
    off = ActorRuntime(reentrancy=False)
    off.actor(Ping)
    assert fetch_config(on)["reentrancy"] == {"enabled": True, "maxStackDepth": 5}
    assert fetch_config(off)["reentrancy"] == {"enabled": False, "maxStackDepth": 32}


def test_per_type_overrides_write_a_complete_entry() -> None:
    # daprd does not inherit top-level values into an entry (P8): every effective value of the
    # type is written, including the ones that were not overridden.
    runtime = ActorRuntime(
        idle_timeout=timedelta(minutes=90),
        drain_timeout="PT45S",
        drain_rebalanced=False,
        reentrancy=True,
        max_stack_depth=8,
    )
    runtime.actor("ping", idle_timeout="10m")(Ping)
    runtime.actor("pong")(Pong)
    assert fetch_config(runtime) == {
        "entities": ["ping", "pong"],
        "actorIdleTimeout": "1h30m0s",
        "actorScanInterval": "30s",
        "drainOngoingCallTimeout": "45s",
        "drainRebalancedActors": False,
        "reentrancy": {"enabled": True, "maxStackDepth": 8},
        "entitiesConfig": [
            {
                "entities": ["ping"],
                "actorIdleTimeout": "10m0s",
                "drainOngoingCallTimeout": "45s",
                "drainRebalancedActors": False,
                "reentrancy": {"enabled": True, "maxStackDepth": 8},
            }
        ],
    }


def test_reentrancy_enabled_for_one_type_only() -> None:
    runtime = ActorRuntime()
    runtime.actor("ping", reentrancy=True, max_stack_depth=3)(Ping)
    document = fetch_config(runtime)
    assert "reentrancy" not in document
    assert document["entitiesConfig"] == [
        {
            "entities": ["ping"],
            "actorIdleTimeout": "1h0m0s",
            "drainOngoingCallTimeout": "30s",
            "drainRebalancedActors": True,
            "reentrancy": {"enabled": True, "maxStackDepth": 3},
        }
    ]


def test_matches_the_documented_shape_of_the_seed(mount: Mount) -> None:
    # The seed's own example of /dapr/config, rebuilt from settings.
    runtime = ActorRuntime(
        idle_timeout="1h",
        scan_interval="30s",
        drain_timeout="30s",
        drain_rebalanced=True,
        reentrancy=True,
        max_stack_depth=32,
    )
    runtime.actor("actorType1", idle_timeout="1m", drain_timeout="10s", reentrancy=False)(Ping)
    runtime.actor("actorType2")(Pong)
    document = fetch_config(runtime, mount)
    assert document["entities"] == ["actorType1", "actorType2"]
    assert document["reentrancy"] == {"enabled": True, "maxStackDepth": 32}
    assert document["entitiesConfig"][0]["reentrancy"]["enabled"] is False
    assert document["entitiesConfig"][0]["actorIdleTimeout"] == "1m0s"
    assert document["entitiesConfig"][0]["drainOngoingCallTimeout"] == "10s"


def test_sub_second_and_fractional_durations_use_go_syntax() -> None:
    runtime = ActorRuntime(idle_timeout=timedelta(seconds=1.5), scan_interval="250ms")
    document = fetch_config(runtime)
    assert document["actorIdleTimeout"] == "1.5s"
    assert document["actorScanInterval"] == "250ms"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"idle_timeout": "1 hour"}, "'1 hour'"),
        ({"idle_timeout": "P1M"}, "'P1M'"),
        ({"idle_timeout": 30}, "30"),
        ({"drain_timeout": "0s"}, "'0s'"),
        ({"scan_interval": "-1s"}, "'-1s'"),
        ({"max_stack_depth": 0}, "0"),
        ({"max_stack_depth": True}, "True"),
        ({"drain_rebalanced": "yes"}, "'yes'"),
        ({"max_body_size": 0}, "0"),
        ({"error_style": "loud"}, "'loud'"),
    ],
)
def test_invalid_runtime_settings_name_the_value(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ActorConfigError) as raised:
        ActorRuntime(**settings)
    assert named in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_invalid_per_type_setting_names_the_value() -> None:
    runtime = ActorRuntime()
    with pytest.raises(ActorConfigError, match="'soon'"):
        runtime.actor("ping", idle_timeout="soon")(Ping)
    assert fetch_config(runtime)["entities"] == []


def test_config_requires_the_app_token_when_one_is_set(mount: Mount) -> None:
    runtime = ActorRuntime(app_api_token="s3cret")
    with TestClient(mount(runtime)) as client:
        assert client.get("/dapr/config").status_code == 401
        assert client.get("/dapr/config", headers={"dapr-api-token": "wrong"}).status_code == 401
    assert fetch_config(runtime, mount, **{"dapr-api-token": "s3cret"})["entities"] == []


def test_token_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, mount: Mount) -> None:
    monkeypatch.setenv("APP_API_TOKEN", "from-env")
    runtime = ActorRuntime()
    with TestClient(mount(runtime)) as client:
        assert client.get("/dapr/config").status_code == 401
        ok = client.get("/dapr/config", headers={"dapr-api-token": "from-env"})
        assert ok.status_code == 200
        assert client.get("/healthz").status_code == 200


def test_cache_state_is_app_side_only_and_adds_no_entities_config_entry() -> None:
    runtime = ActorRuntime(cache_state=False)
    runtime.actor("ping", cache_state=True)(Ping)
    assert runtime.actor_types["ping"].settings.cache_state is True
    assert "entitiesConfig" not in fetch_config(runtime)


def test_cache_state_must_be_a_bool() -> None:
    with pytest.raises(ActorConfigError, match=r"cache_state must be True or False, got 'yes'"):
        ActorRuntime(cache_state="yes")  # type: ignore[arg-type]
