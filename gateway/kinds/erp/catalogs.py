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

from collections.abc import Callable
from datetime import date
from typing import Any

from gateway.kinds.pedimento.catalogs import catalog, numeric_code

#: (catalog key, the words the message uses for it)
NAMES = {
    "anexo22:unidades": "el catálogo de unidades de medida (Anexo 22, apéndice 7)",
    "anexo22": "el catálogo de unidades de medida (Anexo 22, apéndice 7)",
    "anexo22:paises": "el catálogo de países (Anexo 22, apéndice 4)",
    "c_ClaveUnidad": "el catálogo c_ClaveUnidad del SAT",
}


class CatalogMiss(ValueError):
    """A value not in its catalog (an ERP-CATALOG finding)."""


def value_check(name: str, label: str) -> Callable[[str], None]:
    """The check of one value against catalog ``name`` (raises CatalogMiss)."""
    where = NAMES[name]
    if name in ("anexo22:unidades", "anexo22"):
        units = catalog("unidades")

        def unit(value: str) -> None:
            if numeric_code(value) not in units:
                raise CatalogMiss(f"{label} '{value}' no está en {where}")

        return unit
    if name == "anexo22:paises":
        countries = catalog("paises")

        def country(value: str) -> None:
            if value not in countries:
                raise CatalogMiss(f"{label} '{value}' no está en {where}")

        return country
    from gateway.kinds.cfdi.catalogs import catalogs

    codes = catalogs().codes["c_ClaveUnidad"]

    def sat_unit(value: str) -> None:
        if value not in codes:
            raise CatalogMiss(f"{label} '{value}' no está en {where} (p. ej. H87 pieza, KGM kilogramo)")

    return sat_unit


class TariffCheck:
    """Fracción and NICO of a row against the TIGIE: (field, message) for each miss."""

    def __init__(self, tigie: dict[str, Any] | None, on: date | None = None) -> None:
        self._dated = tigie  # fracción+NICO (10 digits) -> satdata.Fraccion (umt, inicio, fin), when configured
        self._on = on or date.today()
        if tigie is not None:
            self._codes = frozenset(tigie)
            self._fracciones = frozenset(code[:8] for code in tigie)
            self._source = "la tabla de fracciones (TIGIE) configurada"
        else:
            from gateway.kinds.pedimento import tariff

            self._codes, self._fracciones = tariff.codes(), tariff.fracciones()
            self._source = "el catálogo c_FraccionArancelaria del SAT"

    def __call__(self, fraccion: str | None, nico: str | None) -> list[tuple[str, str]]:
        if not fraccion or not self._codes:
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
        return []
