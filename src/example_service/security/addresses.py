"""Sets of addresses and networks (the deny list), and what counts as a private address."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network


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
