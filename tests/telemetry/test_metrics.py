"""Metrics: every instrument of the README's table, with exact counts and bounded attributes
(declared names only, ``_unknown`` otherwise, never an actor id)."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider

from dapr_actors_fastapi import Actor, ActorConfigError, ActorRuntime, method, reminder
from dapr_actors_fastapi._telemetry.telemetry import Instruments

from .conftest import FakeSidecar, Otel, attrs
from .test_traces import app_client


def squadron(otel: Otel) -> ActorRuntime:
    runtime = otel.runtime(long_turn_threshold="50ms")

    @runtime.actor("x-wing")
    class XWing(Actor):
        async def on_activate(self) -> None:
            if self.id == "broken":
                raise RuntimeError("no astromech")

        @method
        async def fly(self) -> int:
            trips = await self.state.get("trips", int, default=0)
            await self.state.set("trips", trips + 1)
            return trips + 1

        @method
        async def hyperspace(self) -> None:
            await asyncio.sleep(0.1)

        @reminder
        async def any_reminder(self) -> None:
            pass

    return runtime


async def test_activations_turns_and_deactivations_are_counted_exactly(
    otel: Otel, fake_sidecar: FakeSidecar
) -> None:
    async with app_client(squadron(otel)) as app:
        for n in range(7):
            assert (await app.put(f"/actors/x-wing/{n % 3}/method/fly")).status_code == 200
        assert (await app.put("/actors/x-wing/broken/method/fly")).status_code == 500
        assert (await app.delete("/actors/x-wing/0")).status_code == 200

        assert otel.points("dapr.actors.active") == {attrs(actor_type="x-wing"): 2}
        assert otel.points("dapr.actors.activations") == {
            attrs(actor_type="x-wing", outcome="ok"): 3,
            attrs(actor_type="x-wing", outcome="error"): 1,
        }
        assert otel.points("dapr.actors.deactivations") == {attrs(actor_type="x-wing"): 1}
        assert otel.points("dapr.actors.turn.duration") == {
            attrs(actor_type="x-wing", turn="method", name="fly", outcome="ok"): 7,
            attrs(actor_type="x-wing", turn="method", name="fly", outcome="error"): 1,
            attrs(actor_type="x-wing", turn="deactivate", name="deactivate", outcome="ok"): 1,
        }
        assert otel.points("dapr.actors.turn.queue_wait") == {
            attrs(actor_type="x-wing", turn="method"): 8
        }
    # Shutdown deactivates the two that were left.
    assert otel.points("dapr.actors.active") == {attrs(actor_type="x-wing"): 0}
    assert otel.points("dapr.actors.deactivations") == {attrs(actor_type="x-wing"): 3}


async def test_names_that_are_not_declared_are_recorded_as_unknown(
    otel: Otel, fake_sidecar: FakeSidecar
) -> None:
    envelope = {"dueTime": "0s", "period": ""}
    async with app_client(squadron(otel)) as app:
        for name in ("tick-1", "tick-2", "tick-3"):  # one catch-all handler, unbounded names
            fired = await app.put(f"/actors/x-wing/1/method/remind/{name}", json=envelope)
            assert fired.status_code == 200
    durations = otel.points("dapr.actors.turn.duration")
    assert (
        durations[attrs(actor_type="x-wing", turn="reminder", name="_unknown", outcome="ok")] == 3
    )
    everything = {value for key in durations for _, value in key}
    assert "1" not in everything  # no actor id on any metric


async def test_a_long_turn_is_counted_and_logged_once(
    otel: Otel, fake_sidecar: FakeSidecar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dapr_actors_fastapi")
    async with app_client(squadron(otel)) as app:
        assert (await app.put("/actors/x-wing/7/method/hyperspace")).status_code == 200
        assert (await app.put("/actors/x-wing/7/method/fly")).status_code == 200
    assert otel.points("dapr.actors.turn.long") == {
        attrs(actor_type="x-wing", turn="method", name="hyperspace"): 1
    }
    (warning,) = [record for record in caplog.records if "long turn" in record.getMessage()]
    assert "method 'hyperspace' of x-wing/7 ran" in warning.getMessage()


async def test_requests_to_the_sidecar_are_measured_by_operation_and_outcome(
    otel: Otel, fake_sidecar: FakeSidecar
) -> None:
    async with app_client(squadron(otel)) as app:
        assert (await app.put("/actors/x-wing/1/method/fly")).status_code == 200
        fake_sidecar.fail_status = 500
        assert (await app.put("/actors/x-wing/2/method/fly")).status_code == 500
    assert otel.points("dapr.actors.sidecar.request.duration") == {
        attrs(operation="state.get", outcome="ok"): 1,
        attrs(operation="state.save", outcome="ok"): 1,
        attrs(operation="state.get", outcome="error"): 1,
    }


def test_the_readme_table_lists_every_instrument_as_made() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `(dapr\.actors\.[a-z_.]+)` \| (\w+) \| `([^`]+)` \|", readme, re.M)
    instruments = Instruments(MeterProvider().get_meter("readme"))
    made = {
        (instrument.name, kind, instrument.unit)
        for instrument in vars(instruments).values()
        for kind in ("UpDownCounter", "Counter", "Histogram")
        if type(instrument).__name__.startswith(("_" + kind, kind))
    }
    assert set(rows) == made
    assert len(rows) == 7


async def test_a_long_turn_is_logged_without_an_sdk_too(
    fake_sidecar: FakeSidecar, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = ActorRuntime(long_turn_threshold="50ms")

    @runtime.actor("probe")
    class Probe(Actor):
        @method
        async def linger(self) -> None:
            await asyncio.sleep(0.1)

        @method
        async def ping(self) -> None:
            pass

    caplog.set_level(logging.WARNING, logger="dapr_actors_fastapi")
    async with app_client(runtime) as app:
        assert (await app.put("/actors/probe/1/method/linger")).status_code == 200
        assert (await app.put("/actors/probe/1/method/ping")).status_code == 200
    (warning,) = [
        record.getMessage() for record in caplog.records if "long turn" in record.getMessage()
    ]
    assert re.fullmatch(
        r"long turn: method 'linger' of probe/1 ran \d+\.\d{3}s \(long_turn_threshold 0\.05s\)",
        warning,
    ), warning


@pytest.mark.parametrize("threshold", ["0s", "-1s", "soon", 0])
def test_a_long_turn_threshold_must_be_a_positive_duration(threshold: object) -> None:
    with pytest.raises(ActorConfigError, match="long_turn_threshold"):
        ActorRuntime(long_turn_threshold=threshold)  # type: ignore[arg-type]
