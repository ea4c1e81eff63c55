"""Comercio Exterior 2.0 matrix (CCE101-CCE172), checked when the CFDI carries the complement."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from gateway.findings import Finding
from gateway.kinds.cfdi.matrix.doc import (
    CCE20,
    GENERIC_FOREIGN,
    TFD,
    Attrs,
    Concepto,
    Doc,
    Element,
    at,
    cce_child,
    cce_children,
    cce_mercancias,
    ceil_to,
    floor_to,
    fmt,
    half_unit,
    num,
    persona,
    places,
    raw_places,
    within_product,
)
from gateway.kinds.cfdi.matrix.registry import rule

_X = f"{{{CCE20}}}"
#: complements SAT lets coexist with Comercio Exterior (CCE115)
_COEXIST = (TFD, "http://www.sat.gob.mx/implocal", "http://www.sat.gob.mx/leyendasFiscales",
            "http://www.sat.gob.mx/registrofiscal", "http://www.sat.gob.mx/CartaPorte20",
            "http://www.sat.gob.mx/CartaPorte30", "http://www.sat.gob.mx/CartaPorte31", CCE20)


def _s(element: Element | None, attr: str) -> str:
    return (element.get(attr) or "").strip() if element is not None else ""


@rule("CCE101", "CCE105", "CCE106", "CCE120")
def comprobante(doc: Doc, out: list[Finding]) -> None:
    if not doc.cce:
        return
    if doc.tipo not in ("I", "T"):
        at(out, doc.root, "TipoDeComprobante", "CCE-FIELD", f"El complemento de Comercio Exterior solo se usa en "
           f"comprobantes de Ingreso (I) o Traslado (T); este es de tipo {doc.tipo or '(vacío)'}.", "CCE101")
    if doc.get("Exportacion") == "03":
        at(out, doc.root, "Exportacion", "CCE-FIELD", "Exportacion es 03 (temporal) y el CFDI lleva Comercio "
           "Exterior, que no debe existir en ese caso.", "CCE105")
    if doc.global_ is not None:
        at(out, doc.global_, None, "CCE-FIELD", "Un CFDI con Comercio Exterior no lleva InformacionGlobal "
           "(factura global).", "CCE106")
    if doc.get("Exportacion") == "02":
        for cce in doc.cce:
            if not _s(cce, "Incoterm"):
                at(out, cce, "Incoterm", "CCE-FIELD", "Exportacion es 02 (definitiva) y el Comercio Exterior no "
                   "lleva Incoterm.", "CCE120")


@rule("CCE102", "CCE103", "CCE116")
def motivo_traslado(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        motivo = _s(cce, "MotivoTraslado")
        propietarios = cce_children(doc, cce, "Propietario")
        if doc.tipo == "T" and motivo == "05" and not propietarios:
            at(out, cce, "MotivoTraslado", "CCE-FIELD", "Traslado con MotivoTraslado 05 (mercancía de un tercero) "
               "sin el nodo Propietario.", "CCE102")
        elif propietarios and not (doc.tipo == "T" and motivo == "05"):
            at(out, propietarios[0], None, "CCE-FIELD", "El nodo Propietario solo se registra en un Traslado (T) "
               f"con MotivoTraslado 05; aquí el tipo es {doc.tipo} y el motivo {motivo or '(ninguno)'}.",
               "CCE103")
        if doc.tipo == "T" and motivo == "01":
            related = any(_s(node, "TipoRelacion") == "05" and any(isinstance(c.tag, str) and c.get("UUID")
                                                                    for c in node)
                          for node in doc.relacionados)
            if not related:
                at(out, cce, "MotivoTraslado", "CCE-FIELD", "MotivoTraslado 01 (envío de mercancía facturada antes) "
                   "exige CfdiRelacionados con TipoRelacion 05 y el UUID de la factura.", "CCE116")


@rule("CCE108")
def receptor_traslado_propio(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        if doc.tipo == "T" and _s(cce, "MotivoTraslado") == "02" and doc.receptor_rfc != doc.emisor_rfc:
            where = doc.receptor if doc.receptor is not None else doc.root
            at(out, where, "Rfc", "CCE-FIELD", f"Traslado con MotivoTraslado 02 (reubicación de mercancía propia): "
               f"el RFC del receptor ({doc.receptor_rfc or 'vacío'}) debe ser el del emisor ({doc.emisor_rfc}).",
               "CCE108")


@rule("CCE110", "CCE111", "CCE112", "CCE151")
def conceptos(doc: Doc, out: list[Finding]) -> None:
    if not doc.cce:
        return
    for concepto in doc.conceptos:
        element = concepto.element
        if doc.tipo == "T" and concepto.get("ObjetoImp") not in ("", "01"):
            at(out, element, "ObjetoImp", "CCE-FIELD", f"En un Traslado con Comercio Exterior el ObjetoImp debe ser "
               f"01, no {concepto.get('ObjetoImp')}.", "CCE110")
        if concepto.terceros is not None:
            at(out, concepto.terceros, None, "CCE-FIELD", "Un CFDI con Comercio Exterior no lleva ACuentaTerceros.",
               "CCE111")
        for predial in concepto.predial:
            at(out, predial, None, "CCE-FIELD", "Un CFDI con Comercio Exterior no lleva CuentaPredial.", "CCE112")
        if not concepto.get("NoIdentificacion"):
            at(out, element, "NoIdentificacion", "CCE-FIELD", f"El concepto «{concepto.get('Descripcion')[:40]}» no "
               "lleva NoIdentificacion, que une cada concepto con su mercancía del Comercio Exterior.",
               "CCE151")


@rule("CCE113", "CCE114", "CCE115")
def complemento(doc: Doc, out: list[Finding]) -> None:
    if len(doc.cce) > 1:
        at(out, doc.cce[1], None, "CCE-FIELD", f"El CFDI lleva {len(doc.cce)} complementos de Comercio Exterior; "
           "debe llevar uno.", "CCE113")
    # misplaced complements end up in the Addenda or in a concepto's ComplementoConcepto
    places_ = [doc.addenda] if doc.addenda is not None else []
    places_ += [c.complemento for c in doc.conceptos if c.complemento is not None]
    for place in places_:
        for cce in place.iter(_X + "ComercioExterior"):
            at(out, cce, None, "CCE-FIELD", "El Comercio Exterior debe ir en cfdi:Complemento del comprobante, no "
               "dentro de otro nodo.", "CCE114")
    if doc.cce:
        for other in doc.complementos:
            tag = other.tag  # read once: lxml builds the string on every read
            namespace = tag[1:tag.index("}")] if tag.startswith("{") else ""
            if namespace not in _COEXIST:
                at(out, other, None, "CCE-FIELD", f"El complemento {tag.split('}')[-1]} no puede acompañar al "
                   "Comercio Exterior (solo Timbre, impuestos locales, leyendas fiscales, registro fiscal y "
                   "Carta Porte).", "CCE115")


@rule("CCE118")
def certificado_origen(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        if _s(cce, "CertificadoOrigen") == "0" and cce.get("NumCertificadoOrigen") is not None:
            at(out, cce, "NumCertificadoOrigen", "CCE-FIELD", "CertificadoOrigen es 0 (sin certificado de origen) y "
               "se registró NumCertificadoOrigen.", "CCE118")


@rule("CCE119")
def exportador_confiable(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        if cce.get("NumeroExportadorConfiable") is None:
            continue
        paises = {_s(cce_child(doc, node, "Domicilio"), "Pais") for node in (*cce_children(doc, cce, "Receptor"),
                                                                      *cce_children(doc, cce, "Destinatario"))}
        if not paises & doc.cat.union_europea:
            at(out, cce, "NumeroExportadorConfiable", "CCE-FIELD", "NumeroExportadorConfiable es solo para envíos a "
               "la Unión Europea; ni el receptor ni un destinatario tienen domicilio en un país de la UE.",
               "CCE119")


@rule("CCE123", "CCE124", "CCE125", "CCE126", "CCE127", "CCE128", "CCE129", "CCE130")
def emisor(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        node = cce_child(doc, cce, "Emisor")
        if node is None:
            continue
        kind = persona(doc.emisor_rfc)
        if kind == "moral" and node.get("Curp") is not None:
            at(out, node, "Curp", "CCE-FIELD", "El emisor es persona moral (RFC de 12 caracteres) y se registró "
               "Curp.", "CCE123")
        elif kind == "fisica" and node.get("Curp") is None:
            at(out, node, None, "CCE-FIELD", "El emisor es persona física (RFC de 13 caracteres): falta su Curp.",
               "CCE124")
        domicilio = cce_child(doc, node, "Domicilio")
        if domicilio is None:
            continue
        if _s(domicilio, "Pais") != "MEX":
            at(out, domicilio, "Pais", "CCE-FIELD", f"El domicilio del emisor debe estar en México (MEX), no en "
               f"{_s(domicilio, 'Pais')}.", "CCE125")
            continue
        _domicilio_mex(doc, domicilio, "del emisor",
                       ("CCE126", "CCE127", "CCE128", "CCE129", "CCE130"), out)


def _domicilio_mex(doc: Doc, domicilio: Element, who: str, codes: tuple[str, str, str, str, str],
                   out: list[Finding]) -> None:
    """Estado, Municipio, Localidad, Colonia and CodigoPostal of a Mexican address agree with each other."""
    estado_code, municipio_code, localidad_code, colonia_code, cp_code = codes
    estado, cp = _s(domicilio, "Estado"), _s(domicilio, "CodigoPostal")
    if doc.cat.estado_pais.get(estado) != "MEX":
        at(out, domicilio, "Estado", "CCE-CATALOG", f"El Estado '{estado}' {who} no es un estado de México del "
           "catálogo c_Estado.", estado_code)
        return
    municipio, localidad, colonia = _s(domicilio, "Municipio"), _s(domicilio, "Localidad"), _s(domicilio, "Colonia")
    if municipio and (municipio, estado) not in doc.cat.municipios:
        at(out, domicilio, "Municipio", "CCE-CATALOG", f"El Municipio '{municipio}' {who} no pertenece al estado "
           f"{estado} en el catálogo c_Municipio.", municipio_code)
        municipio = ""  # reported; the postal code is compared with what is left
    if localidad and (localidad, estado) not in doc.cat.localidades:
        at(out, domicilio, "Localidad", "CCE-CATALOG", f"La Localidad '{localidad}' {who} no pertenece al estado "
           f"{estado} en el catálogo c_Localidad.", localidad_code)
        localidad = ""
    if colonia and (colonia, cp) not in doc.cat.colonias:
        at(out, domicilio, "Colonia", "CCE-CATALOG", f"La Colonia '{colonia}' {who} no corresponde al código "
           f"postal {cp} en el catálogo c_Colonia.", colonia_code)
    row = doc.cat.codigo_postal.get(cp)
    if row is None or row[0] != estado or (municipio and row[1] and row[1] != municipio) or (
            localidad and row[2] and row[2] != localidad):
        where = "no existe en el catálogo c_CodigoPostal" if row is None else (
            f"es de {row[0]}, municipio {row[1] or '-'}, localidad {row[2] or '-'}")
        at(out, domicilio, "CodigoPostal", "CCE-CATALOG", f"El CodigoPostal {cp} {who} no concuerda con el estado "
           f"{estado}, municipio {municipio or '-'} y localidad {localidad or '-'}: {where}.", cp_code)


def _domicilio(doc: Doc, domicilio: Element, who: str, codes: tuple[str, str, str, str, str, str],
               out: list[Finding]) -> None:
    """A receptor's or destinatario's address: catalog cross-checks in Mexico, the country's patterns abroad."""
    colonia_code, localidad_code, municipio_code, estado_code, cp_pattern_code, cp_code = codes
    pais, estado, cp = _s(domicilio, "Pais"), _s(domicilio, "Estado"), _s(domicilio, "CodigoPostal")
    if pais == "MEX":
        _domicilio_mex(doc, domicilio, who, (estado_code, municipio_code, localidad_code, colonia_code,
                                             cp_code), out)
        return
    known = doc.cat.estado_pais.get(estado)
    has_states = pais in _countries_with_states(doc)
    if has_states and known != pais:
        at(out, domicilio, "Estado", "CCE-CATALOG", f"El Estado '{estado}' {who} no es un estado de {pais} en el "
           "catálogo c_Estado.", estado_code)
    pattern = doc.cat.pais_cp.get(pais)
    if pattern is not None and cp and not pattern.fullmatch(cp):
        at(out, domicilio, "CodigoPostal", "CCE-FIELD", f"El CodigoPostal '{cp}' {who} no tiene el formato de "
           f"{pais} ({pattern.pattern}).", cp_pattern_code)


