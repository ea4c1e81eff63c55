"""RFC (Registro Federal de Contribuyentes) format and check-digit validation.

The XSD pattern lets impossible dates through and, because of whitespace collapse,
values with stray spaces; neither it nor anything else offline checks the check digit.
SAT's registry is the only real authority (not offline), so this is the best local
approximation. SAT has issued a few RFCs whose check digit does not match (phpcfdi/rfc
and CfdiUtils say so; SAT's test RFC MCI7306249Y1 is one), which is why callers can ask
for the structural check alone and treat a check-digit mismatch more gently.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

GENERIC_NATIONAL = "XAXX010101000"
GENERIC_FOREIGN = "XEXX010101000"
GENERIC = frozenset({GENERIC_NATIONAL, GENERIC_FOREIGN})

_MORAL = re.compile(r"[A-ZÑ&]{3}\d{6}[A-Z0-9]{3}")
_FISICA = re.compile(r"[A-ZÑ&]{4}\d{6}[A-Z0-9]{3}")
#: SAT's value table for the check digit: a character's index is its value.
_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ")}


@lru_cache(maxsize=8192)  # the same issuers and customers come back invoice after invoice
def check_rfc(value: str, *, check_digit: bool = True) -> str | None:
    """None if ``value`` is a well-formed RFC, else the reason in Spanish.

    ``check_digit=False`` checks only length, characters and date.
    """
    if value in GENERIC:
        return None
    if not value:
        return "está vacío"
    if len(value) not in (12, 13):
        return f"tiene {len(value)} caracteres; debe tener 12 (persona moral) o 13 (persona física)"
    pattern, kind, letters = (_MORAL, "persona moral", 3) if len(value) == 12 else (_FISICA, "persona física", 4)
    if not pattern.fullmatch(value):
        hint = " (debe ir en mayúsculas)" if pattern.fullmatch(value.upper()) else ""
        return (f"no tiene la forma de un RFC de {kind}: {letters} letras, fecha AAMMDD y homoclave "
                f"de 3 caracteres{hint}")
    yymmdd = value[letters:letters + 6]
    if not _is_date(yymmdd):
        return f"la fecha {yymmdd} (AAMMDD) no existe"
    if check_digit:
        expected = rfc_check_digit(value)
        if value[-1] != expected:
            return f"el dígito verificador es {value[-1]!r} y debería ser {expected!r}"
    return None


def rfc_check_digit(value: str) -> str:
    """SAT's modulo-11 check digit over the first 12 characters (12-char RFCs padded with a space)."""
    padded = value.rjust(13)
    total = sum(_VALUES.get(c, 0) * (13 - i) for i, c in enumerate(padded[:12]))
    remainder = total % 11
    if remainder == 0:
        return "0"
    digit = 11 - remainder
    return "A" if digit == 10 else str(digit)


def _is_date(yymmdd: str) -> bool:
    """The century is not in the RFC; reading it as 20YY keeps 000229 valid (2000 was a leap year)."""
    try:
        date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return False
    return True
