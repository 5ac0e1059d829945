"""Actors in a Django app (ASGI); Django has no lifespan protocol, so the front door runs the
runtime's lifespan on its own.

    dapr-actors run samples.frameworks.django_app:app --app-id fleet

A real project keeps its settings module and its ``asgi.py``; only the last line is new there.
"""

from __future__ import annotations

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from samples.frameworks.fleet import fleet_runtime

settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="sample-only")
django.setup()


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello from django")


urlpatterns = [path("hello", hello)]

from django.core.asgi import get_asgi_application  # noqa: E402 (after settings, as Django wants)

runtime = fleet_runtime()
app = runtime.front_door(get_asgi_application())
