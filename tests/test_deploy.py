"""The deployment files (``deploy/``, ``dapr.yaml``) are what docs/deploy.md says they are: every
YAML document passes its schema (Kubernetes' for manifests, Dapr's CRD for components), the
Dapr annotations are the ones daprd's injector reads, and the ports, paths, secrets and worker
count agree across the Dockerfile, the manifests, the run template and the samples."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from samples import quickstart

from .helpers import asgi_client

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SCHEMAS = Path(__file__).with_name("data") / "schemas"
RUN_TEMPLATE = ROOT / "dapr.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"

SCHEMA_FILES = {
    ("apps/v1", "Deployment"): "deployment-apps-v1.json",
    ("v1", "Service"): "service-v1.json",
    ("v1", "Secret"): "secret-v1.json",
    ("dapr.io/v1alpha1", "Component"): "component-dapr-v1alpha1.json",
}

# dapr/dapr pkg/injector/annotations/annotations.go (the `Key...` constants), the ones used here.
INJECTOR_ANNOTATIONS = {
    "dapr.io/enabled",
    "dapr.io/app-id",
    "dapr.io/app-port",
    "dapr.io/app-protocol",
    "dapr.io/enable-app-health-check",
    "dapr.io/app-health-check-path",
    "dapr.io/app-health-probe-interval",
    "dapr.io/app-health-probe-timeout",
    "dapr.io/app-health-threshold",
    "dapr.io/graceful-shutdown-seconds",
    "dapr.io/app-token-secret",
    "dapr.io/api-token-secret",
    "dapr.io/log-level",
    "dapr.io/config",
}

# dapr/cli pkg/runfileconfig/run_file_config.go (RunFileConfig, App) and pkg/standalone/run.go
# (RunConfig, SharedRunConfig): the yaml keys `dapr run -f` reads.
RUN_FILE_KEYS = {"version", "common", "apps", "name"}
SHARED_KEYS = {
    "configFilePath",
    "appProtocol",
    "apiListenAddresses",
    "enableProfiling",
    "logLevel",
    "appMaxConcurrency",
    "placementHostAddress",
    "resourcesPath",
    "resourcesPaths",
    "appSSL",
    "maxBodySize",
    "readBufferSize",
    "enableAppHealthCheck",
    "appHealthCheckPath",
    "appHealthProbeInterval",
    "appHealthProbeTimeout",
    "appHealthThreshold",
    "enableApiLogging",
    "runtimePath",
    "env",
    "daprdLogDestination",
    "appLogDestination",
    "schedulerHostAddress",
}
APP_KEYS = SHARED_KEYS | {
    "appID",
    "appChannelAddress",
    "appPort",
    "daprHTTPPort",
    "daprGRPCPort",
    "profilePort",
    "command",
    "metricsPort",
    "unixDomainSocket",
    "daprInternalGRPCPort",
    "appDirPath",
    "containerImage",
    "containerImagePullPolicy",
    "createService",
}


def deploy_documents() -> list[tuple[str, dict[str, Any]]]:
    """Every YAML document under deploy/, named ``path#index``."""
    found = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            found.append((f"{path.relative_to(ROOT)}#{index}", document))
    return found


DOCUMENTS = deploy_documents()


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [document for _, document in DOCUMENTS if document["kind"] == kind]


@cache
def validator_for(api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    name = SCHEMA_FILES.get((api_version, kind))
    if name is None:
        raise LookupError(f"no schema for {api_version} {kind}: add one to {SCHEMAS}")
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft202012Validator(schema)


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = validator_for(document["apiVersion"], document["kind"])
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def the_deployment() -> dict[str, Any]:
    (deployment,) = of_kind("Deployment")
    return deployment


def pod_annotations() -> dict[str, str]:
    annotations: dict[str, str] = the_deployment()["spec"]["template"]["metadata"]["annotations"]
    return annotations


def app_container() -> dict[str, Any]:
    (container,) = the_deployment()["spec"]["template"]["spec"]["containers"]
    return container


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.strip().partition(" ") for line in joined.splitlines())
        if word
    ]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_deploy_holds_manifests_and_components_of_each_kind() -> None:
    kinds = sorted({(d["apiVersion"], d["kind"]) for _, d in DOCUMENTS})
    assert kinds == sorted(SCHEMA_FILES)
    assert len(of_kind("Component")) >= 3  # the local Redis, and Redis and PostgreSQL in-cluster


