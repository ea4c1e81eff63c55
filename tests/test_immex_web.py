"""The overview's IMMEX deadlines panel in Debian's Chromium, against a real ``serve`` over temporary imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gateway.demo.generate import pedimento as gen
from gateway.kinds.pedimento.clock import add_months

pytest_plugins = ("tests.web_fixtures",)  # the browser

TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def immex_server(tmp_path_factory, make_invoice, identities):
    from tests.web_fixtures import start_server, stop_server

    root = tmp_path_factory.mktemp("immex-web")
    soon = gen.sample_pedimento(1, 1, payment_date=add_months(TODAY, -18) + timedelta(days=12))
    later = gen.sample_pedimento(2, 1, payment_date=add_months(TODAY, -18) + timedelta(days=50))
    overdue = gen.sample_pedimento(3, 1, payment_date=add_months(TODAY, -18) - timedelta(days=5))
    back = gen.sample_pedimento(9, 1, clave="RT", operation_type="2", payment_date=TODAY)
    o = later.partidas[0]
    back.extra_records = [f"512|{back.number}|{later.patente}|{later.number}|{later.aduana}|IN|"
                          f"{later.payment_date:%Y%m%d}|{o.fraccion}|{o.umt}|{Decimal(5)}"]
    inbox = root / "inbox"
    inbox.mkdir()
    for n, p in enumerate((later, soon, overdue, back), start=1):  # not in deadline order
        name, data = gen.mfile([p], name=gen.file_name(p.patente, n))
        (inbox / name).write_bytes(data)
    server = start_server(root, make_invoice, identities)
    server.pedimentos = {"soon": soon, "later": later, "overdue": overdue}
    yield server
    stop_server(server)


def test_the_overview_lists_partidas_by_deadline_spanish_first(browser, immex_server):
    from tests.web_fixtures import browser_login

    page = browser_login(browser, immex_server, "victor")  # a viewer may read it
    page.goto("/overview")
    panel = page.locator("#immex-deadlines")
    assert "Plazos de retorno IMMEX" in panel.locator("h2").inner_text()
    assert "no es el saldo del Anexo 24" in page.inner_text("#immex-note")
    rows = page.locator("#immex-table tbody tr")
    deadlines = [rows.nth(i).get_attribute("data-deadline") for i in range(rows.count())]
    assert len(deadlines) == 3 and deadlines == sorted(deadlines)
    first = rows.nth(0).locator("td")
    overdue = immex_server.pedimentos["overdue"]
    assert int(first.nth(1).inner_text()) < 0 and "bad" in first.nth(1).get_attribute("class")
    assert overdue.number in first.nth(2).inner_text()
    later = immex_server.pedimentos["later"]
    last = rows.nth(2).locator("td")
    imported = later.partidas[0].umc_quantity
    assert later.number in last.nth(2).inner_text()
    assert (last.nth(6).inner_text(), last.nth(7).inner_text(), last.nth(8).inner_text()) == (
        str(imported), "5", str(imported - 5))
    assert page.inner_text("#immex-overdue b") == "1" and page.inner_text("#immex-within-30 b") == "1"
    assert page.inner_text("#immex-within-90 b") == "2"
    rows.nth(2).locator("a").click()  # the pedimento's own page shows the return that discharges it
    page.wait_for_selector("#links")
    assert "/documents/" in page.url and "descargado por" in page.inner_text("#links")
    page.goto("/overview")
    page.click("#lang-switch")
    page.wait_for_url("**/overview")
    assert "IMMEX return deadlines" in page.inner_text("#immex-deadlines h2")
    assert "not the Annex 24 balance" in page.inner_text("#immex-note")
    page.context.close()


def test_metrics_and_the_api_overview_carry_the_same_figures(immex_server):
    status, body, _ = immex_server.request("GET", "/metrics", token=immex_server.tokens["victor"])
    text = body.decode()
    assert status == 200, text
    assert 'immex_partidas_expiring{within_days="30"} 1' in text
    assert 'immex_partidas_expiring{within_days="60"} 2' in text and "immex_partidas_overdue 1" in text
    status, overview = immex_server.api("GET", "/overview", token=immex_server.tokens["victor"])
    assert status == 200 and overview["immex"]["counts"] == {"overdue": 1, "30": 1, "60": 2, "90": 2}
    deadlines = [r["deadline"] for r in overview["immex"]["rows"]]
    assert deadlines == sorted(deadlines) and len(deadlines) == 3
