"""Temporary, escalating bans of abusive clients (SECURITY_ENABLE_DDOS_PROTECTION)."""

from example_service.security.bans.base import KINDS, Ban, BanPolicy, BanStore, Kind
from example_service.security.bans.book import Bans

__all__ = ["KINDS", "Ban", "BanPolicy", "BanStore", "Bans", "Kind"]
