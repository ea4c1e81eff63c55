#!/usr/bin/env python
"""Throughput with one core and with all: ``validate`` of many files, and ``run --once`` end to end.

The same ``--n`` sealed export invoices (both seals checked) in one run:

  (b) naive lxml XSD with SAT's unmodified schemas, one core: the raw baseline every ratio is against
  (v1) ``immex-gateway validate --json FILE…`` with ``--workers 1``      (vN) the same with one worker per core
  (e1) ``immex-gateway run --once`` (SQLite, folder sink), ``workers = 1`` (eN) the same, one worker per core

(v*) and (e*) are wall times of the real command in a subprocess: interpreter start, imports, schema
compilation and the workers' start-up are included (the figure a user sees). The commands' output must agree:
``validate`` prints the same JSON with one worker or several, and every invoice must end up forwarded.
Usage: python bench/bench_throughput.py [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_cfdi import BENCH_SCHEMAS, hardened_parser, official_schema  # noqa: E402
from bench_delivery import invoices  # noqa: E402

from gateway.config import cores  # noqa: E402
from gateway.kinds.cfdi.satfiles import default_root  # noqa: E402

CONFIG = """
[gateway]
data_dir = "var"
workers = {workers}
[validation]
certificate_dirs = ["certs"]
[correlation]
wait_for = []
[logging]
level = "error"
[[source]]
name = "bench"
type = "folder"
path = "inbox"
stable_time = "0s"
[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
"""
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def naive(files: list[Path]) -> float:
    from lxml import etree

    schema, _ = official_schema(default_root(), BENCH_SCHEMAS)
    parser = hardened_parser()
    sample = files[:min(len(files), 300)]
    start = time.perf_counter()
    for path in sample:
        schema.validate(etree.fromstring(path.read_bytes(), parser))
    return len(sample) / (time.perf_counter() - start)


def validate(files: list[Path], certs: Path, workers: int) -> tuple[float, str]:
    command = [sys.executable, "-m", "gateway", "validate", "--json", "--workers", str(workers), "--certs", str(certs),
               *map(str, files)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"FAIL validate --workers {workers} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, proc.stdout


def end_to_end(files: list[Path], certs: Path, workers: int, root: Path) -> float:
    workspace = root / f"e2e-{workers}"
    (workspace / "inbox").mkdir(parents=True)
    (workspace / "certs").mkdir()
    for cert in certs.iterdir():
        (workspace / "certs" / cert.name).write_bytes(cert.read_bytes())
    (workspace / "gateway.toml").write_text(CONFIG.format(workers=workers), encoding="utf-8")
    for path in files:
        (workspace / "inbox" / path.name).write_bytes(path.read_bytes())
    command = [sys.executable, "-m", "gateway", "run", "--once", "-c", str(workspace / "gateway.toml")]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    forwarded = len(list((workspace / "outbox").rglob("*.json")))
    if proc.returncode != 0 or forwarded != len(files):
        raise SystemExit(f"FAIL run --once (workers {workers}) forwarded {forwarded}/{len(files)}: "
                         f"{proc.stderr[-2000:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    all_cores = cores()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        root = Path(tmp)
        data = invoices(args.n, root / "gen")
        (root / "files").mkdir()
        files = []
        for i, content in enumerate(data):
            path = root / "files" / f"factura-{i:05d}.xml"
            path.write_bytes(content)
            files.append(path)
        certs = root / "gen" / "certs"
        b = naive(files)
        v1, out1 = validate(files, certs, 1)
        vn, outn = validate(files, certs, all_cores)
        if json.loads(out1) != json.loads(outn):
            raise SystemExit("FAIL validate printed different results with one worker and with several")
        if not all(item["valid"] for item in json.loads(out1)):
            raise SystemExit("FAIL an invoice of the batch is not valid")
        e1 = end_to_end(files, certs, 1, root)
        en = end_to_end(files, certs, all_cores, root)
    n = args.n
    print(f"{n} sealed export invoices, {all_cores} cores; wall times of the real commands (start-up included)")
    print(f"  (b)  naive lxml XSD, 1 core        {b:8.0f} docs/s   1.00x")
    for label, seconds in (("(v1) validate --workers 1", v1), (f"(vN) validate --workers {all_cores}", vn),
                           ("(e1) run --once, workers = 1", e1), (f"(eN) run --once, workers = {all_cores}", en)):
        print(f"  {label:<33}{n / seconds:8.0f} docs/s {n / seconds / b:6.2f}x")
    print(f"  all cores / one core: validate {v1 / vn:4.2f}x, run --once {e1 / en:4.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