@pytest.mark.parametrize(("where", "document"), DOCUMENTS, ids=[w for w, _ in DOCUMENTS])
def test_every_document_passes_its_schema(where: str, document: dict[str, Any]) -> None:
    assert schema_errors(document) == [], where
    assert document["metadata"]["name"]


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (
            lambda d: d["spec"]["template"]["metadata"]["annotations"].update(
                {"dapr.io/app-port": 3000}
            ),
            "is not of type",
        ),
        (lambda d: d["spec"]["template"]["spec"].update({"replica": 1}), "Additional properties"),
        (lambda d: d["spec"].pop("selector"), "'selector' is a required property"),
    ],
    ids=["unquoted annotation", "misspelled key", "missing selector"],
)
def test_the_kubernetes_schema_rejects_a_broken_deployment(breakage: Any, complaint: str) -> None:
    deployment = json.loads(json.dumps(the_deployment()))
    breakage(deployment)
    assert any(complaint in error for error in schema_errors(deployment))


def test_the_dapr_schema_rejects_a_component_without_a_version() -> None:
    (component, *_) = of_kind("Component")
    broken = json.loads(json.dumps(component))
    del broken["spec"]["version"]
    assert schema_errors(broken) == ["spec: 'version' is a required property"]


def test_every_state_store_is_an_actor_state_store() -> None:
    stores = [c for c in of_kind("Component") if c["spec"]["type"].startswith("state.")]
    assert {"state.redis", "state.postgresql"} <= {s["spec"]["type"] for s in stores}
    for store in stores:
        metadata = {item["name"]: item.get("value") for item in store["spec"]["metadata"]}
        assert metadata.get("actorStateStore") == "true", store["metadata"]["name"]


def test_the_pod_carries_the_dapr_annotations_daprd_reads() -> None:
    annotations = pod_annotations()
    assert set(annotations) <= INJECTOR_ANNOTATIONS
    assert annotations["dapr.io/enabled"] == "true"
    assert annotations["dapr.io/app-protocol"] == "http"
    assert annotations["dapr.io/enable-app-health-check"] == "true"
    assert int(annotations["dapr.io/app-health-probe-timeout"]) <= 1000 * int(
        annotations["dapr.io/app-health-probe-interval"]
    )  # daprd refuses a timeout longer than the interval (docs/protocol.md §3.1)
    ports = {p["name"]: p["containerPort"] for p in app_container()["ports"]}
    assert annotations["dapr.io/app-port"] == str(ports["http"])


def test_daprd_outlives_the_apps_drain_and_kubernetes_waits_for_both() -> None:
    graceful = int(pod_annotations()["dapr.io/graceful-shutdown-seconds"])
    grace_period = the_deployment()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert 30 < graceful < grace_period  # 30 s: the runtime's default drain_timeout (README)


async def test_the_health_path_is_one_the_app_serves_without_a_token() -> None:
    path = pod_annotations()["dapr.io/app-health-check-path"]
    assert app_container()["readinessProbe"]["httpGet"]["path"] == path
    async with asgi_client(quickstart.runtime) as client:
        answer = await client.get(path)
    assert answer.status_code == 200


def test_the_app_token_secret_reaches_daprd_and_the_app() -> None:
    secret_name = pod_annotations()["dapr.io/app-token-secret"]
    secrets = {s["metadata"]["name"]: s for s in of_kind("Secret")}
    assert "token" in secrets[secret_name]["stringData"]  # the key the injector reads
    env = {item["name"]: item for item in app_container()["env"]}
    assert env["APP_API_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": secret_name,
        "key": "token",
    }


def test_one_app_process_per_pod() -> None:
    env = {item["name"]: item.get("value") for item in app_container()["env"]}
    assert env["WEB_CONCURRENCY"] == "1"
    assert len(the_deployment()["spec"]["template"]["spec"]["containers"]) == 1


def test_the_dockerfile_runs_one_worker_as_a_user_on_the_manifests_port() -> None:
    instructions = dockerfile_instructions()
    words = [word for word, _ in instructions]
    assert words[0] == "FROM"
    assert re.fullmatch(r"python:3\.1\d-slim", instructions[0][1])
    user = [arguments for word, arguments in instructions if word == "USER"][-1]
    assert user not in {"0", "root"}
    assert words.index("USER") < words.index("CMD")
    (command,) = [json.loads(arguments) for word, arguments in instructions if word == "CMD"]
    assert command[0] == "uvicorn"
    assert (option(command, "--workers"), option(command, "--host")) == ("1", "0.0.0.0")
    port = pod_annotations()["dapr.io/app-port"]
    assert option(command, "--port") == port
    assert [arguments for word, arguments in instructions if word == "EXPOSE"] == [port]
    module, _, attribute = command[1].partition(":")
    assert hasattr(importlib.import_module(module), attribute)
    copied = [arguments.split()[0] for word, arguments in instructions if word == "COPY"]
    assert all((ROOT / source).exists() for source in copied)


