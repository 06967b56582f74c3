"""`example-service security bans list | unban ADDRESS`: the shared bans, from any machine that
has the service's settings.

With REDIS_URL these read and change the bans every server process enforces (under
SECURITY_BAN_PREFIX); a process drops an unbanned client within SECURITY_BAN_SYNC_SECONDS.
Without Redis each server process keeps its own bans in its memory: there is nothing shared to
reach from here. Redis and the ban modules are imported when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from example_service.settings import Settings

IN_PROCESS = (
    "Bans are in-process (REDIS_URL is not set): each server process keeps its own, in its "
    "memory, and nothing is shared to {action} from here. They end by themselves; set "
    "REDIS_URL for bans every process shares."
)


def _settings() -> Settings:
    # Not `Settings.check()`: what production refuses to serve with does not concern the bans.
    from example_service.settings import Settings  # noqa: PLC0415

    return Settings.load()


def _run(settings: Settings, operation: str, address: str = "") -> Any:
    """`operation` on the shared bans, over a Redis layer of this command's own."""
    import asyncio  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from example_service.observability.logging import configure_logging  # noqa: PLC0415
    from example_service.redis.client import create_redis  # noqa: PLC0415
    from example_service.resilience.errors import BackendUnavailable  # noqa: PLC0415
    from example_service.security.bans import BanPolicy  # noqa: PLC0415
    from example_service.security.bans.redis import RedisBans  # noqa: PLC0415

    configure_logging(settings.log.model_copy(update={"level": "WARNING"}), sys.stderr.buffer)
    security = settings.security

    async def run() -> Any:
        layer = create_redis(settings.redis)
        assert layer is not None  # noqa: S101 - REDIS_URL is set (checked by the caller)
        bans = RedisBans(layer, BanPolicy.from_settings(security), security.ban_prefix)
        try:
            if operation == "unban":
                return await bans.unban(address)
            active = await bans.active()
            levels = await asyncio.gather(*(bans.level(a) for a in active))
            return [
                {"address": a, "seconds_left": round(left, 1), "level": level}
                for (a, left), level in sorted(zip(active.items(), levels, strict=True))
            ]
        finally:
            await layer.aclose()

    try:
        return asyncio.run(run())
    except BackendUnavailable as exc:
        typer.echo(f"error: Redis did not answer: {exc}", err=True)
        raise typer.Exit(code=1) from exc


def build() -> typer.Typer:
    security = typer.Typer(help="Operate the edge protection.", no_args_is_help=True)
    bans = typer.Typer(help="Temporary bans of abusive clients.", no_args_is_help=True)
    security.add_typer(bans, name="bans")

    @bans.command("list")
    def list_bans(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """The bans in force: address, seconds left, level (1: first ban)."""
        settings = _settings()
        if settings.redis.url is None:
            typer.echo(IN_PROCESS.format(action="list"))
            return
        entries = _run(settings, "list")
        if as_json:
            import orjson  # noqa: PLC0415

            typer.echo(orjson.dumps(entries, option=orjson.OPT_INDENT_2).decode())
        elif not entries:
            typer.echo("no bans in force")
        else:
            typer.echo(f"{'ADDRESS':<40} {'SECONDS LEFT':>12} {'LEVEL':>5}")
            for entry in entries:
                typer.echo(
                    f"{entry['address']:<40} {entry['seconds_left']:>12.1f} {entry['level']:>5}"
                )

    @bans.command("unban")
    def unban(
        address: Annotated[
            str, typer.Argument(help="An IPv4 or IPv6 address, or an IPv6 network as listed.")
        ],
    ) -> None:
        """Lift ADDRESS's ban and forget its strikes and level (its next ban is the first).

        An IPv6 address is banned as its network (SECURITY_BAN_IPV6_PREFIX_LENGTH bits): any
        address in it, or the network as `list` shows it, lifts that ban.
        """
        from ipaddress import ip_address, ip_network  # noqa: PLC0415

        from example_service.security.addresses import ClientKeys  # noqa: PLC0415

        settings = _settings()
        text = address.strip()
        try:
            if "/" in text:
                address = str(ip_network(text, strict=False))
            else:
                keys = ClientKeys(settings.security.ban_ipv6_prefix_length)
                address = keys.key(str(ip_address(text)))
        except ValueError:
            typer.echo(f"error: {text!r} is not an IP address", err=True)
            raise typer.Exit(code=2) from None
        if settings.redis.url is None:
            typer.echo(IN_PROCESS.format(action="unban"), err=True)
            raise typer.Exit(code=1)
        if _run(settings, "unban", address):
            typer.echo(f"unbanned {address}")
        else:
            typer.echo(f"{address} was not banned (its strikes and level are forgotten)")

    return security
