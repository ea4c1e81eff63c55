"""Record layouts of the validation file (VOCE-SAAI M3 "Lineamientos técnicos" v9.0, agosto 2021), as data.

Each record type has its arity (number of fields, the record type included) and, where the layout was
confirmed verbatim, the name, type and maximum length of every field. Records whose order is only
inferred (502, 503, 504, 508, 511, 513…) carry ``confirmed=False`` and no field list: they are checked
for arity and kept verbatim. Types: ``N`` integer, ``D`` decimal (integer digits, decimals), ``F`` date
AAAAMMDD, ``A`` text. Lengths are maxima; an empty field means "not declared".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # N | D | F | A
    size: int  # maximum length (N, A, F) or integer digits (D)
    decimals: int = 0
    required: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    record: str
    title: str
    arity: int
    fields: tuple[Field, ...] = ()  # fields 2..arity (field 1 is the record type); empty when unconfirmed
    confirmed: bool = True
    #: which field (1-based) carries the pedimento number
    pedimento_field: int = 2


def _f(name: str, type_: str, size: int, decimals: int = 0, required: bool = False) -> Field:
    return Field(name, type_, size, decimals, required)


PED = _f("pedimento", "N", 7, required=True)
_PARTIDA_KEY = (PED, _f("fraccion", "A", 8, required=True), _f("partida", "N", 5, required=True))

LAYOUTS: dict[str, Layout] = {}


def _add(layout: Layout) -> None:
    if layout.fields:
        assert len(layout.fields) == layout.arity - 1, layout.record
    LAYOUTS[layout.record] = layout


_add(Layout("500", "inicio de pedimento", 6, (
    _f("tipo_movimiento", "N", 2, required=True), _f("patente", "N", 4, required=True), PED,
    _f("aduana_seccion", "A", 3, required=True), _f("acuse_validacion", "A", 8)), pedimento_field=4))
_add(Layout("501", "datos generales", 35, (
    _f("patente", "N", 4, required=True), PED, _f("aduana_seccion", "A", 3, required=True),
    _f("tipo_operacion", "N", 1, required=True), _f("clave_pedimento", "A", 2, required=True),
    _f("aduana_entrada_salida", "A", 3), _f("curp", "A", 18), _f("rfc", "A", 13), _f("curp_agente", "A", 18),
    _f("tipo_cambio", "D", 9, 5, required=True), _f("fletes", "N", 12), _f("seguros", "N", 12),
    _f("embalajes", "N", 12), _f("otros_incrementables", "N", 12), _f("uso_futuro", "A", 12),
    _f("peso_bruto", "D", 14, 3), _f("medio_transporte_salida", "N", 2), _f("medio_transporte_arribo", "N", 2),
    _f("medio_transporte_entrada_salida", "N", 2), _f("destino", "N", 2), _f("nombre", "A", 120),
    _f("calle", "A", 80), _f("num_interior", "A", 10), _f("num_exterior", "A", 10), _f("cp", "A", 10),
    _f("municipio", "A", 80), _f("entidad", "A", 3), _f("pais", "A", 3), _f("rfc_cfdi_servicios", "A", 13),
    _f("dec_fletes", "N", 12), _f("dec_seguros", "N", 12), _f("dec_carga", "N", 12), _f("dec_descarga", "N", 12),
    _f("dec_otros", "N", 12)), pedimento_field=3))
_add(Layout("505", "factura / CFDI / documento equivalente", 17, (
    PED, _f("fecha", "F", 8), _f("documento", "A", 40, required=True), _f("incoterm", "A", 3),
    _f("moneda", "A", 3), _f("valor_usd", "D", 14, 2), _f("valor_moneda", "D", 14, 2), _f("pais", "A", 3),
    _f("entidad", "A", 3), _f("id_fiscal", "A", 30), _f("nombre", "A", 120), _f("calle", "A", 80),
    _f("num_interior", "A", 10), _f("num_exterior", "A", 10), _f("cp", "A", 10), _f("municipio", "A", 80))))
_add(Layout("506", "fechas", 4, (PED, _f("tipo_fecha", "N", 2, required=True), _f("fecha", "F", 8, required=True))))
_add(Layout("507", "identificadores (pedimento)", 6, (
    PED, _f("clave", "A", 2, required=True), _f("complemento1", "A", 20), _f("complemento2", "A", 30),
    _f("complemento3", "A", 40))))
_add(Layout("509", "tasas (pedimento)", 5, (
    PED, _f("contribucion", "N", 2, required=True), _f("tasa", "D", 15, 10), _f("tipo_tasa", "N", 2))))
_add(Layout("510", "contribuciones (pedimento)", 5, (
    PED, _f("contribucion", "N", 2, required=True), _f("forma_pago", "N", 3, required=True),
    _f("importe", "N", 12, required=True))))
_add(Layout("512", "descargos", 10, (
    PED, _f("patente_original", "N", 4), _f("pedimento_original", "N", 7), _f("aduana_original", "A", 3),
    _f("clave_original", "A", 2), _f("fecha_pago_original", "F", 8), _f("fraccion", "A", 8),
    _f("unidad", "N", 2), _f("cantidad", "D", 24, 6))))
_add(Layout("551", "partida", 26, (
    PED, _f("fraccion", "A", 8, required=True), _f("partida", "N", 5, required=True), _f("nico", "A", 2),
    _f("descripcion", "A", 250), _f("precio_unitario", "D", 15, 5), _f("valor_aduana", "N", 12),
    _f("valor_comercial", "N", 12), _f("valor_usd", "D", 14, 2), _f("cantidad_umc", "D", 15, 3),
    _f("umc", "N", 2), _f("cantidad_umt", "D", 18, 5), _f("umt", "N", 2), _f("valor_agregado", "N", 12),
    _f("vinculacion", "A", 1), _f("metodo_valoracion", "N", 2), _f("codigo_producto", "A", 20),
    _f("marca", "A", 80), _f("modelo", "A", 80), _f("pais_origen_destino", "A", 3),
    _f("pais_vendedor_comprador", "A", 3), _f("entidad_origen", "A", 3), _f("entidad_destino", "A", 3),
    _f("entidad_comprador", "A", 3), _f("entidad_vendedor", "A", 3))))
_add(Layout("553", "permisos / NOM (partida)", 9, (
    *_PARTIDA_KEY, _f("clave_permiso", "A", 3, required=True), _f("firma_descargo", "A", 32),
    _f("numero_permiso", "A", 50), _f("valor_usd", "D", 14, 2), _f("cantidad", "D", 24, 6))))
_add(Layout("554", "identificadores (partida)", 8, (
    *_PARTIDA_KEY, _f("clave", "A", 2, required=True), _f("complemento1", "A", 20), _f("complemento2", "A", 50),
    _f("complemento3", "A", 40))))
_add(Layout("556", "tasas (partida)", 7, (
    *_PARTIDA_KEY, _f("contribucion", "N", 2, required=True), _f("tasa", "D", 15, 10), _f("tipo_tasa", "N", 2))))
_add(Layout("557", "contribuciones (partida)", 7, (
    *_PARTIDA_KEY, _f("contribucion", "N", 2, required=True), _f("forma_pago", "N", 3, required=True),
    _f("importe", "N", 12, required=True))))
_add(Layout("800", "fin de pedimento", 5, (
    PED, _f("tipo_figura", "N", 1), _f("efirma", "A", 360), _f("numero_serie", "A", 25))))
_add(Layout("801", "fin de archivo", 5, (
    _f("nombre_archivo", "A", 12, required=True), _f("cantidad_pedimentos", "N", 5, required=True),
    _f("cantidad_registros", "N", 5, required=True), _f("prevalidador", "A", 5)), pedimento_field=0))

# Records whose field order is only inferred (reference §2.5): arity checked, content kept verbatim.
_INFERRED = {
    "502": ("transporte", 9), "503": ("guías", 4), "504": ("contenedores", 4),
    "508": ("cuentas aduaneras de garantía", 12), "511": ("observaciones", 4), "513": ("compensaciones", 8),
    "514": ("documentos de pago", 9), "515": ("informe industria automotriz", 9), "516": ("candados", 4),
    "520": ("destinatarios", 10), "552": ("mercancías (vehículos)", 6), "555": ("cuentas de garantía (partida)", 13),
    "558": ("observaciones (partida)", 6), "560": ("informe industria automotriz (partida)", 12),
    "601": ("previo de consolidado", 11), "701": ("rectificación", 11), "702": ("diferencias de contribuciones", 5),
    "301": ("registro 301", 11), "302": ("registro 302", 6), "351": ("registro 351", 11),
    "352": ("registro 352", 11), "353": ("registro 353", 6), "355": ("registro 355", 8), "358": ("registro 358", 7),
}
_PED_IN_FIELD_3 = {"515", "601", "701", "301"}
for _rec, (_title, _arity) in _INFERRED.items():
    _add(Layout(_rec, _title, _arity, confirmed=False, pedimento_field=3 if _rec in _PED_IN_FIELD_3 else 2))

#: partida-level children: they name the partida in field 4 and its fracción in field 3
PARTIDA_CHILDREN = {"552", "553", "554", "555", "556", "557", "558", "560"}
FILE_NAME = r"^[mM]\d{7}\.\d{3}$"
