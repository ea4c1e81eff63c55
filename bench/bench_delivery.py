#!/usr/bin/env python
"""Delivery throughput to the reference receiver on loopback, as a ratio against raw POSTs in the same run.

  (r1) raw: the same bodies POSTed one after the other with the HTTP sink's own httpx client
  (r4) raw: the same, from ``concurrency`` threads (the gateway's default in-flight limit per sink)
  (g)  gateway: the delivery loop draining an outbox of ready documents (store reads, canonical
       envelope, POST, durable record of the outcome, state change with its audit row)
  (e)  end to end: ``immex-gateway run --once`` on an inbox of the same number of new invoices,
       delivered over HTTP (intake, archive, validation with seals, delivery)
  (f)  the same inbox and command with a folder sink instead, for comparison

Each figure goes to its own fresh receiver process (``immex-gateway receiver``), which stores every
document durably (SQLite, synchronous=FULL) before answering 201.
Usage: python bench/bench_delivery.py [--n 500] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.sinks.http import check  # noqa: E402
from gateway import logs, pipeline  # noqa: E402
from gateway.app import Gateway  # noqa: E402
from gateway.config import load  # noqa: E402
from gateway.delivery import DeliveryLoop  # noqa: E402
from gateway.demo.generate.cfdi import demo_identities, export_invoice, write_certificate  # noqa: E402
from gateway.kinds.cfdi.satfiles import default_root  # noqa: E402
from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier  # noqa: E402
from gateway.outbox import prepare  # noqa: E402
from gateway.runner import RunStats, intake_once  # noqa: E402
from gateway.store.base import now  # noqa: E402

CONFIG = """
[gateway]
data_dir = "var"
[validation]
certificate_dirs = ["certs"]
[logging]
level = "error"
[[source]]
name = "bench"
type = "folder"
path = "inbox"
stable_time = "0s"
[[sink]]
name = "inventory"
type = "http"
url = "{url}"
concurrency = {concurrency}
"""


class Receiver:
    def __init__(self, db: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "receiver", "--port", str(port), "--db", str(db)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
        self.url = json.loads(self.process.stdout.readline())["listening"]
        self.db = db

    def stored(self) -> int:
        import sqlite3

        con = sqlite3.connect(str(self.db))
        try:
            return con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            con.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def invoices(n: int, root: Path, offset: int = 0) -> list[bytes]:
    stamp = datetime.now().replace(microsecond=0)
    issuer, pac = demo_identities(stamp - timedelta(days=365), stamp + timedelta(days=365))
    write_certificate(pac, root / "certs")
    verifier = SealVerifier(default_root(), CertificateStore([]))
    return [export_invoice(offset + seq, issuer, pac, verifier, fecha=stamp - timedelta(days=1, seconds=seq))
            for seq in range(1, n + 1)]


def workspace(root: Path, url: str, concurrency: int, files: list[bytes]) -> Path:
    (root / "inbox").mkdir(parents=True)
    config = root / "gateway.toml"
    config.write_text(CONFIG.format(url=url, concurrency=concurrency), encoding="utf-8")
    for i, data in enumerate(files):
        (root / "inbox" / f"f{i:05d}.xml").write_bytes(data)
    return config


def raw(sink, url: str, bodies: list[tuple[str, bytes]], threads: int) -> float:
    def post(item: tuple[str, bytes]) -> None:
        key, body = item
        check(sink._client.post(url, content=body, headers={"Idempotency-Key": key,
                                                            "Content-Type": "application/json"}), url)
    start = time.perf_counter()
    if threads == 1:
        for item in bodies:
            post(item)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(post, bodies))
    return time.perf_counter() - start


def run_once(config: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "-c", str(config)], check=True,
                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    n = args.n
    logs.configure("error", "console")
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        tmp = Path(tmp)
        print(f"generating {2 * n} invoices …", flush=True)
        files = invoices(n, tmp / "g")
        e2e_files = invoices(n, tmp / "e", offset=100_000)
        receivers = {name: Receiver(tmp / f"{name}.db") for name in ("r1", "r4", "g", "e")}
        try:
            config = workspace(tmp / "g", receivers["g"].url, args.concurrency, files)
            gw = Gateway(load(config), actor="bench")
            stats = RunStats()
            while stats.taken < n:  # files are taken once seen stable on a second look
                intake_once(gw, stats)
                time.sleep(0.05)
            pipeline.process_pending(gw)
            jobs = [prepare(gw, d) for d in gw.store.due_deliveries(now(), limit=n + 1)]
            bodies = [(j.item.id, json.dumps(j.item.canonical, ensure_ascii=False, separators=(",", ":")).encode())
                      for j in jobs if j is not None]
            assert len(bodies) == n, f"{len(bodies)} ready documents, expected {n}"
            sink = gw.sinks["inventory"]
            t_r1 = raw(sink, receivers["r1"].url, bodies, 1)
            t_r4 = raw(sink, receivers["r4"].url, bodies, args.concurrency)

            loop = DeliveryLoop(gw)
            start = time.perf_counter()
            loop.start()
            while gw.store.pending_delivery_count():
                time.sleep(0.005)
            t_g = time.perf_counter() - start
            loop.stop()
            forwarded = len(gw.store.list_documents(["forwarded"]))
            gw.close()

            e_config = workspace(tmp / "e", receivers["e"].url, args.concurrency, e2e_files)
            f_config = workspace(tmp / "f", receivers["e"].url, args.concurrency, e2e_files)
            f_config.write_text(f_config.read_text().split("[[sink]]")[0]
                                + '[[sink]]\nname = "inventory"\ntype = "folder"\npath = "outbox"\n')
            t_f = run_once(f_config)
            t_e = run_once(e_config)
            folder_files = len(list((tmp / "f" / "outbox").glob("*/*.json")))
            stored = {name: r.stored() for name, r in receivers.items()}
        finally:
            for r in receivers.values():
                r.stop()
    if forwarded != n or folder_files != n or any(count != n for count in stored.values()):
        print(f"FAILED: forwarded {forwarded}, stored {stored}, folder {folder_files}, expected {n} each",
              file=sys.stderr)
        return 1
    rate = {"r1": n / t_r1, "r4": n / t_r4, "g": n / t_g, "e": n / t_e, "f": n / t_f}
    print(f"\n{n} documents, loopback, receiver storing durably; concurrency {args.concurrency}")
    print(f"(r1) raw POSTs, 1 thread          {rate['r1']:8.0f} docs/s")
    print(f"(r4) raw POSTs, {args.concurrency} threads         {rate['r4']:8.0f} docs/s")
    print(f"(g)  gateway delivery loop        {rate['g']:8.0f} docs/s   g/r4 = {rate['g'] / rate['r4']:.2f}"
          f"   g/r1 = {rate['g'] / rate['r1']:.2f}")
    print(f"(e)  run --once end to end (http) {rate['e']:8.0f} docs/s   ({t_e:.2f} s wall, process start included)"
          f"   e/f = {rate['e'] / rate['f']:.2f}")
    print(f"(f)  the same with a folder sink   {rate['f']:8.0f} docs/s   ({t_f:.2f} s wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
