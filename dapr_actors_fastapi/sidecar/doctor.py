"""``dapr-actors doctor``: checks a running app and its sidecar for the mistakes that leave
actors unhosted without a word, and says how to fix each.

Every check asks over HTTP what daprd would ask, so it works against real daprd as well as the
dev sidecar: the app's ``/healthz`` and ``/dapr/config`` (docs/protocol.md §2, §3), and the
sidecar's ``/v1.0/healthz/outbound`` and ``/v1.0/metadata``. It is synchronous on purpose: one
short run of a handful of requests, from a shell.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._wire.names import is_valid_name
from ..durations import parse_go_duration

# The app names the process that answered /dapr/config in this header (an extra of this
# package, not daprd's): several different ones behind one port are several workers.
PROCESS_HEADER = "x-dapr-actors-process"
_WORKER_PROBES = 12
_TIMEOUT = 5.0
# A state store daprd can use for actors has ETags and transactions; daprd then lists the
# capability "ACTOR" for it in /v1.0/metadata (pkg/runtime/runtime.go getComponentsCapabilitesMap).
_ACTOR_CAPABILITY = "ACTOR"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``ok``, what was found, and the fix when it is not ok."""

    ok: bool
    check: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        fix = f" -> fix: {self.fix}" if self.fix and not self.ok else ""
        return f"{mark} {self.check}: {self.detail}{fix}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Unreachable(Exception):
    """Nothing answered at the URL."""


def fetch(url: str, headers: Mapping[str, str] | None = None) -> Answer:
    """GET ``url`` on a fresh connection; any status is an answer, no connection is not."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return Answer(response.status, _lower(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers), error.read())
    except (urllib.error.URLError, OSError) as error:
        raise Unreachable(str(getattr(error, "reason", error))) from None


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def diagnose(
    app_url: str,
    sidecar_url: str,
    *,
    app_token: str | None = None,
    api_token: str | None = None,
    get: Callable[[str, Mapping[str, str] | None], Answer] = fetch,
) -> list[Finding]:
    """Every check, in order. A check that needs an earlier one's answer is left out when that
    one failed, so each problem is reported once, where it starts."""
    findings, config = _check_app(app_url.rstrip("/"), app_token, get)
    findings += _sidecar_findings(sidecar_url.rstrip("/"), api_token, config, get)
    return findings


# -- the app ----------------------------------------------------------------------------------


def _check_app(
    url: str, token: str | None, get: Callable[[str, Mapping[str, str] | None], Answer]
) -> tuple[list[Finding], Mapping[str, Any] | None]:
    """The app's findings, and its /dapr/config document when it is valid."""
    try:
        health = get(f"{url}/healthz", None)
    except Unreachable as error:
        fix = "start the app (uvicorn MODULE:app --port PORT), or pass --app-url"
        return [Finding(False, "app reachable", f"nothing answers at {url} ({error})", fix)], None
    findings = [
        Finding(
            health.status == 200,
            "app healthy",
            f"GET /healthz answered {health.status}",
            "the app is shutting down (503) or /healthz is not the runtime's: serve "
            "runtime.front_door(app), or include runtime.router at the root",
        )
    ]
    headers = {"Accept-Encoding": "gzip, deflate"}
    if token:
        headers["dapr-api-token"] = token
    answer = get(f"{url}/dapr/config", headers)
    if answer.status == 401 and not token:
        findings.append(
            Finding(
                False,
                "/dapr/config",
                "the app requires an app token (401)",
                "pass the app's APP_API_TOKEN to doctor (--app-token), and give daprd the same "
                "token (dapr.io/app-token-secret, or APP_API_TOKEN in daprd's environment)",
            )
        )
        return findings, None
    if answer.status != 200:
        findings.append(
            Finding(
                False,
                "/dapr/config",
                f"answered {answer.status}: {answer.body[:120].decode('utf-8', 'replace')!r}",
                "middleware or a mount hides daprd's routes (auth, host checks, a prefix): "
                "serve runtime.front_door(app), which answers them first (README, 'Any ASGI "
                "framework')",
            )
        )
        return findings, None
    encoding = answer.headers.get("content-encoding")
    findings.append(
        Finding(
            encoding is None,
            "/dapr/config not compressed",
            f"Content-Encoding {encoding!r}" if encoding else "sent as plain JSON",
            "compression middleware (GZip) compresses daprd's answers: serve "
            "runtime.front_door(app), or keep the middleware off daprd's routes",
        )
    )
    config = _valid_config(_decoded(answer.body, encoding), findings)
    if token:
        findings.append(_token_finding(url, get))
    findings.append(_workers_finding(url, headers, get))
    return findings, config


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """``body`` as sent before compression, so that the document is still checked."""
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error):
        pass  # the JSON check then says what is wrong
    return body


def _valid_config(body: bytes, findings: list[Finding]) -> Mapping[str, Any] | None:
    """The document, when daprd would host its types; else a finding saying why not."""
    try:
        config = json.loads(body)
    except ValueError as error:
        problems = [f"not JSON ({error})"]
    else:
        problems = list(_config_problems(config)) if isinstance(config, dict) else ["not an object"]
    if problems:
        fix = "correct what is named (durations are Go durations such as '1h30m')"
        findings.append(Finding(False, "/dapr/config valid", "; ".join(problems), fix))
        return None
    findings.append(Finding(True, "/dapr/config valid", f"hosts {', '.join(config['entities'])}"))
    return dict(config)


