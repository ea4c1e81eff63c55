#!/usr/bin/env python
"""ZIP archives end to end: a SAT-style bulk download of N invoices, and a large expanded archive's memory.

  (z0) raw baseline: read every entry of the same ZIP with zipfile (no checks, no store)
  (z1) ``python -m gateway run --once`` on the ZIP: split, archive each entry, validate, forward, folder sink
  (z2) peak RSS of ``run --once`` on a ZIP that expands to --expanded-mb of attachments (memory must stay flat)
The figures are ratios within one run: this shared machine's timings wander by up to 2x between runs.
Usage: python bench/bench_zip.py [--n 10000] [--expanded-mb 2048]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.demo.generate.cfdi import demo_identities, export_invoice, write_certificate  # noqa: E402
from gateway.demo.workspace import workspace_config  # noqa: E402
from gateway.kinds.cfdi.satfiles import default_root  # noqa: E402
from gateway.kinds.cfdi.seals import CertificateStore, SealVerifier  # noqa: E402


def invoices(n: int) -> tuple[list[bytes], object]:
    now = datetime.now().replace(microsecond=0)
    issuer, pac = demo_identities(now - timedelta(days=365), now + timedelta(days=365))
    verifier = SealVerifier(default_root(), CertificateStore([]))
    docs = [export_invoice(seq, issuer, pac, verifier, fecha=now - timedelta(days=1)) for seq in range(1, n + 1)]
    return docs, pac


_MEASURED = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def run_once(workspace: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB of this one gateway process, measured by a wrapper of its own)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MEASURED, sys.executable, "-m", "gateway", "run", "--once", "-c",
                           str(workspace / "gateway.toml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"FAIL run --once exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]) // 1024


def workspace(root: Path, pac: object, extra: str = "") -> Path:
    (root / "inbox").mkdir(parents=True)
    (root / "gateway.toml").write_text(workspace_config(source="bench", stable_time="0s") + extra, encoding="utf-8")
    write_certificate(pac, root / "certs")
    return root


def bulk(n: int, tmp: Path) -> None:
    docs, pac = invoices(n)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, data in enumerate(docs):
            archive.writestr(f"{i:06d}.xml", data)
    data = buffer.getvalue()
    start = time.perf_counter()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            archive.read(info)
    raw = n / (time.perf_counter() - start)
    ws = workspace(tmp / "bulk", pac)
    config = ws / "gateway.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'certificate_dirs = ["certs"]', 'certificate_dirs = ["certs"]\nmax_file_size = "2GB"'), encoding="utf-8")
    (ws / "inbox" / "descarga-masiva.zip").write_bytes(data)
    wall, peak = run_once(ws)
    forwarded = len(list((ws / "outbox" / "cfdi").glob("*.json")))
    if forwarded != n:
        raise SystemExit(f"FAIL forwarded {forwarded}/{n}")
    print(f"bulk ZIP: {n:,} invoices, {len(data) / 2**20:.1f} MiB compressed")
    print(f"  (z0) raw zipfile read      {raw:10,.0f} entries/s")
    print(f"  (z1) run --once end to end {n / wall:10,.0f} invoices/s   z1/z0 = {n / wall / raw:.4f}   "
          f"peak RSS {peak} MiB")


def expanded(megabytes: int, tmp: Path) -> None:
    _, pac = invoices(1)
    ws = workspace(tmp / "big", pac)
    config = ws / "gateway.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'certificate_dirs = ["certs"]', 'certificate_dirs = ["certs"]\nmax_file_size = "4GB"'), encoding="utf-8")
    rng = random.Random(7)
    block = bytes(rng.getrandbits(8) for _ in range(2**20 // 4)) * 4  # compresses ~4:1, under the ratio limit
    entry_mb = 256
    with zipfile.ZipFile(ws / "inbox" / "expediente-grande.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for number in range(max(1, megabytes // entry_mb)):
            with zf.open(f"escaneo-{number:02d}.pdf", "w", force_zip64=True) as entry:
                entry.write(b"%PDF-1.4\n")
                for _ in range(entry_mb):
                    entry.write(block)
    size = (ws / "inbox" / "expediente-grande.zip").stat().st_size
    wall, peak = run_once(ws)
    print(f"large ZIP: {megabytes:,} MiB expanded ({size / 2**20:,.0f} MiB compressed) in {wall:.1f} s, "
          f"{megabytes / wall:,.0f} MiB/s; peak RSS of run --once {peak} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--expanded-mb", type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-zip-") as tmp:
        bulk(args.n, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="bench-zip-") as tmp:
        expanded(args.expanded_mb, Path(tmp))


if __name__ == "__main__":
    main()
