#!/usr/bin/env python
"""ERP export throughput and peak memory, against a raw ``csv`` baseline measured in the same run.

For each size (default 50,000 and 500,000 rows) an SAP-style material master is generated (``;``,
Windows-1252, German headers, decimal comma: the ``sap-materials`` mapping) and each measurement runs in a
fresh subprocess, so that its peak RSS (``ru_maxrss``) is its own:

  (a) raw       ``csv.reader`` over the file (cp1252, ``;``), counting rows: the baseline
  (b) mapping   ``ExportKind.check_file``: read through the mapping, convert every value, encode every chunk
  (c) e2e       ``python -m gateway run --once``: intake, archive, split into chunks, check each chunk, store,
                folder sink (one JSON per 5,000 rows); the run fails unless every row is forwarded

Each line also gives the CPU seconds (user + system) of the measured process: on a shared machine they
move less than wall time, so before/after comparisons use them.

With ``--xsd-mb N`` an Oracle ship-confirm XML of about N MB (the shipped ``oracle-shipments`` mapping and its
XSD) is generated and measured instead: (a) raw ``xmlsafe.iterparse`` over it, freeing each line, counting
lines; (x) ``xsd``: the streaming validation against the XSD (gateway/kinds/erp/xsd.py, xmlschema).

Usage: python bench/bench_erp.py [--sizes 50000 500000] [--no-e2e] [--xsd-mb 500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = "Material;Materialkurztext;Materialart;Basismengeneinheit;Zolltarifnummer;Zolleinheit;Umrechnungsfaktor;" \
         "Ursprungsland"
TYPES = ("ROH", "HALB", "FERT", "VERP", "ZANL")
UNITS = ("ST", "KG", "M", "L")
COUNTRIES = ("DE", "US", "MX", "CN", "JP")
#: fracción + NICO codes in force (the mapping checks them against the tariff)
TARIFF = ("7408.19.99.00", "8538.90.99.99", "8536.90.99.99", "3926.90.99.99", "8544.30.99.99", "4819.10.01.00",
          "3917.32.91.00", "8463.90.99.00")


def generate(path: Path, rows: int) -> None:
    with open(path, "w", encoding="cp1252", newline="") as out:
        out.write(HEADER + "\r\n")
        for i in range(rows):
            out.write(f"RM-{i:07d};Kabelbaum Tür „Typ {i % 97}“ Ø {i % 13} mm;{TYPES[i % 5]};{UNITS[i % 4]};"
                      f"{TARIFF[i % 8]};{UNITS[(i + 1) % 4]};"
                      f"{i % 1000 + 1},{i % 997:03d};{COUNTRIES[i % 5]};\r\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def generate_xml(path: Path, megabytes: int) -> int:
    """An Oracle ship-confirm report of about ``megabytes`` MB (10 lines per delivery); returns the lines."""
    target, lines, delivery = megabytes * 1_000_000, 0, 0
    with open(path, "w", encoding="iso-8859-1") as out:
        out.write('<?xml version="1.0" encoding="ISO-8859-1"?>\n<XXIMX_SHIP_CONFIRM>\n'
                  "  <P_ORGANIZATION_CODE>MTY</P_ORGANIZATION_CODE>\n  <LIST_G_DELIVERY>\n")
        while out.tell() < target:
            delivery += 1
            out.write(f"    <G_DELIVERY>\n      <DELIVERY_NAME>{4400000 + delivery}</DELIVERY_NAME>\n"
                      f"      <CONFIRM_DATE>{delivery % 28 + 1:02d}-NOV-26</CONFIRM_DATE>\n"
                      "      <CUSTOMER_NUMBER>1042</CUSTOMER_NUMBER>\n"
                      "      <CUSTOMER_NAME>Acme Automotive Inc.</CUSTOMER_NAME>\n"
                      f"      <TRX_NUMBER>A-{delivery}</TRX_NUMBER>\n      <LIST_G_LINE>\n")
            for i in range(10):
                lines += 1
                out.write(f"        <G_LINE><ITEM_NUMBER>FG-{lines % 5000:05d}</ITEM_NUMBER>"
                          f"<SHIPPED_QUANTITY>{i + 1}</SHIPPED_QUANTITY><UOM_CODE>Ea</UOM_CODE>"
                          f"<LOT_NUMBER>L-{delivery}-{i}</LOT_NUMBER></G_LINE>\n")
            out.write("      </LIST_G_LINE>\n    </G_DELIVERY>\n")
        out.write("  </LIST_G_DELIVERY>\n</XXIMX_SHIP_CONFIRM>\n")
    return lines


def xsd_worker(mode: str, path: Path, rows: int) -> dict:
    from gateway import xmlsafe
    from gateway.kinds.erp.readers import _free

    floor = _peak_mb()
    start, cpu = time.perf_counter(), _cpu()
    with open(path, "rb") as stream:
        if mode == "xraw":
            count = 0
            for _event, element in xmlsafe.iterparse(stream, events=("end",)):
                if element.tag == "G_LINE":
                    count += 1
                    _free(element)
                elif element.tag == "G_DELIVERY":
                    _free(element)
        else:
            from gateway.kinds.erp import xsd
            from gateway.kinds.erp.mapping import load

            mapping = load(ROOT / "mappings" / "oracle-shipments.toml")
            findings = xsd.validate(mapping.source.xsd, mapping.source.records, {}, stream)
            if findings:
                raise SystemExit(f"xsd run not clean: {findings[:3]}")
            count = rows
    return {"mode": mode, "rows": count, "seconds": time.perf_counter() - start, "cpu": _cpu() - cpu,
            "peak_mb": _peak_mb(), "floor_mb": floor}


def worker(mode: str, path: Path, rows: int) -> dict:
    """One measurement in this (fresh) process."""
    if mode in ("xraw", "xsd"):
        return xsd_worker(mode, path, rows)
    cpu = _cpu()
    if mode == "raw":
        import csv

        floor = _peak_mb()
        start = time.perf_counter()
        with open(path, encoding="cp1252", newline="") as handle:
            count = sum(1 for _ in csv.reader(handle, delimiter=";")) - 1
        seconds = time.perf_counter() - start
    elif mode == "mapping":
        from gateway.kinds.erp import export_kind, mapping_dirs

        kind = export_kind("erp:sap-materials", mapping_dirs(None))
        floor = _peak_mb()
        start = time.perf_counter()
        result = kind.check_file(path)
        chunks = sum(1 for _ in result.parts)
        seconds = time.perf_counter() - start
        count = result.record["forwarded_rows"]
        if not result.ok or count != rows:
            raise SystemExit(f"mapping run not clean: {result.findings[:3]} rows={count} chunks={chunks}")
    elif mode == "e2e":
        return e2e(path, rows)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return {"mode": mode, "rows": count, "seconds": seconds, "cpu": _cpu() - cpu, "peak_mb": _peak_mb(),
            "floor_mb": floor}


def e2e(path: Path, rows: int) -> dict:
    """Run the gateway as this worker's only child, so that RUSAGE_CHILDREN's peak is the gateway's."""
    workspace = path.parent / f"ws-{rows}"
    (workspace / "inbox").mkdir(parents=True)
    (workspace / "gateway.toml").write_text(f"""
[gateway]
data_dir = "var"
[validation]
max_file_size = "1GB"
[logging]
level = "warning"
format = "json"
[erp]
mapping_dirs = ["{ROOT / 'mappings'}"]
[[source]]
name = "sap"
type = "folder"
path = "inbox"
kind = "erp:sap-materials"
stable_time = "0s"
[[sink]]
name = "inventory"
type = "folder"
path = "outbox"
""", encoding="utf-8")
    os.link(path, workspace / "inbox" / path.name)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "-c", str(workspace / "gateway.toml")],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu = _cpu(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"run --once failed: {proc.stderr[-2000:]}")
    forwarded = sum(len(json.loads(p.read_text())["record"]["rows"])
                    for p in (workspace / "outbox" / "erp.materials").glob("*.json"))
    if forwarded != rows:
        raise SystemExit(f"e2e forwarded {forwarded} rows of {rows}")
    return {"mode": "e2e", "rows": forwarded, "seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024,
            "floor_mb": None}


