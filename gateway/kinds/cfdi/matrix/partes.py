"""CFDI 4.0 matrix: emisor and receptor (CFDI40140-40161) checked offline against the catalogs."""

from __future__ import annotations

from gateway.findings import Finding
from gateway.kinds.cfdi.matrix.doc import GENERIC_FOREIGN, GENERIC_NATIONAL, Doc, at, persona
from gateway.kinds.cfdi.matrix.registry import rule

_PERSONA = {"fisica": "persona física", "moral": "persona moral"}


def _regimen(doc: Doc, element: object, attr: str, rfc: str, sat_catalog: str, sat_persona: str | None,
             label: str, out: list[Finding]) -> None:
    value = (element.get(attr) or "").strip()  # type: ignore[attr-defined]
    if not value:
        return
    if not doc.cat.has("c_RegimenFiscal", value):
        at(out, element, attr, "CFDI-CATALOG", f"El {label} '{value}' no está en el catálogo c_RegimenFiscal.",  # type: ignore[arg-type]
           sat_catalog)
        return
    kind = persona(rfc)
    allowed = doc.cat.regimen_personas.get(value)
    if sat_persona and kind and allowed is not None and kind not in allowed:
        at(out, element, attr, "CFDI-CATALOG", f"El {label} {value} no aplica a {_PERSONA[kind]} (RFC {rfc} de "  # type: ignore[arg-type]
           f"{len(rfc)} caracteres).", sat_persona)


@rule("CFDI40140", "CFDI40141")
def regimen_emisor(doc: Doc, out: list[Finding]) -> None:
    if doc.emisor is not None:
        _regimen(doc, doc.emisor, "RegimenFiscal", doc.emisor_rfc, "CFDI40140", "CFDI40141",
                 "RegimenFiscal del emisor", out)


@rule("CFDI40146")
def publico_en_general(doc: Doc, out: list[Finding]) -> None:
    receptor = doc.receptor
    if receptor is None:
        return
    nombre = " ".join((receptor.get("Nombre") or "").upper().split())
    if nombre in ("PUBLICO EN GENERAL", "PÚBLICO EN GENERAL") and doc.receptor_rfc != GENERIC_NATIONAL:
        at(out, receptor, "Rfc", "CFDI-FIELD", f"El receptor se llama PUBLICO EN GENERAL, así que su RFC debe ser "
           f"XAXX010101000, no {doc.receptor_rfc}.", "CFDI40146")


@rule("CFDI40149")
def domicilio_receptor_generico(doc: Doc, out: list[Finding]) -> None:
    receptor = doc.receptor
    if receptor is None or doc.receptor_rfc not in (GENERIC_NATIONAL, GENERIC_FOREIGN):
        return
    domicilio = (receptor.get("DomicilioFiscalReceptor") or "").strip()
    lugar = doc.get("LugarExpedicion")
    if domicilio and lugar and domicilio != lugar:
        at(out, receptor, "DomicilioFiscalReceptor", "CFDI-FIELD", f"Con RFC genérico {doc.receptor_rfc} el "
           f"DomicilioFiscalReceptor debe ser el LugarExpedicion ({lugar}), no {domicilio}.", "CFDI40149")


@rule("CFDI40150", "CFDI40151", "CFDI40152", "CFDI40153")
def residencia_fiscal(doc: Doc, out: list[Finding]) -> None:
    receptor = doc.receptor
    if receptor is None:
        return
    residencia = (receptor.get("ResidenciaFiscal") or "").strip()
    if not residencia:
        if (receptor.get("NumRegIdTrib") or "").strip():
            at(out, receptor, "NumRegIdTrib", "CFDI-FIELD", "El receptor lleva NumRegIdTrib (registro fiscal "
               "extranjero) pero no ResidenciaFiscal: registre el país (c_Pais).", "CFDI40153")
        return
    if doc.receptor_rfc != GENERIC_FOREIGN:
        at(out, receptor, "ResidenciaFiscal", "CFDI-FIELD", f"El receptor tiene RFC mexicano {doc.receptor_rfc} "
           "y lleva ResidenciaFiscal: solo el receptor extranjero (XEXX010101000) la registra.", "CFDI40151")
    elif residencia == "MEX":
        at(out, receptor, "ResidenciaFiscal", "CFDI-FIELD", "La ResidenciaFiscal del receptor extranjero no puede "
           "ser MEX.", "CFDI40152")
    elif not doc.cat.has("c_Pais", residencia):
        at(out, receptor, "ResidenciaFiscal", "CFDI-CATALOG", f"La ResidenciaFiscal '{residencia}' no está en el "
           "catálogo c_Pais.", "CFDI40150")


