"""``python -m gateway.kinds.erp [FOLDER]``: rewrite the published canonical ERP schemas (default docs/schema)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gateway.kinds.erp.targets import TARGETS, json_schema

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")
for name in TARGETS:
    text = json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"
    (folder / f"{name}.schema.json").write_text(text, encoding="utf-8")
    print(folder / f"{name}.schema.json")
