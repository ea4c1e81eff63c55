"""The sheets SAT publishes and what the gateway reads from each: key columns, value columns, key formats.

Column names are SAT's, as written in catCFDI and the Comercio Exterior catalogs; SAT spells the validity
columns differently from sheet to sheet ("FechaInicioVigencia", "Fecha inicio de vigencia", "Fecha de inicio
de vigencia"), so each column has its accepted spellings. A sheet SAT splits (``c_CodigoPostal_Parte_1``,
``_Parte_2``) is one catalog. A catalog the gateway does not read is ignored, not refused: SAT's workbook holds
more sheets than the CFDI checks use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

START = ("FechaInicioVigencia", "Fecha inicio de vigencia", "Fecha de inicio de vigencia")
END = ("FechaFinVigencia", "Fecha fin de vigencia", "Fecha de fin de vigencia")


@dataclass(frozen=True)
class Layout:
    """One catalog: its key columns (SAT's names, the first is the catalog's own), the key formats, the other
    columns kept (name -> accepted spellings; required unless listed in ``optional``)."""

    name: str
    keys: tuple[str, ...]
    formats: tuple[str, ...]  # regular expression per key column
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    optional: frozenset[str] = frozenset()

    def key_pattern(self, index: int) -> re.Pattern[str]:
        return re.compile(self.formats[index])

    def width(self, index: int) -> int | None:
        """The fixed width of an all-digit key (a spreadsheet may store '01' as the number 1), else None."""
        match = re.fullmatch(r"\[0-9\]\{(\d+)\}", self.formats[index])
        return int(match.group(1)) if match else None


def _layout(name: str, fmt: str, *values: tuple[str, tuple[str, ...]], keys: tuple[tuple[str, str], ...] = (),
            optional: frozenset[str] = frozenset()) -> Layout:
    return Layout(name, (name, *(k for k, _ in keys)), (fmt, *(f for _, f in keys)), values, optional)


_D2, _D3, _D4, _D5, _D8 = "[0-9]{2}", "[0-9]{3}", "[0-9]{4}", "[0-9]{5}", "[0-9]{8}"

#: catalog name -> layout, for every catalog the CFDI and Comercio Exterior checks read
LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    _layout("c_ClaveProdServ", _D8),
    _layout("c_ClaveUnidad", "[A-Za-z0-9]{1,3}"),  # SAT has a few mixed-case keys (Dx, Gd)
    _layout("c_CodigoPostal", _D5, ("c_Estado", ("c_Estado",)), ("c_Municipio", ("c_Municipio",)),
            ("c_Localidad", ("c_Localidad",)), optional=frozenset({"c_Municipio", "c_Localidad"})),
    _layout("c_Colonia", _D4, keys=(("c_CodigoPostal", _D5),)),
    _layout("c_Estado", "[A-Z]{2,3}", keys=(("c_Pais", "[A-Z]{3}"),)),
    _layout("c_Exportacion", _D2),
    _layout("c_FormaPago", _D2),
    _layout("c_Impuesto", _D3),
    _layout("c_Localidad", _D2, keys=(("c_Estado", "[A-Z]{2,3}"),)),
    _layout("c_Meses", _D2),
    _layout("c_MetodoPago", "[A-Z]{3}"),
    _layout("c_Moneda", "[A-Z]{3}", ("Decimales", ("Decimales",))),
    _layout("c_Municipio", _D3, keys=(("c_Estado", "[A-Z]{2,3}"),)),
    _layout("c_ObjetoImp", _D2),
    _layout("c_Pais", "[A-Z]{3}"),
    _layout("c_Periodicidad", _D2),
    _layout("c_RegimenFiscal", _D3),
    _layout("c_TipoDeComprobante", "[IEPNT]"),
    _layout("c_TipoRelacion", _D2),
    _layout("c_UsoCFDI", "[A-Z]{1,2}[0-9]{2}"),
    _layout("c_FraccionArancelaria", "[0-9]{8}(?:[0-9]{2})?", ("c_UnidadAduana", ("UMT", "c_UnidadAduana")),
            optional=frozenset({"c_UnidadAduana"})),
    _layout("c_UnidadAduana", "[0-9]{2}"),
    _layout("c_MotivoTraslado", _D2),
    _layout("c_INCOTERM", "[A-Z]{3}"),
)}

_PART = re.compile(r"^(c_[A-Za-z]+?)(?:_Parte_?[0-9]+|_[0-9]+)?$", re.IGNORECASE)


def catalog_of(sheet: str) -> str | None:
    """The catalog a sheet holds ('c_CodigoPostal_Parte_2' -> 'c_CodigoPostal'); None for a sheet not read."""
    match = _PART.match(sheet.strip())
    if match is None:
        return None
    wanted = match.group(1).lower()
    return next((name for name in LAYOUTS if name.lower() == wanted), None)


def plain(text: str) -> str:
    """A header cell compared without accents, case and blanks ('Fecha de inicio de vigencia' spelled any way)."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c)).lower()
