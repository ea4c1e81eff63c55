"""The ``[archives]`` table: how far a ZIP may expand before the gateway refuses it.

Every limit is checked while the entries stream (never after the fact), so a bomb costs at most one limit's
worth of reading. The defaults take a SAT bulk download (up to 200,000 invoices) and a broker's expediente;
a file past a limit is refused with ``ARCHIVE-UNSAFE`` naming the limit and its key.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from gateway.config import ConfigError, parse_size


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = 200_000          # entries in one archive, nested ones included
    max_entry_size: int = 512 * 2**20   # expanded bytes of one entry
    max_total_size: int = 8 * 2**30     # expanded bytes of the whole archive, nested ones included
    max_ratio: int = 200                # expanded / compressed, per entry (checked past 1 MiB expanded)
    max_depth: int = 3                  # ZIP inside ZIP inside ZIP

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> ArchiveLimits:
        known = {f.name for f in fields(cls)}
        for key in table:
            if key not in known:
                raise ConfigError(f"archives.{key}: unknown key (known: {', '.join(sorted(known))})")
        values: dict[str, int] = {}
        for key, value in table.items():
            if key in ("max_entry_size", "max_total_size"):
                values[key] = parse_size(value, f"archives.{key}")
            elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
                values[key] = value
            else:
                raise ConfigError(f"archives.{key}: must be a whole number above zero")
        return cls(**values)