def measure(mode: str, path: Path, rows: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", mode, str(path), str(rows)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[50_000, 500_000])
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument("--xsd-mb", nargs="+", type=int, help="measure the XSD validation of XML exports this big")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "FILE", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, file, rows = args.worker
        print(json.dumps(worker(mode, Path(file), int(rows))))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-erp-") as tmp_name:
        tmp = Path(tmp_name)
        for megabytes in sorted(args.xsd_mb or ()):
            path = tmp / f"WSHSHIP_{megabytes}MB.xml"
            lines = generate_xml(path, megabytes)
            for mode in ("xraw", "xsd"):
                results.append(measure(mode, path, lines) | {"size": lines, "file_mb": path.stat().st_size / 1e6})
            path.unlink()
        for rows in sorted(args.sizes if not args.xsd_mb else ()):
            path = tmp / f"MARA_{rows}.csv"
            generate(path, rows)
            size_mb = path.stat().st_size / 1e6
            for mode in ("raw", "mapping") if args.no_e2e else ("raw", "mapping", "e2e"):
                results.append(measure(mode, path, rows) | {"size": rows, "file_mb": size_mb})
            path.unlink()
    print(f"{'rows':>9} {'file MB':>8} {'mode':>8} {'seconds':>8} {'CPU s':>8} {'rows/s':>9} {'peak RSS MB':>12} "
          f"{'vs raw':>7}")
    raw_rate = {}
    for r in results:
        rate = r["rows"] / r["seconds"]
        if r["mode"] in ("raw", "xraw"):
            raw_rate[r["size"]] = rate
        ratio = rate / raw_rate[r["size"]]
        print(f"{r['size']:>9,} {r['file_mb']:>8.1f} {r['mode']:>8} {r['seconds']:>8.2f} {r['cpu']:>8.2f} "
              f"{rate:>9,.0f} {r['peak_mb']:>12.1f} {ratio:>7.3f}")
    sizes = sorted({r["size"] for r in results})
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for mode in ("raw", "mapping", "e2e", "xraw", "xsd"):
            peaks = {r["size"]: r["peak_mb"] for r in results if r["mode"] == mode}
            if small in peaks and large in peaks:
                print(f"peak RSS {mode}: {large:,} rows / {small:,} rows = {peaks[large] / peaks[small]:.2f}")


if __name__ == "__main__":
    main()
