"""Sets of addresses and networks (the deny list), whom a client address counts as (bans), and
what counts as a private address."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network


class AddressSet:
    """Membership of IPs in a list of IPs and CIDRs, parsed once; answers cached per address
    (bounded: a flood of distinct addresses evicts, it does not grow memory)."""

    def __init__(self, entries: list[str]) -> None:
        self.networks: list[IPv4Network | IPv6Network] = [
            ip_network(entry.strip(), strict=False) for entry in entries
        ]
        self.contains = lru_cache(maxsize=16_384)(self._contains)

    def _contains(self, host: str) -> bool:
        try:
            address = ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def is_private(host: str) -> bool:
    """Loopback, private, link-local and other non-global ranges (RFC 6890's lists)."""
    try:
        address = ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_private or address.is_loopback


class ClientKeys:
    """Whom an address counts as for bans, strikes, alerts and the concurrency limit: an IPv4
    address itself, an IPv6 address's network of `ipv6_prefix` bits (a /64 by default).

    One subscriber usually holds a whole /64 and can rotate through it at will: keyed by the
    full address, an IPv6 client would escape every ban by changing its last bits. Answers are
    cached per address (bounded).
    """

    def __init__(self, ipv6_prefix: int = 64) -> None:
        self.ipv6_prefix = ipv6_prefix
        self.key = lru_cache(maxsize=16_384)(self._key)

    def _key(self, host: str) -> str:
        try:
            address = ip_address(host)
        except ValueError:
            return host
        if isinstance(address, IPv6Address):
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            if self.ipv6_prefix < 128:
                return str(ip_network(f"{address}/{self.ipv6_prefix}", strict=False))
        return str(address)
