"""What SAT accepted on a given day: the effective-date ranges of the things in CFDI rules that changed.

An invoice is judged by the rules in force on its ``Fecha``, not by today's: archives, audits and late
arrivals re-validate invoices issued under earlier rules, and an export stamped in 2023 with Comercio
Exterior 1.1 was right then. A rule that depends on something SAT changed asks ``in_force(key, fecha)``
instead of hard-coding today's answer, and names the dates in its finding. Each entry gives the first and the
last day (both inclusive) and SAT's publication it comes from, so a change SAT announces is one line here.

Catalog entries carry their own validity dates (the catalogs module); this table is for rules, complement
versions and limits. ``docs/cfdi-coverage.md`` ("Dates") lists what is date-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Period:
    """Days a rule, complement version or limit was in force: ``start`` to ``end``, inclusive; None = open."""

    what: str  # in the words of the findings (Spanish)
    start: date | None
    end: date | None
    source: str

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def describe(self) -> str:
        """'vigente del 18/01/2024 en adelante', 'vigente hasta el 17/01/2024', for a finding's message."""
        if self.start and self.end:
            return f"vigente del {_d(self.start)} al {_d(self.end)}"
        if self.end:
            return f"vigente hasta el {_d(self.end)}"
        if self.start:
            return f"vigente desde el {_d(self.start)}"
        return "vigente"


#: key -> the period it was in force. Keys are what rules ask for; add a line when SAT announces a change.
PERIODS: dict[str, Period] = {
    "cfdi32": Period("el CFDI versión 3.2", None, date(2017, 12, 31),
                     "SAT, Anexo 20 versión 3.3: la 3.2 se pudo emitir hasta el 31 de diciembre de 2017"),
    "cfdi33": Period("el CFDI versión 3.3", date(2017, 7, 1), date(2023, 3, 31),
                     "SAT, Anexo 20 versión 3.3 (desde el 1 de julio de 2017); RMF 2023: la 3.3 hasta el 31 de marzo "
                     "de 2023"),
    "cce11": Period("el complemento de Comercio Exterior 1.1", None, date(2024, 1, 17),
                    "SAT, Comercio Exterior: la versión 2.0 sustituye a la 1.1 a partir del 18 de enero de 2024"),
    "cce20": Period("el complemento de Comercio Exterior 2.0", date(2024, 1, 18), None,
                    "SAT, Comercio Exterior 2.0 (publicado el 19 de diciembre de 2023), obligatorio desde el "
                    "18 de enero de 2024"),
}

#: Comercio Exterior versions by complement namespace, for rules that accept "the version in force".
CCE_VERSIONS: dict[str, str] = {
    "http://www.sat.gob.mx/ComercioExterior11": "cce11",
    "http://www.sat.gob.mx/ComercioExterior20": "cce20",
}


def in_force(key: str, when: date | datetime | None) -> bool:
    """Whether ``key`` was in force on ``when`` (the invoice's Fecha); today when the Fecha is unknown."""
    period = PERIODS[key]
    if when is None:
        when = date.today()
    elif isinstance(when, datetime):
        when = when.date()
    return period.covers(when)


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")
