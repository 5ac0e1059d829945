"""Dapr resource files the dev sidecar reads: ``HTTPEndpoint`` (docs/protocol.md §8.4).

The files are Dapr's own format, so the folder given to the dev sidecar also works with
``dapr run --resources-path``::

    apiVersion: dapr.io/v1alpha1
    kind: HTTPEndpoint
    metadata:
      name: mathHTTPEndpoint
    spec:
      baseUrl: http://localhost:3001
      headers:
        - name: Authorization
          value: Bearer my-token

Other kinds (components, configurations, ...) are skipped. Anything the dev sidecar cannot honour
(``secretKeyRef`` header values, ``clientTLS``) is refused when loading, naming the file, rather
than ignored and failing later in a way that is hard to trace back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

API_VERSION = "dapr.io/v1alpha1"
KIND = "HTTPEndpoint"
_SUFFIXES = (".yaml", ".yml")


class ResourceError(ValueError):
    """A resource file the dev sidecar cannot use; the message names the file and the fix."""


@dataclass(frozen=True, slots=True)
class HTTPEndpoint:
    """One ``HTTPEndpoint``: invoking ``name`` calls ``base_url``/<method> with ``headers`` set."""

    name: str
    base_url: str
    headers: tuple[tuple[str, str], ...] = ()
    source: str = ""
    """The file it was read from, for messages."""


def load_http_endpoints(path: str | os.PathLike[str]) -> dict[str, HTTPEndpoint]:
    """The ``HTTPEndpoint`` resources in the YAML files of folder ``path`` (or in one file), by name."""
    endpoints: dict[str, HTTPEndpoint] = {}
    for file in _resource_files(Path(path)):
        for where, document in _documents(file):
            if not _is_http_endpoint(document, where):
                continue
            endpoint = _parse_endpoint(document, where, str(file))
            earlier = endpoints.get(endpoint.name)
            if earlier is not None:
                raise ResourceError(
                    f"{where}: HTTPEndpoint {endpoint.name!r} is already defined in "
                    f"{earlier.source}; give each HTTPEndpoint a unique metadata.name"
                )
            endpoints[endpoint.name] = endpoint
    return endpoints


def _resource_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ResourceError(
            f"resources path {str(path)!r} does not exist; point it at a folder of Dapr "
            "resource YAML files"
        )
    # Like daprd: the folder's own .yaml/.yml files, not sub-folders; sorted for stable errors.
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _SUFFIXES)


def _documents(file: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each non-empty YAML document of ``file`` with a label for messages."""
    try:
        documents = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as error:
        raise ResourceError(f"{file}: cannot be read: {error}") from error
    except yaml.YAMLError as error:
        raise ResourceError(f"{file}: not valid YAML: {error}") from error
    labelled: list[tuple[str, dict[str, Any]]] = []
    for index, document in enumerate(documents, start=1):
        if document is None:  # an empty document, e.g. after a trailing ``---``
            continue
        where = f"{file} (document {index})" if len(documents) > 1 else str(file)
        if not isinstance(document, dict):
            raise ResourceError(
                f"{where}: a resource must be a mapping with apiVersion, kind, metadata and "
                f"spec, not {type(document).__name__}"
            )
        labelled.append((where, document))
    return labelled


def _is_http_endpoint(document: dict[str, Any], where: str) -> bool:
    if document.get("kind") != KIND:
        return False
    if document.get("apiVersion") != API_VERSION:
        raise ResourceError(
            f"{where}: HTTPEndpoint has apiVersion {document.get('apiVersion')!r}; "
            f"use apiVersion: {API_VERSION}"
        )
    return True


def _parse_endpoint(document: dict[str, Any], where: str, source: str) -> HTTPEndpoint:
    metadata = _mapping(document.get("metadata"), where, "metadata")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ResourceError(f"{where}: HTTPEndpoint needs metadata.name, the name callers invoke")
    where = f"{where}: HTTPEndpoint {name!r}"
    spec = _mapping(document.get("spec"), where, "spec")
    if "clientTLS" in spec:
        raise ResourceError(
            f"{where}: spec.clientTLS is not supported by the dev sidecar; remove it (the "
            "system's trusted CAs are used for https)"
        )
    return HTTPEndpoint(
        name=name,
        base_url=_base_url(spec.get("baseUrl"), where),
        headers=_headers(spec.get("headers"), where),
        source=source,
    )


def _mapping(value: Any, where: str, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResourceError(f"{where}: {field} must be a mapping, got {value!r}")
    return value


def _base_url(value: Any, where: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ResourceError(
            f"{where}: spec.baseUrl must be an http:// or https:// URL with a host, "
            f"e.g. http://localhost:3001; got {value!r}"
        )
    if parts.query or parts.fragment:
        raise ResourceError(
            f"{where}: spec.baseUrl {value!r} has a query or fragment; the method and the "
            "caller's query string are appended to it, so give only scheme, host and path"
        )
    return str(value).rstrip("/")


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ResourceError(
            f"{where}: spec.headers must be a list of {{name, value}}, got {value!r}"
        )
    return tuple(_header(entry, where) for entry in value)


def _header(entry: Any, where: str) -> tuple[str, str]:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ResourceError(f"{where}: each spec.headers entry needs a name, got {entry!r}")
    name: str = entry["name"]
    if "secretKeyRef" in entry:
        raise ResourceError(
            f"{where}: header {name!r} uses secretKeyRef, which the dev sidecar cannot resolve "
            "(it has no secret stores); write the value inline with value: ..."
        )
    value = entry.get("value")
    if isinstance(value, bool):  # YAML true/false; written the way daprd's JSON value reads
        value = str(value).lower()
    elif isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise ResourceError(
            f"{where}: header {name!r} needs a one-line value (value: ...), got {value!r}"
        )
    if any(c in name for c in " \t\r\n:\0"):
        raise ResourceError(f"{where}: header name {name!r} is not a valid HTTP header name")
    return name, value
