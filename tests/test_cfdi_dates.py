"""Rules as of the invoice's Fecha (issue #19): the effective-date table, and the rules that read it.

An archive re-validated today must get the verdict SAT gave on the day each invoice was issued: an export of
2023 with Comercio Exterior 1.1 was right then. Also SAT's allowances the rules used to miss: a factura global
may name up to five previous ejercicios (CFDI40136), a pedimento number may keep an earlier year's digit.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lxml import etree

from gateway.findings import Severity
from gateway.kinds.cfdi.effective import PERIODS, in_force
from gateway.kinds.cfdi.matrix import check_matrix
from gateway.kinds.cfdi.rules import check_rules
from gateway.xmlsafe import parse
from tests.cfdi_matrix_fixtures import C, global_invoice, national, one, sub, variant

CCE11 = "{http://www.sat.gob.mx/ComercioExterior11}ComercioExterior"
CCE20 = "{http://www.sat.gob.mx/ComercioExterior20}ComercioExterior"


@pytest.fixture(scope="module")
def export(make_invoice) -> etree._Element:
    return parse(make_invoice(1)).root


def _dated(root: etree._Element, fecha: str, cce_tag: str | None = None) -> etree._Element:
    def edit(copy: etree._Element) -> None:
        copy.set("Fecha", fecha)
        if cce_tag is not None:
            one(copy, "cfdi:Complemento").find(CCE20).tag = cce_tag
    return variant(root, edit)


def _cce_missing(root: etree._Element) -> list[str]:
    return [f.message for f in check_rules(root) if f.sat_code == "CFDI40122"]


def test_periods_are_well_formed():
    for key, period in PERIODS.items():
        assert period.what and period.source, key
        assert period.start is None or period.end is None or period.start <= period.end, key
    # Comercio Exterior: 1.1 up to the day before 2.0, no gap, no overlap
    assert PERIODS["cce11"].end is not None and PERIODS["cce20"].start is not None
    assert (PERIODS["cce20"].start - PERIODS["cce11"].end).days == 1


def test_in_force_bounds_are_inclusive_and_unknown_dates_mean_today():
    assert in_force("cce11", date(2024, 1, 17)) and not in_force("cce11", date(2024, 1, 18))
    assert in_force("cce20", datetime(2024, 1, 18, 0, 0, 0)) and not in_force("cce20", date(2024, 1, 17))
    assert in_force("cce20", None) and not in_force("cce11", None)


@pytest.mark.parametrize(("fecha", "rejected"), [
    ("2023-06-01T10:00:00", False), ("2024-01-17T23:59:59", False), ("2024-01-18T00:00:00", True),
    ("2025-03-01T10:00:00", True),
])
def test_export_with_comercio_exterior_11_is_judged_by_its_fecha(export, fecha, rejected):
    messages = _cce_missing(_dated(export, fecha, CCE11))
    assert bool(messages) is rejected
    if rejected:
        assert "Comercio Exterior 1.1" in messages[0] and "17/01/2024" in messages[0]


@pytest.mark.parametrize(("fecha", "rejected"), [("2023-11-30T10:00:00", True), ("2024-01-18T09:00:00", False)])
def test_export_with_comercio_exterior_20_before_it_was_in_force(export, fecha, rejected):
    messages = _cce_missing(_dated(export, fecha))
    assert bool(messages) is rejected
    if rejected:
        assert "Comercio Exterior 2.0" in messages[0] and "18/01/2024" in messages[0]


def test_export_without_any_comercio_exterior_is_rejected_on_any_date(export):
    def drop(copy: etree._Element) -> None:
        complemento = one(copy, "cfdi:Complemento")
        complemento.remove(complemento.find(CCE20))
    for fecha in ("2023-06-01T10:00:00", "2025-06-01T10:00:00"):
        root = variant(_dated(export, fecha), drop)
        assert len(_cce_missing(root)) == 1


def _global(export: etree._Element, years_back: int) -> etree._Element:
    def back(copy: etree._Element) -> None:
        one(copy, "cfdi:InformacionGlobal").set("Año", str(int(copy.get("Fecha")[:4]) - years_back))
    return variant(export, global_invoice, back)


@pytest.mark.parametrize(("years_back", "rejected"), [(0, False), (1, False), (5, False), (6, True), (-1, True)])
def test_factura_global_may_name_up_to_five_previous_ejercicios(export, years_back, rejected):
    codes = {f.sat_code for f in check_matrix(_global(export, years_back)) if f.severity is Severity.ERROR}
    assert ("CFDI40136" in codes) is rejected


def _with_pedimento(export: etree._Element, numero: str, fecha: str = "2023-05-12T10:00:00") -> etree._Element:
    def add(copy: etree._Element) -> None:
        copy.set("Fecha", fecha)
        concepto = one(copy, "cfdi:Conceptos/cfdi:Concepto")
        impuestos = concepto.find(f"{C}Impuestos")
        node = sub(concepto, f"{C}InformacionAduanera", NumeroPedimento=numero)
        if impuestos is not None:  # the schema's order: Impuestos, ACuentaTerceros, InformacionAduanera, ...
            impuestos.addnext(node)
    return variant(export, national, add)


def _pedimento_findings(root: etree._Element) -> list:
    return [f for f in check_matrix(root) if f.code == "CFDI-PEDIMENTO"]


@pytest.mark.parametrize("numero", ["23  47  3807  3000017", "23  47  3807  2000017"])
def test_pedimento_of_the_year_or_a_consolidado_of_the_year_before_is_fine(export, numero):
    assert _pedimento_findings(_with_pedimento(export, numero)) == []


def test_pedimento_keeping_another_years_digit_is_a_warning_not_a_rejection(export):
    """'21  47  3807  8003832' (stamped by SW's test PAC in 2023): only a rectification's original keeps an 8."""
    findings = _pedimento_findings(_with_pedimento(export, "21  47  3807  8003832"))
    assert [f.severity for f in findings] == [Severity.WARNING]
    assert "rectificación" in findings[0].message


@pytest.mark.parametrize("numero", ["24  47  3807  4000001", "12  47  3807  2000001", "23 47 3807 3000017"])
def test_pedimento_after_the_fecha_too_old_or_malformed_is_cfdi40194(export, numero):
    findings = _pedimento_findings(_with_pedimento(export, numero))
    assert [(f.severity, f.sat_code) for f in findings] == [(Severity.ERROR, "CFDI40194")]


@pytest.mark.parametrize(("fecha", "rejected"), [("2023-06-01T10:00:00", False), ("2025-06-01T10:00:00", True)])
def test_num_reg_id_trib_needs_the_comercio_exterior_in_force(export, fecha, rejected):
    """CFDI40155: a foreign receptor's NumRegIdTrib with Comercio Exterior 1.1, before and after 17/01/2024."""
    root = _dated(export, fecha, CCE11)
    assert one(root, "cfdi:Receptor").get("NumRegIdTrib")
    codes = {f.sat_code for f in check_matrix(root) if f.severity is Severity.ERROR}
    assert ("CFDI40155" in codes) is rejected


@pytest.mark.parametrize(("fecha", "in_force_then"), [("2019-05-01T10:00:00", True), ("2023-06-01T10:00:00", False)])
def test_a_cfdi_33_is_refused_saying_whether_it_was_in_force_on_its_fecha(fecha, in_force_then):
    from gateway.kinds.cfdi.kind import CfdiKind

    data = (f'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/3" Version="3.3" Fecha="{fecha}"/>').encode()
    _, findings = CfdiKind(verify_seals=False).validate(data)
    finding, = findings
    assert finding.code == "CFDI-VERSION" and "31/03/2023" in finding.message
    assert ("era vigente en su Fecha" in finding.message) is in_force_then


def test_doc_day_is_the_fecha_or_today(export):
    from gateway.kinds.cfdi.catalogs import catalogs
    from gateway.kinds.cfdi.matrix import Doc

    assert Doc(_dated(export, "2023-06-01T10:00:00"), catalogs()).day == date(2023, 6, 1)
    assert Doc(_dated(export, "2023-02-30T10:00:00"), catalogs()).day == date.today()
