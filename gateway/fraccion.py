"""Fracción arancelaria (8 digits, TIGIE/LIGIE) and NICO (2 digits) format checks, shared by every kind.

Only the format is checked offline; whether a fracción exists in the TIGIE in force needs the tariff itself.
Exports often print them with dots (``8538.90.99``) or as one 10-digit code (fracción + NICO).
"""

from __future__ import annotations

import re

_FRACCION = re.compile(r"\d{8}")
_NICO = re.compile(r"\d{2}")
_SEPARATORS = str.maketrans("", "", ". -")


def digits(value: str) -> str:
    """The code without the dots, spaces and hyphens it is often printed with."""
    return value.translate(_SEPARATORS)


def check_fraccion(value: str) -> str | None:
    """None if ``value`` is an 8-digit fracción, else the reason in Spanish."""
    if _FRACCION.fullmatch(value):
        return None
    return f"la fracción arancelaria '{value}' debe tener 8 dígitos"


def check_nico(value: str) -> str | None:
    """None if ``value`` is a 2-digit NICO (00-99), else the reason in Spanish."""
    if _NICO.fullmatch(value):
        return None
    return f"el NICO '{value}' debe tener 2 dígitos"
