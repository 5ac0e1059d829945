"""Actor proxies and service invocation through the sidecar. STUB: being written."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ._actor import Actor


A = TypeVar("A", bound="Actor")


def actor_proxy(actor_class: type[A], actor_id: str) -> A:
    raise NotImplementedError