_STATES: dict[int, frozenset[str]] = {}


def _countries_with_states(doc: Doc) -> frozenset[str]:
    key = id(doc.cat)
    if key not in _STATES:
        _STATES[key] = frozenset(doc.cat.estado_pais.values())
    return _STATES[key]


def _taxid(doc: Doc, node: Element, pais: str, who: str, sat_code: str, out: list[Finding]) -> None:
    value = _s(node, "NumRegIdTrib")
    pattern = doc.cat.pais_taxid.get(pais)
    if value and pattern is not None and not pattern.fullmatch(value):
        at(out, node, "NumRegIdTrib", "CCE-FIELD", f"El NumRegIdTrib '{value}' {who} no tiene el formato del "
           f"registro tributario de {pais} ({pattern.pattern}).", sat_code)


@rule("CCE132")
def propietario(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        for node in cce_children(doc, cce, "Propietario"):
            _taxid(doc, node, _s(node, "ResidenciaFiscal"), "del propietario", "CCE132", out)


@rule("CCE133", "CCE134", "CCE135", "CCE136", "CCE137", "CCE138", "CCE139", "CCE140", "CCE141")
def receptor(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        node = cce_child(doc, cce, "Receptor")
        if node is None:
            continue
        # CCE133 has two sides: the generic foreign RFC needs the foreign tax id here, any other RFC must not carry it
        reported = True
        if doc.receptor_rfc == GENERIC_FOREIGN and not _s(node, "NumRegIdTrib"):
            at(out, node, "NumRegIdTrib", "CCE-FIELD", f"El receptor del CFDI tiene el RFC genérico {GENERIC_FOREIGN}: "
               "el nodo Receptor del Comercio Exterior debe registrar su NumRegIdTrib.", "CCE133")
        elif doc.receptor_rfc != GENERIC_FOREIGN and node.get("NumRegIdTrib") is not None:
            at(out, node, "NumRegIdTrib", "CCE-FIELD", f"El receptor del CFDI tiene RFC {doc.receptor_rfc or '(vacío)'}"
               f", no el genérico {GENERIC_FOREIGN}: el Receptor del Comercio Exterior no lleva NumRegIdTrib.",
               "CCE133")
        else:
            reported = False
        domicilio = cce_child(doc, node, "Domicilio")
        pais = _s(domicilio, "Pais")
        if reported:
            pass  # the tax id's presence is wrong already (CCE133): its country and format are beside the point
        elif pais == "MEX" and node.get("NumRegIdTrib") is not None:
            at(out, node, "NumRegIdTrib", "CCE-FIELD", "El receptor tiene domicilio en México y se registró "
               "NumRegIdTrib (registro tributario extranjero).", "CCE134")
        elif pais:
            _taxid(doc, node, pais, "del receptor", "CCE135", out)
        if domicilio is not None:
            _domicilio(doc, domicilio, "del receptor",
                       ("CCE136", "CCE137", "CCE138", "CCE139", "CCE140", "CCE141"), out)


@rule("CCE142", "CCE143", "CCE144", "CCE145", "CCE146", "CCE147", "CCE148", "CCE149", "CCE150")
def destinatarios(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        nodes = cce_children(doc, cce, "Destinatario")
        if doc.tipo == "T" and len(nodes) > 1:
            at(out, nodes[1], None, "CCE-FIELD", f"Un Traslado lleva {len(nodes)} destinatarios; solo admite uno.",
               "CCE142")
        for node in nodes:
            for domicilio in cce_children(doc, node, "Domicilio"):
                pais = _s(domicilio, "Pais")
                if pais and pais != "MEX" and not _s(node, "NumRegIdTrib"):
                    at(out, node, "NumRegIdTrib", "CCE-FIELD", f"El destinatario tiene domicilio en {pais}, fuera de "
                       "México: debe registrar su NumRegIdTrib.", "CCE143")
                _taxid(doc, node, pais, "del destinatario", "CCE144", out)
                _domicilio(doc, domicilio, "del destinatario",
                           ("CCE145", "CCE146", "CCE147", "CCE148", "CCE149", "CCE150"), out)


@rule("CCE153", "CCE159", "CCE160", "CCE166")
def mercancias(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        seen: set[tuple[str, str]] = set()
        for mercancia in cce_mercancias(doc, cce):
            noid, fraccion = _s(mercancia, "NoIdentificacion"), _s(mercancia, "FraccionArancelaria")
            if (noid, fraccion) in seen:
                at(out, mercancia, "NoIdentificacion", "CCE-FIELD", f"La mercancía {noid} con fracción "
                   f"{fraccion or '(sin fracción)'} está repetida en el Comercio Exterior.", "CCE153")
            seen.add((noid, fraccion))
            unidad = _s(mercancia, "UnidadAduana")
            if unidad == "99" and fraccion:
                at(out, mercancia, "FraccionArancelaria", "CCE-FIELD", f"La mercancía {noid} tiene UnidadAduana 99 "
                   "(servicios) y no debe llevar FraccionArancelaria.", "CCE159")
            elif unidad and unidad != "99" and not fraccion:
                at(out, mercancia, "UnidadAduana", "CCE-FIELD", f"La mercancía {noid} no lleva FraccionArancelaria; "
                   f"solo puede omitirse con UnidadAduana 99, y es {unidad}.", "CCE160")
            present = [a for a, v in (("CantidadAduana", mercancia.get("CantidadAduana")), ("UnidadAduana", unidad),
                                      ("ValorUnitarioAduana", mercancia.get("ValorUnitarioAduana"))) if v]
            if 0 < len(present) < 3:
                missing = {"CantidadAduana", "UnidadAduana", "ValorUnitarioAduana"} - set(present)
                at(out, mercancia, None, "CCE-FIELD", f"La mercancía {noid} lleva {', '.join(present)} pero no "
                   f"{', '.join(sorted(missing))}: se registran los tres o ninguno.", "CCE166")


def _tipo_cambio(doc: Doc) -> Decimal | None:
    if doc.moneda == "MXN":
        return Decimal(1)
    return num(doc.root, "TipoCambio")


@rule("CCE157", "CCE158", "CCE171", "CCE172")
def valor_dolares(doc: Doc, out: list[Finding]) -> None:
    if not doc.cce:
        return
    tipo_cambio = _tipo_cambio(doc)
    importes: dict[str, list[Decimal]] = {}
    for concepto in doc.conceptos:
        importe = num(concepto.element, "Importe")
        if importe is not None:
            importes.setdefault(concepto.get("NoIdentificacion"), []).append(importe)
    for cce in doc.cce:
        usd = num(cce, "TipoCambioUSD")
        # NoIdentificacion -> [(mercancía, ValorDolares or None, is a service (UnidadAduana 99))]
        groups: dict[str, list[tuple[Element, Decimal | None, bool]]] = {}
        for mercancia in cce_mercancias(doc, cce):
            unidad = mercancia.get("UnidadAduana")
            valor = num(mercancia, "ValorDolares")
            service = unidad is not None and unidad.strip() == "99"
            groups.setdefault(_s(mercancia, "NoIdentificacion"), []).append((mercancia, valor, service))
            if unidad is not None and not service and valor is not None:
                _valor_aduana(mercancia, valor, out)
        if tipo_cambio is None or usd is None or usd <= 0:
            continue
        for noid, members in groups.items():
            _conversion(noid, members, importes.get(noid), tipo_cambio, usd, out, doc.tipo, doc.moneda != "MXN")


def _valor_aduana(mercancia: Element, valor: Decimal, out: list[Finding]) -> None:
    """CCE171: ValorDolares within CantidadAduana × ValorUnitarioAduana, each ± half a unit of its last decimal."""
    cantidad, unitario = num(mercancia, "CantidadAduana"), num(mercancia, "ValorUnitarioAduana")
    if cantidad is None or unitario is None or valor in (0, 1):
        return  # Estándar p. 44 and CCE169: ValorDolares "0" or "1" (when the rules allow it) skip the limits
    limits = within_product(valor, cantidad, unitario, 2)
    if limits is not None:
        at(out, mercancia, "ValorDolares", "CCE-AMOUNT", f"El ValorDolares {fmt(valor)} de la mercancía "
           f"{_s(mercancia, 'NoIdentificacion')} no corresponde a CantidadAduana {fmt(cantidad)} × "
           f"ValorUnitarioAduana {fmt(unitario)}: debe estar entre {fmt(limits[0])} y {fmt(limits[1])}.",
           "CCE171")


_TINY = Decimal("1e-12")


def _conversion(noid: str, members: list[tuple[Element, Decimal | None, bool]], importes: list[Decimal] | None,
                tipo_cambio: Decimal, usd: Decimal, out: list[Finding], tipo: str = "",
                tipo_cambio_written: bool = True) -> None:
    """ValorDolares = Importe × TipoCambio / TipoCambioUSD, each Importe ± half a unit of its last decimal;
    one mercancía for several conceptos (CCE157) takes the Estándar's wider limits."""
    if not importes:
        return  # CCE152 (no concepto with that NoIdentificacion) is reported by the foundation's rules
    total = Decimal(0)
    for _, valor, service in members:
        if valor is None or service:
            return
        total += valor
    importe = importes[0] if len(importes) == 1 else sum(importes, Decimal(0))
    if total == importe and tipo_cambio == usd:  # invoices in USD: ValorDolares is the Importe
        return
    half = sum((half_unit(places(i)) for i in importes), Decimal(0))
    if len(members) == 1 and len(importes) > 1 and tipo in ("I", "E"):
        if total in (0, 1):
            return  # CCE157 applies to ValorDolares other than "0" or "1"
        # CCE157, the Estándar's limits: each exchange rate also ± half a unit of its last decimal
        half_tc = half_unit(places(tipo_cambio)) if tipo_cambio_written else Decimal(0)
        half_usd = half_unit(places(usd))
        lower = floor_to((importe - half) * (tipo_cambio - half_tc) / (usd + half_usd - _TINY), 2)
        upper = ceil_to((importe + half - _TINY) * (tipo_cambio + half_tc - _TINY) / (usd - half_usd), 2)
        if not lower <= total <= upper:
            at(out, members[0][0], "ValorDolares", "CCE-AMOUNT", f"El ValorDolares de {noid} es {fmt(total)}, pero "
               f"la suma de los Importe de sus {len(importes)} conceptos ({fmt(importe)}) × TipoCambio "
               f"{fmt(tipo_cambio)} / TipoCambioUSD {fmt(usd)} da entre {fmt(lower)} y {fmt(upper)}.", "CCE157")
        return
    lower = floor_to((importe - half) * tipo_cambio / usd, 2)
    upper = ceil_to((importe + half) * tipo_cambio / usd, 2)
    if lower <= total <= upper:
        return
    one_to_one = len(members) == 1 and len(importes) == 1
    what = "El ValorDolares" if one_to_one else f"La suma de ValorDolares ({len(members)} mercancías)"
    at(out, members[0][0], "ValorDolares", "CCE-AMOUNT", f"{what} de {noid} es {fmt(total)}, pero Importe "
       f"{fmt(importe)} × TipoCambio {fmt(tipo_cambio)} / TipoCambioUSD {fmt(usd)} da entre {fmt(lower)} y "
       f"{fmt(upper)}.", "CCE172" if one_to_one else "CCE158")


def _conceptos_by_noid(doc: Doc) -> dict[str, list[Concepto]]:
    found: dict[str, list[Concepto]] = {}
    for concepto in doc.conceptos:
        found.setdefault(concepto.get("NoIdentificacion"), []).append(concepto)
    return found


_CANTIDAD_T = re.compile(r"[0-9]{1,14}(\.[0-9]{1,3})?")
_VALOR_T = re.compile(r"[0-9]{1,16}(\.[0-9]{1,4})?")
_MUESTRAS = "9801000100"  # importaciones o exportaciones de muestras y muestrarios


@rule("CCE154", "CCE155", "CCE156", "CCE162", "CCE165")
def conceptos_de_mercancias(doc: Doc, out: list[Finding]) -> None:
    """What a mercancía without the customs quantities asks of its conceptos (CCE154-156, CCE162), and the
    three customs attributes that a NoIdentificacion shared by several conceptos needs (CCE165)."""
    if not doc.cce:
        return
    by_noid = _conceptos_by_noid(doc)
    day = doc.day
    for cce in doc.cce:
        mercancias_ = cce_mercancias(doc, cce)
        # the matrix's reading (several conceptos); the Estándar (p. 43) also names several mercancías, which the
        # matrix does not: accepted, so that no reading SAT allows is rejected
        repeated = {noid for noid, group in by_noid.items() if len(group) > 1}
        for mercancia in mercancias_:
            noid = _s(mercancia, "NoIdentificacion")
            related = by_noid.get(noid, [])
            present = [mercancia.get(a) for a in ("CantidadAduana", "UnidadAduana", "ValorUnitarioAduana")]
            if noid in repeated and not any(present):  # some but not all: CCE166
                at(out, mercancia, None, "CCE-FIELD", f"El NoIdentificacion {noid} se repite en varios conceptos: "
                   "la mercancía debe registrar CantidadAduana, UnidadAduana y ValorUnitarioAduana.",
                   "CCE165")
            if doc.tipo == "T" and mercancia.get("CantidadAduana") is None:
                for concepto in related:
                    _traslado_sin_cantidad_aduana(doc, concepto, day, out)
            fraccion = _s(mercancia, "FraccionArancelaria")
            if fraccion and mercancia.get("UnidadAduana") is None:
                umt = _umt(doc, fraccion, day)
                if umt is not None:
                    forms = doc.columns.unidad_forms(umt)
                    for concepto in related:
                        unidad = concepto.get("Unidad").strip().upper()
                        if unidad not in forms:
                            at(out, concepto.element, "Unidad", "CCE-CATALOG", f"La mercancía {noid} no lleva "
                               f"UnidadAduana: la Unidad '{concepto.get('Unidad')}' del concepto debe ser la UMT de "
                               f"la fracción {fraccion} ({' o '.join(sorted(forms))}, clave o descripción de "
                               "c_UnidadAduana).", "CCE162")


def _umt(doc: Doc, fraccion: str, day: date) -> str | None:
    """The UMT of a fracción in force on ``day``: the configured TIGIE table if any, else the shipped catalog."""
    if doc.sat.fracciones is not None:
        entry = doc.sat.fracciones.get(fraccion)
        return entry.umt if entry is not None and entry.vigente(day) else None
    found = doc.columns.umt.get(fraccion)
    return found[0] if found is not None and found[1].vigente(day) else None


def _traslado_sin_cantidad_aduana(doc: Doc, concepto: Concepto, day: date, out: list[Finding]) -> None:
    """A Traslado whose mercancía has no CantidadAduana: the concepto's Cantidad, Unidad and ValorUnitario
    stand for the customs ones (CCE154, CCE155, CCE156)."""
    element = concepto.element
    noid = concepto.get("NoIdentificacion")
    cantidad = concepto.get("Cantidad")
    value = num(element, "Cantidad")
    if not _CANTIDAD_T.fullmatch(cantidad) or value is None or value < Decimal("0.001"):
        at(out, element, "Cantidad", "CCE-FIELD", f"Traslado sin CantidadAduana en la mercancía {noid}: la Cantidad "
           f"'{cantidad}' del concepto debe ser al menos 0.001, con hasta 14 enteros y 3 decimales.", "CCE154")
    unidad = concepto.get("Unidad")
    if doc.columns.unidad_aduana_of(unidad, day) is None:
        at(out, element, "Unidad", "CCE-CATALOG", f"Traslado sin CantidadAduana en la mercancía {noid}: la Unidad "
           f"'{unidad}' del concepto debe ser una clave o descripción del catálogo c_UnidadAduana.", "CCE155")
    unitario = concepto.get("ValorUnitario")
    decimals = doc.decimals
    # SAT's minimum is "0.0000" in the matrix and the Estándar, "0.0001" in the Guía: zero is accepted
    if not _VALOR_T.fullmatch(unitario) or (decimals is not None and raw_places(unitario) > decimals):
        limit = f" y a lo más {decimals} decimales de {doc.moneda}" if decimals is not None else ""
        at(out, element, "ValorUnitario", "CCE-FIELD", f"Traslado sin CantidadAduana en la mercancía {noid}: el "
           f"ValorUnitario '{unitario}' del concepto debe tener hasta 16 enteros y 4 decimales{limit}.", "CCE156")


@rule("CCE163", "CCE164")
def muestras(doc: Doc, out: list[Finding]) -> None:
    """Fracción 9801000100 (muestras y muestrarios): the goods are given, their value is discounted in full, so
    the conceptos of that NoIdentificacion carry a Descuento (CCE163) that covers ValorDolares (CCE164).

    CCE163 converts the Descuentos to the comprobante's currency; CCE164 compares ValorDolares with their sum as
    written. Both readings are accepted: ValorDolares is reported only when it exceeds the Descuentos as written
    and converted to USD (× TipoCambio / TipoCambioUSD). Conceptos worth 0 have nothing to discount.
    """
    if not doc.cce:
        return
    by_noid: dict[str, list[Concepto]] | None = None
    tipo_cambio = _tipo_cambio(doc)
    for cce in doc.cce:
        groups: dict[str, list[Attrs]] = {}
        for mercancia in cce_mercancias(doc, cce):
            if _s(mercancia, "FraccionArancelaria") == _MUESTRAS:
                groups.setdefault(_s(mercancia, "NoIdentificacion"), []).append(mercancia)
        if not groups:
            continue
        by_noid = by_noid if by_noid is not None else _conceptos_by_noid(doc)
        usd = num(cce, "TipoCambioUSD")
        for noid, members in groups.items():
            related = by_noid.get(noid, [])
            descuentos = [d for c in related if (d := num(c.element, "Descuento")) is not None]
            if not any(num(c.element, "Importe") for c in related):
                continue  # conceptos worth 0 (or none: CCE152): no value to discount
            if not any(descuentos):
                at(out, members[0], "FraccionArancelaria", "CCE-AMOUNT", f"La mercancía {noid} es de la fracción "
                   f"{_MUESTRAS} (muestras y muestrarios), pero ningún concepto con ese NoIdentificacion registra "
                   "el Descuento de su valor.", "CCE163")
                continue
            valores = [v for m in members if (v := num(m, "ValorDolares")) is not None]
            if tipo_cambio is None or usd is None or usd <= 0 or not valores:
                continue
            total = sum(valores, Decimal(0))
            descuento = sum(descuentos, Decimal(0))
            half = sum((half_unit(places(d)) for d in descuentos), Decimal(0))
            upper = ceil_to((descuento + half) * tipo_cambio / usd, 2)
            if total > upper and total > descuento:
                at(out, members[0], "ValorDolares", "CCE-AMOUNT", f"La mercancía {noid} es de la fracción {_MUESTRAS}"
                   f" y su ValorDolares ({fmt(total)}) es mayor que los Descuentos de sus conceptos, tal cual "
                   f"({fmt(descuento)}) y en dólares ({fmt(descuento)} × {fmt(tipo_cambio)} / {fmt(usd)}, a lo más "
                   f"{fmt(upper)}).", "CCE164")


@rule("CCE168")
def valor_unitario_aduana(doc: Doc, out: list[Finding]) -> None:
    for cce in doc.cce:
        for mercancia in cce_mercancias(doc, cce):
            unidad = _s(mercancia, "UnidadAduana")
            valor = num(mercancia, "ValorUnitarioAduana")
            if unidad and unidad != "99" and valor is not None and valor <= 0:
                at(out, mercancia, "ValorUnitarioAduana", "CCE-AMOUNT", f"La mercancía "
                   f"{_s(mercancia, 'NoIdentificacion')} tiene UnidadAduana {unidad} (no es servicio): su "
                   f"ValorUnitarioAduana debe ser mayor que cero, no {fmt(valor)}.", "CCE168")
