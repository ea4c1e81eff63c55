"""Queue page load time with 20,000 rejected documents in the store, against raw baselines in the same run.

    .venv/bin/python bench/bench_web.py [--documents 20000] [--repeat 20]

The store is filled through the store's own methods (the calls the pipeline makes: document row,
findings, audit rows, state change), with archived originals, codes, kinds, sources and dates
spread like a busy queue. Then a real ``immex-gateway serve`` answers over HTTP; each page is timed
over ``--repeat`` requests (median and p95), next to two baselines measured in the same run:
``/healthz`` (the server's own floor) and the bare SQL behind the queue page (the store's floor).
The queue page caches its counts per finding code until the store changes; the page is timed both
ways. Last, Debian's Chromium loads the queue page and reports the navigation timing (load event).
"""

from __future__ import annotations

import argparse
import hashlib
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.archive import Archive  # noqa: E402
from gateway.demo.workspace import workspace_config  # noqa: E402
from gateway.findings import error, warning  # noqa: E402
from gateway.store import SqliteStore  # noqa: E402
from gateway.store.base import Document  # noqa: E402
from gateway.store.web_queries import QueueFilter  # noqa: E402
from gateway.web import auth  # noqa: E402

PASSWORD = "banco-de-pruebas-1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
PROBLEMS = [  # (kind, [(code, message)], share)
    ("cfdi", [("CFDI-TOTALS", "El Total declarado no cuadra con SubTotal e impuestos."),
              ("CFDI-SEAL", "El Sello del emisor no corresponde a la cadena original.")], 30),
    ("cfdi", [("XSD", "El atributo 'ClaveProdServ' no es válido en el catálogo c_ClaveProdServ.")], 25),
    ("cfdi", [("CFDI-CCE-USD", "El TotalUSD del Comercio Exterior no es la suma de ValorDolares.")], 15),
    (None, [("XML-MALFORMED", "El XML no está bien formado: fin de archivo inesperado.")], 15),
    (None, [("FILE-UNKNOWN-KIND", "No se reconoce el tipo de documento.")], 10),
    ("cfdi", [("CFDI-TFD-MISSING", "El CFDI no está timbrado.")], 5),
]
SOURCES = ["broker-drop", "broker-sftp", "erp-export"]


