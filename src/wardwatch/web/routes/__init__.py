"""Routers of the web application, split by area, and a walker over what they declare.

Every API route declares the permission it needs through :func:`wardwatch.web.security.require`; the
authorization matrix test walks :func:`api_routes` and fails on a route that declares none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from wardwatch.web.auth.roles import Permission


def _routes(container: Any, prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in getattr(container, "routes", ()):
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        inner = getattr(route, "original_router", None)  # FastAPI ≥ 0.160 wraps included routers
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(inner, prefix + str(getattr(context, "prefix", "") or ""))


def all_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(full path, route) of every FastAPI route of ``app``, pages and API alike."""
    return list(_routes(app))


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(full path, route) of every route under ``/api/v1``."""
    return [(path, route) for path, route in all_routes(app) if path.startswith("/api/v1/")]


def declared_permission(route: APIRoute) -> Permission | None:
    """The permission the route's ``require(...)`` dependency checks, or None when it declares none."""
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        call: Callable[..., Any] | None = dependant.call
        found = getattr(call, "permission", None)
        if isinstance(found, Permission):
            return found
        stack.extend(dependant.dependencies)
    return None
