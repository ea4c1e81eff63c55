"""Coded ERP values against their catalogs: the same catalogs the pedimento and CFDI kinds load, never copies.

- Anexo 22 apéndice 7 (units: UMT, or a unit field with ``catalog = "anexo22"``) and apéndice 4 (countries):
  ``gateway/kinds/pedimento/catalogs``;
- c_ClaveUnidad (a unit field with ``catalog = "c_ClaveUnidad"``): the CFDI kind's SAT catalogs (satcfdi);
- TIGIE fracción + NICO: with ``validation.tigie_fracciones`` configured, that table with its validity dates
  (the one the Comercio Exterior rules use), else the c_FraccionArancelaria the pedimento rules use (no dates).

A single value is checked where it is converted (``value_check``); fracción and NICO are checked together once
the row is converted (``TariffCheck``), because a NICO exists only under its fracción. A miss is an
``ERP-CATALOG`` error with the row and the column it was read from.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from functools import cache
from typing import Any

from gateway.kinds.pedimento.catalogs import catalog

#: (catalog key, the words the message uses for it)
NAMES = {
    "anexo22:unidades": "el catálogo de unidades de medida (Anexo 22, apéndice 7)",
    "anexo22": "el catálogo de unidades de medida (Anexo 22, apéndice 7)",
    "anexo22:paises": "el catálogo de países (Anexo 22, apéndice 4)",
    "c_ClaveUnidad": "el catálogo c_ClaveUnidad del SAT",
}


def codes(name: str) -> Container[str]:
    """Every spelling catalog ``name`` accepts, so that a check is one lookup per value."""
    if name in ("anexo22:unidades", "anexo22"):  # numeric keys: "6", "06" and "006" are the same unit
        keys = catalog("unidades").values
        return frozenset(k.zfill(width) for k in keys for width in (1, 2, 3))
    if name == "anexo22:paises":
        return frozenset(catalog("paises").values)
    return _sat_units()


@cache
def _sat_units() -> Container[str]:
    """c_ClaveUnidad: the shared CFDI catalogs when this process has loaded them, else that one table read from
    the same SAT database (2,400 keys) — not every CFDI catalog (≈ 10 MB) into a process that reads ERP exports."""
    import sqlite3

    from gateway.kinds.cfdi import catalogs as cfdi

    if cfdi._shared is not None:
        return cfdi._shared.codes["c_ClaveUnidad"]
    connection = sqlite3.connect(f"file:{cfdi.satcfdi_database()}?mode=ro", uri=True)
    try:
        rows = connection.execute(f'SELECT key FROM "{cfdi._TABLES["c_ClaveUnidad"]}"')
        return frozenset(cfdi._plain(key) for (key,) in rows)
    finally:
        connection.close()


def miss(name: str, label: str, value: str) -> str:
    """Why ``value`` is an ERP-CATALOG error."""
    hint = " (p. ej. H87 pieza, KGM kilogramo)" if name == "c_ClaveUnidad" else ""
    return f"{label} '{value}' no está en {NAMES[name]}{hint}"


class TariffCheck:
    """Fracción and NICO of a row against the TIGIE: (field, message) for each miss."""

    def __init__(self, tigie: dict[str, Any] | None, on: date | None = None) -> None:
        self._dated = tigie  # fracción+NICO (10 digits) -> satdata.Fraccion (umt, inicio, fin), when configured
        self._on = on or date.today()
        self._valid: set[str] = set()
        if tigie is not None:
            self._codes = frozenset(tigie)
            self._fracciones = frozenset(code[:8] for code in tigie)
            self._source = "la tabla de fracciones (TIGIE) configurada"
        else:
            from gateway.kinds.pedimento import tariff

            self._codes, self._fracciones = tariff.codes(), tariff.fracciones()
            self._source = "el catálogo c_FraccionArancelaria del SAT"

    def __call__(self, fraccion: str, nico: str | None) -> list[tuple[str, str]]:
        """The misses of a row with a fracción (the caller skips rows without one)."""
        if nico and fraccion + nico in self._valid:
            return []
        if not self._codes:
            return []
        if fraccion not in self._fracciones:
            return [("fraccion", f"la fracción arancelaria {fraccion} no existe en {self._source}")]
        if not nico:
            return []
        code = fraccion + nico
        if code not in self._codes:
            return [("nico", f"el NICO {nico} no existe para la fracción {fraccion} en {self._source}")]
        entry = self._dated.get(code) if self._dated is not None else None
        if entry is not None and not entry.vigente(self._on):
            since = entry.inicio.isoformat() if entry.inicio else "siempre"
            until = entry.fin.isoformat() if entry.fin else "hoy"
            return [("fraccion", f"la fracción {fraccion} con NICO {nico} no está vigente el "
                                 f"{self._on.isoformat()} (vigencia: {since} a {until}, {self._source})")]
        self._valid.add(code)  # found and in force: the next row with it costs one set lookup
        return []
