"""SAT catalog columns the matrices need and satcfdi's catalogs.db lacks, shipped with the product.

CFDI40163/40164 read c_ClaveProdServ's "Incluir IVA/IEPS trasladado" and "Complemento que debe
incluir"; CCE155/162 read c_UnidadAduana and the UMT of each fracción of c_FraccionArancelaria.
They come from SAT's own files (provenance in ``data/sat_columns.json``), kept compact: only the
c_ClaveProdServ keys whose flags say more than "Opcional", only key, UMT and dates of the fracciones.

Loading lives here and nowhere else, so that catalogs an operator imports from SAT's published
files can later replace these copies in one place (``sat_columns()`` is the one entry point).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
COLUMNS_PATH = DATA / "sat_columns.json"
FRACCIONES_PATH = DATA / "c_fraccion_umt.csv"
_DEFAULT_START = date(2024, 1, 18)  # c_FraccionArancelaria rows without dates are in force from this day


@dataclass(frozen=True)
class Vigencia:
    """A catalog entry's FechaInicioVigencia/FechaFinVigencia (both inclusive; None = open)."""

    inicio: date | None
    fin: date | None

    def vigente(self, on: date) -> bool:
        return (self.inicio is None or self.inicio <= on) and (self.fin is None or on <= self.fin)


@dataclass(frozen=True)
class ProdServFlags:
    """A c_ClaveProdServ key whose columns ask for something: "Sí" for IVA/IEPS, a complement's name."""

    iva: bool
    ieps: bool
    complemento: str


@dataclass(frozen=True)
class SatColumns:
    unidad_aduana: dict[str, tuple[str, Vigencia]]  # c_UnidadAduana key -> (description, vigencia)
    umt: dict[str, tuple[str, Vigencia]]  # fracción -> (UMT: a c_UnidadAduana key, vigencia)
    prod_serv: dict[str, ProdServFlags]  # only the keys that require a tax or a complement
    version: str
    by_form: dict[str, str]  # "01" and "KILO" -> "01": every form ``unidad_forms`` accepts -> its key

    def unidad_forms(self, clave: str) -> frozenset[str]:
        """The forms SAT's documents allow for ``Concepto@Unidad`` naming a c_UnidadAduana entry: the key
        (matrix CCE155: "un valor del catálogo") or its description (Guía de llenado: "Unidad= KILO"),
        compared upper-case and without surrounding blanks."""
        entry = self.unidad_aduana.get(clave)
        return frozenset({clave, entry[0].upper()}) if entry else frozenset()

    def unidad_aduana_of(self, unidad: str, on: date) -> str | None:
        """The c_UnidadAduana key that ``unidad`` (key or description) names and is in force on ``on``."""
        value = unidad.strip().upper()
        key = self.by_form.get(value)
        if key is None:
            return None
        return key if self.unidad_aduana[key][1].vigente(on) else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@lru_cache(maxsize=1)
def sat_columns() -> SatColumns:
    """The shipped copies, read once per process."""
    raw = json.loads(COLUMNS_PATH.read_text(encoding="utf-8"))
    unidad = {key: (desc, Vigencia(_date(start), _date(end))) for key, (desc, start, end)
              in raw["c_UnidadAduana"].items()}
    flags = {key: ProdServFlags(v["iva"] == "Sí", v["ieps"] == "Sí", v["complemento"])
             for key, v in raw["c_ClaveProdServ"].items()}
    umt: dict[str, tuple[str, Vigencia]] = {}
    default = Vigencia(_DEFAULT_START, None)
    with FRACCIONES_PATH.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split(",")
            vigencia = default if len(fields) == 2 else Vigencia(_date(fields[2]), _date(fields[3]))
            umt[fields[0]] = (fields[1], vigencia)
    forms = {form: key for key, (desc, _) in unidad.items() for form in (key, desc.upper())}
    return SatColumns(unidad, umt, flags, raw["version"], forms)