def fill(root: Path, count: int) -> tuple[Path, str, str]:
    """Write the workspace and ``count`` rejected documents; return (config, a document id, its UUID)."""
    config = root / "gateway.toml"
    config.write_text(workspace_config(), encoding="utf-8")
    (root / "inbox").mkdir()
    store, archive = SqliteStore(root / "var" / "gateway.db"), Archive(root / "var" / "archive")
    rnd = random.Random(8)
    weights = [p[2] for p in PROBLEMS]
    start = datetime.now(UTC) - timedelta(days=14)
    sample = ("", "")
    try:
        for batch in range(0, count, 1000):
            with store.transaction():
                for n in range(batch, min(count, batch + 1000)):
                    kind, problems, _ = rnd.choices(PROBLEMS, weights)[0]
                    folio = str(uuid.UUID(int=rnd.getrandbits(128), version=4)).upper()
                    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<cfdi:Comprobante Folio="{n}" Total="{n}.00">\n'
                            f'  <cfdi:Emisor Rfc="EKU9003173C9"/>\n  <cfdi:Receptor Rfc="XEXX010101000"/>\n'
                            f'  <tfd:TimbreFiscalDigital UUID="{folio}"/>\n</cfdi:Comprobante>\n').encode()
                    sha, size = _archive(archive, body)
                    at = (start + timedelta(seconds=n * 14 * 86400 / count)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                    doc = Document(id=f"B{n:08d}", kind=kind, declared_kind="auto", state="received",
                                   source_name=SOURCES[n % 3], filename=f"factura-{n:06d}.xml", sha256=sha,
                                   size=size, received_at=at, updated_at=at, source_acked_at=at)
                    store.insert_document(doc, "bench", "intake")
                    findings = [error(code, msg, line=2) for code, msg in problems]
                    if n % 4 == 0:
                        findings.append(warning("RFC-INVALID", "Dígito verificador del RFC incorrecto.", line=4))
                    store.add_findings(doc.id, findings)
                    store.set_state(doc.id, "rejected", "bench", "validate", reason=problems[0][0])
                    if n == count // 2:
                        sample = (doc.id, folio)
        auth.add_user(store, "bench", "operator", PASSWORD)
    finally:
        store.close()
    return config, *sample


def _archive(archive: Archive, body: bytes) -> tuple[str, int]:
    """Bench set-up only: the blob where the archive keeps it, without the archive's per-file fsyncs."""
    sha = hashlib.sha256(body).hexdigest()
    path = archive.path_for(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return sha, len(body)


def timed(fn, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        config, sample_id, sample_uuid = fill(root, args.documents)
        print(f"store filled with {args.documents:,} rejected documents in {time.perf_counter() - began:.1f} s")

        store = SqliteStore(root / "var" / "gateway.db")
        plan = store._db.execute(
            "EXPLAIN QUERY PLAN SELECT d.* FROM documents d WHERE d.state = ? "
            "ORDER BY d.received_at DESC, d.id DESC LIMIT 50 OFFSET 0", ("rejected",)).fetchall()
        print("queue query plan:", "; ".join(r[3] for r in plan))

        def bare_sql() -> None:
            f = QueueFilter()
            store.queue_count(f)
            store.queue_page(f, 50, 0)

        def bare_sql_with_counts() -> None:
            bare_sql()
            store.queue_code_counts(QueueFilter())

        def change() -> None:  # what any state change does: an audit row, so cached counts are stale
            store.audit(sample_id, "bench", "note")

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        server = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(config), "--port", str(port)],
                                  cwd=REPO, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url)
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            login_page = opener.open(url + "/login").read().decode()
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
            opener.open(url + "/login", urllib.parse.urlencode(
                {"username": "bench", "password": PASSWORD, "csrf_token": csrf}).encode()).read()

            def get(path: str):  # noqa: ANN202
                return lambda: opener.open(url + path).read()

            began = time.perf_counter()
            get(f"/queue?q={sample_uuid}")()  # the first text search reads the search keys still missing
            print(f"search keys of {args.documents:,} documents read in {time.perf_counter() - began:.1f} s "
                  "(once; the server does it in the background after start)")
            last_page = -(-args.documents // 50)
            cases = [
                ("baseline: GET /healthz", get("/healthz")),
                ("baseline: bare SQL of a queue page (count + 50 rows)", bare_sql),
                ("bare SQL + counts per finding code (uncached)", bare_sql_with_counts),
                ("GET /queue (page 1 of the queue, HTML)", get("/queue")),
                ("GET /queue after a store change (counts recomputed)", lambda: (change(), get("/queue")())),
                (f"GET /queue?page={last_page} (last page)", get(f"/queue?page={last_page}")),
                ("GET /queue?code=CFDI-SEAL", get("/queue?code=CFDI-SEAL")),
                ("GET /queue?kind=cfdi&source=broker-sftp&from=…", get(
                    "/queue?kind=cfdi&source=broker-sftp&from=" + (datetime.now(UTC) - timedelta(days=3)).strftime(
                        "%Y-%m-%d"))),
                ("GET /queue?q=<UUID> (free text)", get(f"/queue?q={sample_uuid}")),
                ("GET /api/documents (JSON, page 1)", get("/api/documents")),
                ("GET /documents/<id> (document page)", get(f"/documents/{sample_id}")),
            ]
            results = [(name, *timed(fn, args.repeat)) for name, fn in cases]
            floor = results[0][1]
            print(f"\n{'request':62} {'median':>9} {'p95':>9} {'× /healthz':>11}")
            for name, median, p95 in results:
                print(f"{name:62} {median:7.1f}ms {p95:7.1f}ms {median / floor:10.1f}×")
            browser_load(url, args.repeat)
        finally:
            server.terminate()
            server.wait(timeout=15)
            store.close()
    return 0


def browser_load(url: str, repeat: int) -> None:
    """The queue as a person sees it: Chromium's navigation timing from request to the load event."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=url)
        page.goto("/login")
        page.fill("#username", "bench")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#queue-table")
        loads = []
        for _ in range(repeat):
            page.goto("/queue")
            loads.append(page.evaluate(
                "() => { const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd; }"))
        browser.close()
    loads.sort()
    print(f"\nChromium: queue page load (navigation start → load event), median {statistics.median(loads):.0f} ms, "
          f"p95 {loads[max(0, int(len(loads) * 0.95) - 1)]:.0f} ms over {repeat} loads")


def _wait(url: str) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("serve did not start")


if __name__ == "__main__":
    raise SystemExit(main())
