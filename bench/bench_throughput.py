#!/usr/bin/env python
"""Throughput with one core and with all: ``validate`` of many files, and ``run --once`` end to end.

The same ``--n`` sealed export invoices (both seals checked) in one run:

  (b) naive lxml XSD with SAT's unmodified schemas, one core: the raw baseline every ratio is against
  (v0) ``immex-gateway validate --json`` of one invoice: the start-up every ``validate`` pays
  (v1) ``immex-gateway validate --json FILE…`` with ``--workers 1``      (vN) the same with one worker per core
  (e1) ``immex-gateway run --once`` (SQLite, folder sink), ``workers = 1`` (eN) the same, one worker per core

and an M file of ``--pedimentos`` × ``--partidas`` against its own raw baseline:

  (m)  the raw split of its lines into fields (``bench_pedimento.py``'s baseline), in this process
  (m1) ``immex-gateway validate --json`` of the M file, ``--workers 1``  (mN) one worker per core

(v*), (e*) and (m1)/(mN) are wall times of the real command in a subprocess: interpreter start, imports, schema
compilation and the workers' start-up are included (the figure a user sees); the peak RSS of the gateway process
(not its workers) is printed for (v*) and (m*). The commands' output must agree: ``validate`` prints the same JSON
with one worker or several, and every invoice must end up forwarded.

``--code DIR`` (repeatable) measures other checkouts of the gateway on the same files in the same run (e.g. the
main branch from ``git archive``), so before and after are compared on one machine at one time. Each checkout
validates one invoice before anything is timed (its caches, such as the lifted catalogs, are warm). With
``--repeat R`` every figure is the best of R runs, the checkouts taking turns figure by figure.
Usage: python bench/bench_throughput.py [--n 1000] [--pedimentos 200] [--partidas 100] [--repeat R] [--code DIR]…
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


def env(code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code)}


def timed(command: list[str], code: Path) -> tuple[float, subprocess.CompletedProcess[str], float]:
    """Wall seconds, the finished process, and its peak RSS in MB (GNU time's %M: the gateway process, or the
    largest process it waited for; nan without /usr/bin/time)."""
    with tempfile.NamedTemporaryFile(prefix="rss-", suffix=".txt") as rss_file:
        wrapper = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file.name] if Path("/usr/bin/time").exists() else []
        start = time.perf_counter()
        proc = subprocess.run([*wrapper, *command], cwd=code, env=env(code), capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - start
        text = Path(rss_file.name).read_text().strip().splitlines()
    rss = int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return wall, proc, rss


def naive(files: list[Path]) -> float:
    from lxml import etree

    schema, _ = official_schema(default_root(), BENCH_SCHEMAS)
    parser = hardened_parser()
    sample = files[:min(len(files), 300)]
    start = time.perf_counter()
    for path in sample:
        schema.validate(etree.fromstring(path.read_bytes(), parser))
    return len(sample) / (time.perf_counter() - start)


def validate(files: list[Path], certs: Path | None, workers: int, code: Path) -> tuple[float, str, float]:
    command = [sys.executable, "-m", "gateway", "validate", "--json", "--workers", str(workers),
               *(["--certs", str(certs)] if certs else []), *map(str, files)]
    wall, proc, rss = timed(command, code)
    if proc.returncode != 0:
        raise SystemExit(f"FAIL validate --workers {workers} ({code}) exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, proc.stdout, rss


def raw_mfile(path: Path) -> float:
    """The raw baseline of ``bench_pedimento.py``: the file's lines split into fields (best of three)."""
    data = path.read_bytes()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(len(line.split(b"|")) for line in data.split(b"\n"))
        best = min(best, time.perf_counter() - start)
    return best


