"""SAT-side data the matrices check against: l_RFC, LCO, Banxico's FIX rate, the TIGIE's fracciones.

A PAC checks these against SAT's live lists. The gateway runs offline, so each list comes
from a local file the operator keeps current (``[validation]`` keys in the configuration).
A rule that needs a list that is not configured is not run, and the document gets one info
finding naming the rules left unchecked — never a silent pass.

File formats (UTF-8 CSV with a header row; extra columns are ignored):

- ``sat_rfc_list``  ``rfc,nombre,codigo_postal,regimenes`` — RFCs inscribed and not cancelled (l_RFC);
  nombre, codigo_postal and regimenes (``601;626``) may be empty, and then those checks are skipped; an optional
  ``retencion`` column carries l_RFC's "marca Retención" (1 or 2, RESICO personas físicas: CFDI140224/140225).
- ``sat_lco_list``  ``rfc`` — RFCs in SAT's list of taxpayers with certificates (LCO).
- ``fix_rates``     ``fecha,tipo_cambio`` — Banxico FIX (MXN per USD) by date of application.
- ``tigie_fracciones`` ``fraccion,umt,inicio_vigencia,fin_vigencia`` — UMT (c_UnidadAduana) and
  validity (ISO dates, fin may be empty) of each fracción arancelaria.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from gateway.errors import ReferenceDataError

#: provider name -> configuration key that feeds it
CONFIG_KEYS = {
    "rfc": "validation.sat_rfc_list",
    "lco": "validation.sat_lco_list",
    "fix": "validation.fix_rates",
    "tigie": "validation.tigie_fracciones",
}


class SatDataError(ReferenceDataError, ValueError):
    """A configured SAT data file cannot be read; the message names the file and row."""


@dataclass(frozen=True)
class RfcEntry:
    rfc: str
    nombre: str | None
    codigo_postal: str | None
    regimenes: frozenset[str]
    retencion: str | None = None  # l_RFC's "marca Retención" (RESICO: 1 no ISR retention, 2 ISR at 1.25 %)


@dataclass(frozen=True)
class Fraccion:
    umt: str
    inicio: date | None
    fin: date | None

    def vigente(self, on: date) -> bool:
        return (self.inicio is None or self.inicio <= on) and (self.fin is None or on <= self.fin)


@dataclass
class SatData:
    """The SAT-side lists available to this process; ``None`` means not configured."""

    rfcs: dict[str, RfcEntry] | None = None
    lco: frozenset[str] | None = None
    fix: tuple[list[date], list[Decimal]] | None = None
    fracciones: dict[str, Fraccion] | None = None
    files: dict[str, Path] = field(default_factory=dict)

    def available(self, provider: str) -> bool:
        return {"rfc": self.rfcs, "lco": self.lco, "fix": self.fix, "tigie": self.fracciones}[provider] is not None

    def fix_rate(self, on: date) -> tuple[date, Decimal] | None:
        """The FIX rate in force on ``on``: the latest one dated on or before it."""
        if self.fix is None:
            return None
        dates, rates = self.fix
        i = bisect.bisect_right(dates, on)
        return (dates[i - 1], rates[i - 1]) if i else None

    @classmethod
    def from_files(cls, rfc_list: Path | None = None, lco_list: Path | None = None, fix_rates: Path | None = None,
                   tigie: Path | None = None) -> SatData:
        data = cls()
        if rfc_list is not None:
            data.rfcs = {}
            for _row, line in _rows(rfc_list, ["rfc"]):
                rfc = line["rfc"].strip().upper()
                regimenes = frozenset(r.strip() for r in (line.get("regimenes") or "").split(";") if r.strip())
                data.rfcs[rfc] = RfcEntry(rfc, (line.get("nombre") or "").strip() or None,
                                          (line.get("codigo_postal") or "").strip() or None, regimenes,
                                          (line.get("retencion") or "").strip() or None)
            data.files["rfc"] = rfc_list
        if lco_list is not None:
            data.lco = frozenset(line["rfc"].strip().upper() for _, line in _rows(lco_list, ["rfc"]))
            data.files["lco"] = lco_list
        if fix_rates is not None:
            pairs = sorted((_date(line["fecha"], fix_rates, row), _decimal(line["tipo_cambio"], fix_rates, row))
                           for row, line in _rows(fix_rates, ["fecha", "tipo_cambio"]))
            data.fix = ([d for d, _ in pairs], [r for _, r in pairs])
            data.files["fix"] = fix_rates
        if tigie is not None:
            data.fracciones = {
                line["fraccion"].strip(): Fraccion(line["umt"].strip(), _date(line.get("inicio_vigencia"), tigie, row),
                                                   _date(line.get("fin_vigencia"), tigie, row))
                for row, line in _rows(tigie, ["fraccion", "umt"])
            }
            data.files["tigie"] = tigie
        return data


def _rows(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise SatDataError(f"{path}: missing column(s) {', '.join(missing)} in the header row")
            return [(i, line) for i, line in enumerate(reader, start=2)]
    except OSError as exc:
        raise SatDataError(f"{path}: cannot be read ({exc.strerror})") from None


def _date(raw: str | None, path: Path, row: int) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SatDataError(f"{path}, row {row}: '{raw}' is not a date (YYYY-MM-DD)") from None


def _decimal(raw: str, path: Path, row: int) -> Decimal:
    try:
        return Decimal(raw.strip())
    except InvalidOperation:
        raise SatDataError(f"{path}, row {row}: '{raw}' is not a number") from None