def _config_problems(config: Mapping[str, Any]) -> Iterator[str]:
    entities = config.get("entities")
    if not isinstance(entities, list) or not entities:
        yield "entities is missing or empty: daprd then hosts nothing"
        return
    for name in entities:
        if not isinstance(name, str) or not is_valid_name(name):
            yield f"entities holds {name!r}, which is not an actor type name"
    yield from _duration_problems(config, "")
    entries = config.get("entitiesConfig", [])
    if not isinstance(entries, list):
        yield "entitiesConfig is not a list: daprd drops the whole config"
        return
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            yield from _duration_problems(entry, f"entitiesConfig[{index}].")
            for name in entry.get("entities", []):
                if name not in entities:
                    yield f"entitiesConfig[{index}] names {name!r}, which entities does not host"


def _duration_problems(settings: Mapping[str, Any], where: str) -> Iterator[str]:
    for key in ("actorIdleTimeout", "drainOngoingCallTimeout"):
        value = settings.get(key)
        if value in (None, ""):
            continue
        try:
            parse_go_duration(value)
        except (TypeError, ValueError):
            yield f"{where}{key} is {value!r}, which daprd cannot parse"


def _token_finding(url: str, get: Callable[[str, Mapping[str, str] | None], Answer]) -> Finding:
    anonymous = get(f"{url}/dapr/config", None)
    return Finding(
        anonymous.status == 401,
        "app token enforced",
        f"/dapr/config without the token answered {anonymous.status}",
        "the app does not check the token: set APP_API_TOKEN in the app's environment too",
    )


def _workers_finding(
    url: str, headers: Mapping[str, str], get: Callable[[str, Mapping[str, str] | None], Answer]
) -> Finding:
    processes = {
        get(f"{url}/dapr/config", headers).headers.get(PROCESS_HEADER)
        for _ in range(_WORKER_PROBES)
    }
    processes.discard(None)
    return Finding(
        len(processes) <= 1,
        "one process behind the port",
        f"{len(processes) or 'no'} process(es) answered {_WORKER_PROBES} fresh connections",
        "run one worker per sidecar (uvicorn without --workers); daprd places an actor on one "
        "app instance, and each worker would cache its state (README, 'State')",
    )


# -- the sidecar ------------------------------------------------------------------------------


def _sidecar_findings(
    url: str,
    token: str | None,
    config: Mapping[str, Any] | None,
    get: Callable[[str, Mapping[str, str] | None], Answer],
) -> Iterator[Finding]:
    headers = {"dapr-api-token": token} if token else None
    try:
        outbound = get(f"{url}/v1.0/healthz/outbound", headers)
    except Unreachable as error:
        yield Finding(
            False,
            "sidecar reachable",
            f"nothing answers at {url} ({error})",
            "start daprd (dapr run ... --dapr-http-port PORT) or dapr-actors sidecar, or pass "
            "--sidecar-url",
        )
        return
    yield Finding(
        outbound.status == 204, "sidecar reachable", f"outbound health answered {outbound.status}"
    )
    metadata = get(f"{url}/v1.0/metadata", headers)
    if metadata.status == 401:
        yield Finding(
            False,
            "sidecar metadata",
            "the sidecar requires an API token (401)",
            "pass DAPR_API_TOKEN to doctor (--api-token); the app needs it too",
        )
        return
    try:
        document = json.loads(metadata.body)
    except ValueError:
        yield Finding(False, "sidecar metadata", f"answered {metadata.status}, not JSON")
        return
    yield _state_store_finding(document)
    if config is not None:
        yield _hosting_finding(document, config)


def _state_store_finding(metadata: Mapping[str, Any]) -> Finding:
    components = metadata.get("components") or []
    capable = [
        str(component.get("name"))
        for component in components
        if _ACTOR_CAPABILITY in (component.get("capabilities") or [])
    ]
    return Finding(
        bool(capable),
        "actor state store",
        f"actor-capable state stores: {', '.join(capable)}" if capable else "none loaded",
        "load a state store component with ETags and transactions (Redis, PostgreSQL) and "
        'metadata actorStateStore: "true" (docs/deploy.md)',
    )


def _hosting_finding(metadata: Mapping[str, Any], config: Mapping[str, Any]) -> Finding:
    runtime = metadata.get("actorRuntime") or {}
    status = runtime.get("runtimeStatus")
    hosted = {str(entry.get("type")) for entry in runtime.get("activeActors") or []}
    missing = [name for name in config.get("entities", []) if name not in hosted]
    if status == "DISABLED":
        return Finding(
            False,
            "types hosted by the sidecar",
            "the sidecar's actor runtime is DISABLED",
            "daprd disables actors without a placement service: run dapr init, or pass "
            "--placement-host-address",
        )
    if status != "RUNNING":
        return Finding(
            False,
            "types hosted by the sidecar",
            f"the sidecar's actor runtime is {status!r}, not RUNNING",
            "the sidecar has not read the app's /dapr/config yet: check its --app-port and its "
            "log, and run doctor again once it is up",
        )
    return Finding(
        not missing,
        "types hosted by the sidecar",
        f"not registered: {', '.join(missing)}" if missing else f"{', '.join(sorted(hosted))}",
        "daprd has not read the app's /dapr/config: check --app-port (and that the app was up "
        "when daprd started), and that an actor state store is configured",
    )
