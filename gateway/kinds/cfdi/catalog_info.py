"""What ``immex-gateway catalogs info`` reports: catalog sources, versions, row counts and SAT lists; the Anexo 22
appendices of the pedimento checks are listed (and warned about) with the CFDI catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.kinds.cfdi.catalogs import catalogs
from gateway.kinds.cfdi.matrix import RULES
from gateway.kinds.cfdi.satdata import CONFIG_KEYS, SatData
from gateway.kinds.pedimento import catalogs as anexo22


def describe(files: dict[str, Path], catalogs_dir: Path | None = None) -> dict[str, Any]:
    """Catalog sources, each catalog (source, SAT version, publication date, rows, age in days) plus, per SAT
    list, its config key, whether it is configured, rows and the rules using it."""
    data = SatData.from_files(files.get("rfc"), files.get("lco"), files.get("fix"), files.get("tigie"))
    sizes = {"rfc": len(data.rfcs or {}), "lco": len(data.lco or ()), "fix": len(data.fix[0]) if data.fix else 0,
             "tigie": len(data.fracciones or {})}
    lists = []
    for provider, key in CONFIG_KEYS.items():
        codes = [code for entry in RULES if entry.needs == provider for code in entry.codes]
        lists.append({"key": key, "configured": data.available(provider), "path": str(files.get(provider) or ""),
                      "rows": sizes[provider], "codes": codes})
    loaded = catalogs(catalogs_dir)
    appendices = anexo22.describe(catalogs_dir)
    package = {"catalogs": ["Anexo 22 (apéndices del paquete / package appendices)"],
               "source": "paquete del gateway / gateway package", "path": str(anexo22.package_folder()),
               "rows": {e["catalog"]: e["rows"] for e in appendices if not e["imported"]}}
    sources = loaded.info() + ([package] if package["rows"] else [])
    return {"catalogs": sources, "per_catalog": loaded.per_catalog() + appendices, "sat_data": lists}


def warnings(catalogs_dir: Path | None, max_age: float | None) -> list[str]:
    """One line per catalog older than ``max_age`` seconds (``[validation] catalog_max_age``), for /healthz and the
    overview; Spanish first."""
    if max_age is None:
        return []
    return [f"{entry['catalog']}: publicado el {entry['published']}, hace {entry['age_days']} días (más de "
            f"{max_age / 86400:g}); importe la edición vigente del SAT / older than catalog_max_age: "
            "run `immex-gateway catalogs import`" for entry in stale(catalogs_dir, max_age / 86400)]


def stale(catalogs_dir: Path | None, max_age_days: float | None) -> list[dict[str, Any]]:
    """The imported catalogs older than ``max_age_days`` (for /healthz and the overview); none without a limit.

    The wheel's catalogs and the appendices of the gateway's package carry no publication date, so their age is
    unknown and never warned about here; ``catalogs info`` shows them as "sin fecha"."""
    if max_age_days is None:
        return []
    return [entry for entry in catalogs(catalogs_dir).per_catalog() + anexo22.describe(catalogs_dir)
            if entry["age_days"] is not None and entry["age_days"] > max_age_days]
