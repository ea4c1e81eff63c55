"""What ``immex-gateway catalogs info`` reports: catalog sources, versions, row counts and SAT lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.kinds.cfdi.catalogs import catalogs
from gateway.kinds.cfdi.matrix import RULES
from gateway.kinds.cfdi.satdata import CONFIG_KEYS, SatData


def describe(files: dict[str, Path]) -> dict[str, Any]:
    """Catalog sources plus, per SAT list, its config key, whether it is configured, rows and the rules using it."""
    data = SatData.from_files(files.get("rfc"), files.get("lco"), files.get("fix"), files.get("tigie"))
    sizes = {"rfc": len(data.rfcs or {}), "lco": len(data.lco or ()), "fix": len(data.fix[0]) if data.fix else 0,
             "tigie": len(data.fracciones or {})}
    lists = []
    for provider, key in CONFIG_KEYS.items():
        codes = [code for entry in RULES if entry.needs == provider for code in entry.codes]
        lists.append({"key": key, "configured": data.available(provider), "path": str(files.get(provider) or ""),
                      "rows": sizes[provider], "codes": codes})
    return {"catalogs": catalogs().info(), "sat_data": lists}