def test_the_run_template_has_the_fields_the_dapr_cli_reads() -> None:
    template = yaml.safe_load(RUN_TEMPLATE.read_text())
    assert set(template) <= RUN_FILE_KEYS
    assert template["version"] == 1  # the CLI refuses a template without it
    assert set(template["common"]) <= SHARED_KEYS
    for path in template["common"]["resourcesPaths"]:
        assert (RUN_TEMPLATE.parent / path).is_dir(), path
    assert template["apps"]
    for app in template["apps"]:
        assert set(app) <= APP_KEYS, app["appID"]
        assert (RUN_TEMPLATE.parent / app["appDirPath"]).is_dir()  # the CLI requires it


@pytest.mark.parametrize(
    "app", yaml.safe_load(RUN_TEMPLATE.read_text())["apps"], ids=lambda a: a["appID"]
)
def test_each_app_of_the_run_template_runs_a_sample_on_its_documented_port(
    app: dict[str, Any],
) -> None:
    command = app["command"]
    assert command[:3] == ["python", "-m", "uvicorn"]
    assert option(command, "--port") == str(app["appPort"])
    assert "--workers" not in command or option(command, "--workers") == "1"
    target = command[3]
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    assert hasattr(module, attribute)
    # The port the sample's own docstring, or the README, runs it on.
    documented = f"uvicorn {target} --port {app['appPort']}"
    assert documented in (module.__doc__ or "") + (ROOT / "README.md").read_text()


def test_the_run_template_loads_the_actor_state_store() -> None:
    template = yaml.safe_load(RUN_TEMPLATE.read_text())
    (folder,) = template["common"]["resourcesPaths"]
    components = [
        yaml.safe_load(path.read_text())
        for path in sorted((RUN_TEMPLATE.parent / folder).glob("*.yaml"))
    ]
    stores = [c for c in components if c["spec"]["type"].startswith("state.")]
    assert len(stores) == 1  # daprd refuses a second actorStateStore
    (fleet,) = [app for app in template["apps"] if app["appID"] == "fleet"]
    assert (fleet["enableAppHealthCheck"], fleet["appHealthCheckPath"]) == (True, "/healthz")


# dapr/cli cmd/run.go: the flags of `dapr run` (those a page might use).
DAPR_RUN_FLAGS = {
    "--app-id",
    "--app-port",
    "--app-protocol",
    "--config",
    "--dapr-http-port",
    "--dapr-grpc-port",
    "--log-level",
    "--app-max-concurrency",
    "--resources-path",
    "--placement-host-address",
    "--scheduler-host-address",
    "--enable-app-health-check",
    "--app-health-check-path",
    "--app-health-probe-interval",
    "--app-health-probe-timeout",
    "--app-health-threshold",
    "--enable-api-logging",
    "--max-body-size",
    "--metrics-port",
    "--run-file",
}


def deploy_page_commands() -> list[list[str]]:
    page = (ROOT / "docs" / "deploy.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", page, flags=re.DOTALL)
    return [shlex.split(block.replace("\\\n", " ")) for block in blocks]


def test_the_deploy_pages_dapr_run_uses_the_clis_flags_and_one_worker() -> None:
    (argv,) = [argv for argv in deploy_page_commands() if argv[:2] == ["dapr", "run"]]
    separator = argv.index("--")
    dapr, app = argv[2:separator], argv[separator + 1 :]
    assert {word for word in dapr if word.startswith("--")} <= DAPR_RUN_FLAGS
    assert option(dapr, "--app-port") == option(app, "--port")
    assert option(dapr, "--app-health-check-path") == "/healthz"
    assert (ROOT / option(dapr, "--resources-path")).is_dir()
    assert app[0] == "uvicorn"
    assert option(app, "--workers") == "1"


def test_the_deploy_page_shows_the_dockerfiles_command() -> None:
    (command,) = [
        json.loads(arguments) for word, arguments in dockerfile_instructions() if word == "CMD"
    ]
    assert command in deploy_page_commands()
