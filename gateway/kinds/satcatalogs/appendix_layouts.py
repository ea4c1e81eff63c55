"""The Anexo 22 appendices the pedimento checks read: appendix number, the gateway's catalog name, key format.

SAT publishes each appendix as a table of "Clave" and "Descripción" under a title such as "Apéndice 2 Claves de
pedimento"; the gateway keeps each as ``gateway/kinds/pedimento/catalogs/<name>.json``. This table maps one to
the other and says what a key looks like, so a changed or misread file is refused instead of rejecting (or
letting through) real pedimentos. Numeric keys are kept without leading zeros, as the rules compare them
(``numeric_code``); an Apéndice 1 key of aduana + sección (3 digits) is kept as its aduana (2 digits), the part
the rules look up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.kinds.satcatalogs.layouts import plain

DESCRIPTION = ("Descripción", "Descripcion", "Denominación", "Nombre", "Significado")


@dataclass(frozen=True)
class AppendixLayout:
    """One appendix: the gateway's catalog name, SAT's appendix number ("instructivo" for the instructions'
    own lists), the title the findings quote, the key format, accepted column spellings and sheet aliases."""

    name: str
    appendix: str
    title: str
    key_format: str
    numeric: bool = False
    keys: tuple[str, ...] = ("Clave",)
    descriptions: tuple[str, ...] = DESCRIPTION
    aliases: tuple[str, ...] = ()  # sheet or file names (compared plain) that name this appendix without a number

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.key_format)


_NUMBER = "[0-9]{1,3}"

#: the gateway's catalog name -> layout, for every appendix file under gateway/kinds/pedimento/catalogs
APPENDICES: dict[str, AppendixLayout] = {layout.name: layout for layout in (
    AppendixLayout("aduanas", "1", "Aduanas (clave de 2 dígitos; la sección es el tercer dígito)", "[0-9]{2,3}",
                   keys=("Clave", "Aduana", "Clave de aduana"), aliases=("aduanas", "aduanasysecciones")),
    AppendixLayout("claves_pedimento", "2", "Claves de pedimento", "[A-Z0-9]{2}",
                   aliases=("clavespedimento", "clavesdepedimento")),
    AppendixLayout("medios_transporte", "3", "Medios de transporte", _NUMBER, numeric=True,
                   aliases=("mediostransporte", "mediosdetransporte")),
    AppendixLayout("paises", "4", "Países (clave SAAI M3, ISO 3166 alfa-3 y claves propias del Anexo 22)", "[A-Z]{3}",
                   keys=("Clave SAAI M3", "Clave M3", "Clave"),
                   descriptions=(*DESCRIPTION, "País", "Pais", "Nombre del país"), aliases=("paises",)),
    AppendixLayout("monedas", "5", "Monedas (ISO 4217)", "[A-Z]{3}",
                   keys=("Clave", "Clave de la moneda", "Clave moneda"),
                   descriptions=(*DESCRIPTION, "Moneda", "Nombre de la moneda"), aliases=("monedas",)),
    AppendixLayout("unidades", "7", "Unidades de medida (UMC / UMT)", _NUMBER, numeric=True,
                   aliases=("unidades", "unidadesdemedida")),
    AppendixLayout("identificadores", "8", "Identificadores (nivel pedimento G y partida P)", "[A-Z0-9]{2}",
                   aliases=("identificadores",)),
    AppendixLayout("metodos_valoracion", "11", "Métodos de valoración", _NUMBER, numeric=True,
                   aliases=("metodosvaloracion", "metodosdevaloracion")),
    AppendixLayout("contribuciones", "12", "Contribuciones", _NUMBER, numeric=True, aliases=("contribuciones",)),
    AppendixLayout("formas_pago", "13", "Formas de pago", _NUMBER, numeric=True,
                   aliases=("formaspago", "formasdepago")),
    AppendixLayout("incoterms", "14", "Términos de facturación (Incoterms)", "[A-Z]{3}",
                   aliases=("incoterms", "terminosdefacturacion")),
    AppendixLayout("destinos", "15", "Destino / origen de la mercancía", _NUMBER, numeric=True,
                   aliases=("destinos", "destinoorigen", "destinosdelamercancia")),
    AppendixLayout("tipos_tasa", "18", "Tipos de tasa", _NUMBER, numeric=True, aliases=("tipostasa", "tiposdetasa")),
    AppendixLayout("tipos_fecha", "instructivo", "Tipos de fecha (registro 506)", _NUMBER, numeric=True,
                   aliases=("tiposfecha", "tiposdefecha")),
    AppendixLayout("vinculacion", "instructivo (partidas)", "Vinculación", _NUMBER, numeric=True,
                   aliases=("vinculacion",)),
)}

_BY_NUMBER = {layout.appendix: layout for layout in APPENDICES.values() if layout.appendix.isdigit()}
_APPENDIX = re.compile(r"^(?:anexo22)?ap(?:endice|end|p)?0*([0-9]{1,2})(?![0-9])")


def appendix_of(text: str) -> tuple[AppendixLayout | None, str | None]:
    """(the layout, the appendix number read) for a sheet name, file name or title: "Apéndice 2 Claves de
    pedimento", "apendice_8.csv", "claves_pedimento". (None, "6") names an appendix the gateway does not read;
    (None, None) names none."""
    folded = plain(text)
    match = _APPENDIX.match(folded)
    if match is not None:
        return _BY_NUMBER.get(match.group(1)), match.group(1)
    for layout in APPENDICES.values():
        if any(folded == alias or folded.startswith(alias) for alias in (plain(layout.name), *layout.aliases)):
            return layout, None
    return None, None


def normal_key(layout: AppendixLayout, value: str) -> str:
    """A key as the rules compare it: numeric keys without leading zeros, an aduana without its sección."""
    if layout.numeric:
        return value.lstrip("0") or "0"
    if layout.name == "aduanas":
        return value[:2]
    return value
