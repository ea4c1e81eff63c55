"""Pedimento throughput and memory: an M file of 200 pedimentos × 100 partidas and a ~300 MB Data Stage.

Each case runs in a child process so its peak RSS (ru_maxrss) is its own. The raw baseline, measured in the
same run, reads the same bytes and splits them into lines and fields (M file) or streams the ZIP members line
by line (Data Stage): the ratio says what parsing, staging, rules and normalising cost on top of reading.

    python bench/bench_pedimento.py [--mb 300] [--pedimentos 200] [--partidas 100]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_mfile_raw(path: str) -> dict:
    data = Path(path).read_bytes()
    start = time.perf_counter()
    fields = sum(len(line.split(b"|")) for line in data.split(b"\n"))
    return {"seconds": time.perf_counter() - start, "fields": fields}


def case_mfile_gateway(path: str) -> dict:
    from gateway.kinds.pedimento.kind import MFileKind, PedimentoKind

    data = Path(path).read_bytes()
    start = time.perf_counter()
    result = MFileKind().check_named(data, Path(path).name)
    kind, count, partidas = PedimentoKind(), 0, 0
    for part in result.parts:
        checked = kind.check(part.data)
        assert checked.ok, checked.findings[:3]
        count += 1
        partidas += len(checked.record["partidas"])
    assert not result.findings
    return {"seconds": time.perf_counter() - start, "pedimentos": count, "partidas": partidas}


def case_datastage_raw(path: str) -> dict:
    start = time.perf_counter()
    rows = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as stream:
                for line in io.TextIOWrapper(stream, encoding="utf-8", newline=""):
                    rows += bool(line.split("|"))
    return {"seconds": time.perf_counter() - start, "rows": rows}


def case_datastage_gateway(path: str) -> dict:
    from gateway.kinds.pedimento.kind import DataStageKind, PedimentoKind

    data = Path(path).read_bytes()
    start = time.perf_counter()
    result = DataStageKind(Path(path).parent).check_named(data, Path(path).name)
    kind, count = PedimentoKind(), 0
    for part in result.parts:
        checked = kind.check(part.data)
        assert checked.ok, checked.findings[:3]
        count += 1
    assert not result.findings, result.findings[:3]
    return {"seconds": time.perf_counter() - start, "pedimentos": count}


def _child(case: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--case", case, path], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"case {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def build_mfile(directory: Path, pedimentos: int, partidas: int) -> Path:
    from gateway.demo.generate.pedimento import mfile, sample_pedimento

    name, data = mfile([sample_pedimento(seq, partidas) for seq in range(1, pedimentos + 1)])
    path = directory / name
    path.write_bytes(data)
    return path


def build_datastage(directory: Path, megabytes: int) -> tuple[Path, int, int]:
    """A Data Stage ZIP whose .asc files add up to about ``megabytes`` (uncompressed), written file by file."""
    from gateway.demo.generate.pedimento import DATASTAGE_HEADERS, datastage_rows, sample_pedimento

    template = [sample_pedimento(seq, 20) for seq in range(1, 51)]
    rows_of = [datastage_rows(p) for p in template]  # computed once; each copy only changes the number
    per_ped = sum(len(r) + 2 for rows in rows_of[:5] for found in rows.values() for r in found) / 5
    total = int(megabytes * 1_000_000 / per_ped)
    path = directory / "1839483.zip"
    size = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for reg, header in DATASTAGE_HEADERS.items():
            with archive.open(f"1839483_{reg}.asc", "w", force_zip64=True) as member:
                member.write(("|".join(header) + "\r\n").encode())
                for seq in range(1, total + 1):
                    base = template[seq % len(template)]
                    number = f"{str(base.payment_date.year)[-1]}{seq:06d}"
                    rows = rows_of[seq % len(template)][reg]
                    blob = "".join(r.replace(f"|{base.number}|", f"|{number}|", 1) + "\r\n" for r in rows).encode()
                    size += len(blob)
                    member.write(blob)
    return path, total, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("path", nargs="?")
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--pedimentos", type=int, default=200)
    parser.add_argument("--partidas", type=int, default=100)
    args = parser.parse_args()
    if args.case:
        result = globals()[f"case_{args.case}"](args.path)
        result["peak_rss_mb"] = round(_rss_mb(), 1)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = build_mfile(directory, args.pedimentos, args.partidas)
        raw, gw = _child("mfile_raw", str(path)), _child("mfile_gateway", str(path))
        size = path.stat().st_size / 1e6
        print(f"M file: {args.pedimentos} pedimentos × {args.partidas} partidas, {size:.1f} MB")
        print(f"  raw split into fields : {raw['seconds']:.2f} s   peak RSS {raw['peak_rss_mb']} MB")
        print(f"  gateway (split+check) : {gw['seconds']:.2f} s   peak RSS {gw['peak_rss_mb']} MB   "
              f"{gw['pedimentos'] / gw['seconds']:.1f} pedimentos/s   ×{gw['seconds'] / raw['seconds']:.0f} raw")
        path.unlink()
        zpath, total, asc_bytes = build_datastage(directory, args.mb)
        raw, gw = _child("datastage_raw", str(zpath)), _child("datastage_gateway", str(zpath))
        print(f"Data Stage: {total} pedimentos × 20 partidas, {asc_bytes / 1e6:.0f} MB of .asc "
              f"({zpath.stat().st_size / 1e6:.0f} MB zipped)")
        print(f"  raw stream of rows    : {raw['seconds']:.2f} s   peak RSS {raw['peak_rss_mb']} MB")
        print(f"  gateway (stage+check) : {gw['seconds']:.2f} s   peak RSS {gw['peak_rss_mb']} MB   "
              f"{gw['pedimentos'] / gw['seconds']:.1f} pedimentos/s   ×{gw['seconds'] / raw['seconds']:.0f} raw")
        os.sync()


if __name__ == "__main__":
    main()
