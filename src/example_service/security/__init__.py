"""Edge protection beyond the request checks: geo blocking, abuse bans, security alerting.

`install_edge_protection` (create_app) adds the layers that are on; `start_edge_protection`
(the lifespan) starts what they need while the app runs. Everything is off by default and then
nothing here is installed or started: no layer, no task, not even `maxminddb` imported.

Application-level protection complements, and does not replace, a CDN or load balancer for
volumetric attacks: by the time a request reaches this process it has already cost a
connection, TLS and HTTP parsing. These layers make abusive clients cheap to refuse and stop
them from reaching the application's work; absorbing a flood is the network edge's job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any

from fastapi import FastAPI

from example_service.errors.problem import ProblemRenderer, problem_responses
from example_service.settings import Settings


def install_edge_protection(
    app: FastAPI, settings: Settings, renderer: ProblemRenderer, registry: Any | None
) -> None:
    """Add the geo and abuse layers that are on, inside CORS and outside the input guard.

    Call it between adding the input guard and CORS (`app.add_middleware` wraps what was added
    before): the abuse layer ends up outside the geo layer, so a banned or denied client costs
    a dict lookup, not a database lookup. `registry`: the Prometheus registry, if any.
    """
    security = settings.security
    app.state.geo = app.state.bans = app.state.security_alerts = None
    statuses: list[int] = []
    if security.enable_geo_blocking:
        from example_service.security.geoip import GeoBlockMiddleware, GeoDatabase  # noqa: PLC0415

        geo = GeoDatabase(security)
        app.state.geo = geo
        app.add_middleware(GeoBlockMiddleware, geo=geo, renderer=renderer)
        statuses.append(403)
    alerting = security.enable_alerting
    if security.protection_on or alerting:
        _install_abuse(app, settings, renderer, registry)
        statuses += [403, 429]
    for route in app.routes:
        responses = getattr(route, "responses", None)
        if isinstance(responses, dict):
            for status, response in problem_responses(*statuses).items():
                responses.setdefault(status, response)


def _install_abuse(
    app: FastAPI, settings: Settings, renderer: ProblemRenderer, registry: Any | None
) -> None:
    from example_service.security.abuse import AbuseMiddleware, Watch  # noqa: PLC0415
    from example_service.security.addresses import AddressSet, ClientKeys  # noqa: PLC0415
    from example_service.security.alerts import SecurityAlerts  # noqa: PLC0415
    from example_service.security.bans import BanPolicy, Bans  # noqa: PLC0415
    from example_service.security.bans.base import KINDS  # noqa: PLC0415

    security = settings.security
    bans = None
    if security.enable_ddos_protection:
        counter = None
        if registry is not None:
            from prometheus_client import Counter  # noqa: PLC0415 - that mode only

            counter = Counter(
                "security_bans_total", "Clients banned, by reason", ["kind"], registry=registry
            )
            for kind in KINDS:  # at 0 from the start: the alert rules' series exist
                counter.labels(kind)
        bans = Bans(
            BanPolicy.from_settings(security),
            counter=counter,
            prefix=security.ban_prefix,
            sync_seconds=security.ban_sync_seconds,
        )
    alerts = SecurityAlerts(security, registry=registry) if security.enable_alerting else None
    app.state.bans = bans
    app.state.security_alerts = alerts
    keys = ClientKeys(security.ban_ipv6_prefix_length)
    watch = None
    if bans is not None or alerts is not None:
        watch = Watch(bans, alerts, AddressSet(security.trusted_proxies), keys)
    app.add_middleware(
        AbuseMiddleware,
        renderer=renderer,
        bans=bans,
        denied=AddressSet(security.denied_addresses) if security.denied_addresses else None,
        max_concurrent=security.max_concurrent_per_client,
        watch=watch,
        keys=keys,
    )


async def start_edge_protection(app: FastAPI, settings: Settings, stack: AsyncExitStack) -> None:
    """The lifespan's part: the database watcher, the ban sync, the alert webhook."""
    state = app.state
    if state.geo is not None:
        _background(stack, state.geo.watch())
    bans = state.bans
    if bans is not None:
        # part: redis
        if state.redis is not None:
            bans.use_redis(state.redis)
            stack.callback(bans.use_memory)
        # end part: redis
        await bans.sync()  # bans in force before the first request is served
        _background(stack, bans.run_sync())
    alerts = state.security_alerts
    if alerts is not None:
        # part: redis
        if state.redis is not None:
            alerts.use_redis(state.redis)
            stack.callback(alerts.use_memory)
        # end part: redis
        webhook = settings.security.alert_webhook_service
        if webhook is not None:
            alerts.webhook = state.outbound[webhook]
        stack.push_async_callback(alerts.aclose)


def _background(stack: AsyncExitStack, work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
