"""Small MaxMind databases the tests write themselves (mmdb-writer), shaped like
GeoLite2-Country."""

from __future__ import annotations

import os
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def write_country_db(path: Path, networks: dict[str, str | None]) -> Path:
    """`networks`: CIDR -> ISO country code (None: a record without a country).

    Written beside `path`, then renamed over it: the atomic replacement geoipupdate makes.
    """
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    for cidr, country in networks.items():
        record = {"country": {"iso_code": country}} if country else {"continent": {"code": "EU"}}
        writer.insert_network(IPSet([cidr]), record)
    partial = path.with_suffix(".partial")
    writer.to_db_file(str(partial))
    os.replace(partial, path)
    return path
