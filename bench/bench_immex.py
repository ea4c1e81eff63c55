#!/usr/bin/env python
"""IMMEX clocks and discharges: what recording, linking and checking them costs in the pipeline.

  (a) raw: temporary imports (IN, 5 partidas each) and returns (RT, each discharging 2 partidas of 2 imports)
      through the pipeline (archive, row, validate, normalise, ready) with the IMMEX step switched off: the baseline
  (b) with the IMMEX step: clock rows, discharge rows, links both ways, waits and wake-ups, the four checks
  (c) deadlines.due over the store of (b): the query behind `deadlines`, the web panel and /metrics

Imports and returns arrive shuffled, so about half of the returns wait for an original and are woken by it.
Single process, SQLite with synchronous=FULL, the same code path as `run` minus the folder source and the sink.
Usage: python bench/bench_immex.py [--imports 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway import deadlines, immex, intake, logs, pipeline  # noqa: E402
from gateway.app import Gateway  # noqa: E402
from gateway.config import load  # noqa: E402
from gateway.demo.generate import pedimento as gen  # noqa: E402
from gateway.store.base import now  # noqa: E402

CONFIG = """
[gateway]
data_dir = "var"
company_rfc = "EKU9003173C9"
immex_program = "1234-2006"
[correlation]
wait_for = []
[immex]
program_valid_until = "2031-06-30"
[logging]
level = "warning"
format = "json"
"""


def build(imports: int, seed: int) -> list[tuple[str, bytes]]:
    rnd = random.Random(seed)
    originals = [gen.sample_pedimento(seq, 5, payment_date=date(2026, 1, 5) + timedelta(days=seq % 200))
                 for seq in range(1, imports + 1)]
    files = [(gen.file_name("3456", 1) + f"-{p.number}", gen.mfile([p])[1]) for p in originals]
    for seq in range(1, imports + 1):
        rt = gen.sample_pedimento(500000 + seq, 1, clave="RT", operation_type="2", payment_date=date(2026, 9, 1))
        lines = []
        for o in rnd.sample(originals, 2):
            part = o.partidas[rnd.randrange(len(o.partidas))]
            lines.append(f"512|{rt.number}|{o.patente}|{o.number}|{o.aduana}|IN|{o.payment_date:%Y%m%d}|"
                         f"{part.fraccion}|{part.umt}|{Decimal(1)}")
        rt.extra_records = lines
        files.append((gen.file_name("3456", 2) + f"-{rt.number}", gen.mfile([rt])[1]))
    rnd.shuffle(files)
    return files


def run(files: list[tuple[str, bytes]], with_immex: bool) -> tuple[float, int, float]:
    original = immex.on_normalised
    if not with_immex:
        immex.on_normalised = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "gateway.toml"
            config.write_text(CONFIG, encoding="utf-8")
            gw = Gateway(load(config), actor="bench")
            try:
                started = time.perf_counter()
                processed = 0
                for name, data in files:
                    sha256, size = gw.archive.put_bytes(data)
                    with gw.store.transaction():
                        document_id = intake.record(gw, "bench", name, sha256, size, "auto")
                        gw.store.update_fields(document_id, source_acked_at=now())
                    processed += pipeline.process_pending(gw)
                elapsed = time.perf_counter() - started
                states = gw.store.counts_by_state()
                assert states.get("pending", 0) == 0 and not states.get("rejected"), states
                query = 0.0
                if with_immex:
                    start = time.perf_counter()
                    rows = deadlines.due(gw.store, date(2027, 7, 1), 3650)
                    query = time.perf_counter() - start
                    assert rows, "every import should still have partidas to return"
                return elapsed, processed, query
            finally:
                gw.close()
    finally:
        immex.on_normalised = original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--imports", type=int, default=200)
    parser.add_argument("--seed", type=int, default=28)
    args = parser.parse_args()
    logs.configure("warning", "json")
    files = build(args.imports, args.seed)
    raw_s, raw_n, _ = run(files, with_immex=False)
    on_s, on_n, query_s = run(files, with_immex=True)
    print(f"{args.imports} imports × 5 partidas, {args.imports} returns × 2 discharges, shuffled "
          f"({len(files)} files, {on_n} documents processed)")
    print(f"(a) raw pipeline, IMMEX step off : {raw_s:7.2f} s  {raw_n / raw_s:7.1f} docs/s")
    print(f"(b) with the IMMEX step          : {on_s:7.2f} s  {on_n / on_s:7.1f} docs/s  ratio b/a "
          f"{(on_n / on_s) / (raw_n / raw_s):.2f}")
    print(f"(c) deadlines.due over (b)       : {query_s * 1000:7.1f} ms for {args.imports * 5} partidas")


if __name__ == "__main__":
    main()