def end_to_end(files: list[Path], certs: Path, workers: int, root: Path, code: Path) -> float:
    workspace = Path(tempfile.mkdtemp(prefix=f"e2e-{workers}-", dir=root))
    (workspace / "inbox").mkdir(parents=True)
    (workspace / "certs").mkdir()
    for cert in certs.iterdir():
        (workspace / "certs" / cert.name).write_bytes(cert.read_bytes())
    (workspace / "gateway.toml").write_text(CONFIG.format(workers=workers), encoding="utf-8")
    for path in files:
        (workspace / "inbox" / path.name).write_bytes(path.read_bytes())
    command = [sys.executable, "-m", "gateway", "run", "--once", "-c", str(workspace / "gateway.toml")]
    wall, proc, _ = timed(command, code)
    forwarded = len(list((workspace / "outbox").rglob("*.json")))
    if proc.returncode != 0 or forwarded != len(files):
        raise SystemExit(f"FAIL run --once (workers {workers}) forwarded {forwarded}/{len(files)}: "
                         f"{proc.stderr[-2000:]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--pedimentos", type=int, default=200)
    parser.add_argument("--partidas", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many interleaved runs of each figure")
    parser.add_argument("--code", type=Path, action="append", default=[],
                        help="another checkout to measure in the same run (repeatable)")
    args = parser.parse_args()
    all_cores = cores()
    codes = [ROOT, *(c.resolve() for c in args.code)]
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
        from bench_pedimento import build_mfile

        mpath = build_mfile(root, args.pedimentos, args.partidas)
        b = naive(files)
        m = raw_mfile(mpath)
        rows: dict[Path, dict[str, tuple[float, float]]] = {code: {} for code in codes}
        outputs: dict[tuple[Path, str], str] = {}
        for code in codes:  # warm: a first validate in each checkout (its caches), nothing timed
            validate(files[:1], certs, 1, code)
        runs = {"v0": (files[:1], certs, 1), "v1": (files, certs, 1), "vN": (files, certs, all_cores),
                "m1": ([mpath], None, 1), "mN": ([mpath], None, all_cores)}
        for _ in range(args.repeat):  # each figure of every checkout in turn, so a change of load hits all alike
            for label in ("v0", "v1", "vN", "m1", "mN", "e1", "eN"):
                for code in codes:
                    if label in runs:
                        wall, out, rss = validate(*runs[label], code)
                        outputs[(code, label)] = out
                    else:
                        workers = 1 if label == "e1" else all_cores
                        wall, rss = end_to_end(files, certs, workers, root, code), float("nan")
                    if label not in rows[code] or wall < rows[code][label][0]:
                        rows[code][label] = (wall, rss)
        first = json.loads(outputs[(ROOT, "v1")])
        if not all(item["valid"] for item in first):
            raise SystemExit("FAIL an invoice of the batch is not valid")
        for code in codes:
            for label, reference in (("v1", "v1"), ("vN", "v1"), ("m1", "m1"), ("mN", "m1")):
                if outputs[(code, label)] != outputs[(ROOT, reference)]:
                    raise SystemExit(f"FAIL validate printed other bytes ({code}, {label}) than ({ROOT}, {reference})")
        msize = mpath.stat().st_size / 1e6
    n = args.n
    print(f"{n} sealed export invoices, {all_cores} cores; wall times of the real commands (start-up included)")
    print(f"  (b)  naive lxml XSD, 1 core: {b:.0f} docs/s (1.00x)")
    print(f"M file: {args.pedimentos} pedimentos x {args.partidas} partidas, {msize:.1f} MB; (m) raw split of its "
          f"lines: {m:.3f} s")
    for code in codes:
        row = rows[code]
        print(f"{code}:")
        wall, rss = row["v0"]
        print(f"  (v0) validate, one invoice (start-up)   {wall:6.2f} s          peak RSS {rss:5.0f} MB")
        for label, name in (("v1", "validate --workers 1"), ("vN", f"validate --workers {all_cores}"),
                            ("e1", "run --once, workers = 1"), ("eN", f"run --once, workers = {all_cores}")):
            wall, rss = row[label]
            memory = f"   peak RSS {rss:5.0f} MB" if rss == rss else ""
            print(f"  ({label}) {name:<33}{n / wall:6.0f} docs/s {n / wall / b:6.2f}x (b){memory}")
        for label, name in (("m1", "validate M file --workers 1"), ("mN", f"validate M file --workers {all_cores}")):
            wall, rss = row[label]
            print(f"  ({label}) {name:<33}{wall:6.2f} s  {wall / m:7.1f}x (m)   peak RSS {rss:5.0f} MB")
        print(f"  all cores / one core: validate {row['v1'][0] / row['vN'][0]:4.2f}x, "
              f"M file {row['m1'][0] / row['mN'][0]:4.2f}x, run --once {row['e1'][0] / row['eN'][0]:4.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