@rule("CFDI40154", "CFDI40155", "CFDI40156")
def num_reg_id_trib(doc: Doc, out: list[Finding]) -> None:
    receptor = doc.receptor
    value = (receptor.get("NumRegIdTrib") or "").strip() if receptor is not None else ""
    if not value:
        return
    if doc.receptor_rfc != GENERIC_FOREIGN:
        at(out, receptor, "NumRegIdTrib", "CFDI-FIELD", f"El receptor tiene RFC mexicano {doc.receptor_rfc} y "  # type: ignore[arg-type]
           "lleva NumRegIdTrib: ese registro es solo para receptores extranjeros (XEXX010101000).",
           "CFDI40154")
        return
    if not doc.cce_in_force:  # the version in force on the Fecha (1.1 until 17/01/2024)
        at(out, receptor, "NumRegIdTrib", "CFDI-FIELD", "El receptor lleva NumRegIdTrib y el CFDI no lleva el "  # type: ignore[arg-type]
           "complemento de Comercio Exterior vigente en su Fecha, que el SAT exige para registrarlo.", "CFDI40155")
    pattern = doc.cat.pais_taxid.get((receptor.get("ResidenciaFiscal") or "").strip())  # type: ignore[union-attr]
    if pattern is not None and not pattern.fullmatch(value):
        at(out, receptor, "NumRegIdTrib", "CFDI-FIELD", f"El NumRegIdTrib '{value}' no tiene el formato del "  # type: ignore[arg-type]
           f"registro tributario de {receptor.get('ResidenciaFiscal')} ({pattern.pattern}).", "CFDI40156")  # type: ignore[union-attr]


@rule("CFDI40157", "CFDI40158")
def regimen_receptor(doc: Doc, out: list[Finding]) -> None:
    if doc.receptor is not None:
        _regimen(doc, doc.receptor, "RegimenFiscalReceptor", doc.receptor_rfc, "CFDI40157", "CFDI40158",
                 "RegimenFiscalReceptor", out)


@rule("CFDI40160", "CFDI40161")
def uso_cfdi(doc: Doc, out: list[Finding]) -> None:
    receptor = doc.receptor
    if receptor is None:
        return
    uso = (receptor.get("UsoCFDI") or "").strip()
    if not uso:
        return
    if not doc.cat.has("c_UsoCFDI", uso):
        at(out, receptor, "UsoCFDI", "CFDI-CATALOG", f"El UsoCFDI '{uso}' no está en el catálogo c_UsoCFDI.",
           "CFDI40160")
        return
    kind = persona(doc.receptor_rfc)
    regimen = (receptor.get("RegimenFiscalReceptor") or "").strip()
    personas, regimenes = doc.cat.uso_personas.get(uso), doc.cat.uso_regimenes.get(uso)
    if kind and personas is not None and kind not in personas:
        at(out, receptor, "UsoCFDI", "CFDI-CATALOG", f"El UsoCFDI {uso} no aplica a {_PERSONA[kind]} (RFC "
           f"{doc.receptor_rfc}).", "CFDI40161")
    elif regimen and regimenes is not None and regimen not in regimenes and doc.cat.has("c_RegimenFiscal", regimen):
        at(out, receptor, "UsoCFDI", "CFDI-CATALOG", f"El UsoCFDI {uso} no corresponde al régimen del receptor "
           f"{regimen} según el catálogo c_UsoCFDI.", "CFDI40161")
