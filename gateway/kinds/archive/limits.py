"""How far a ZIP of documents may expand before the gateway refuses it: a view of ``[limits]``.

The keys live in ``[limits]`` (``max_container_*`` and the shared ``max_compression_ratio``; gateway/limits.py
owns them, with the limits of a single document's own ZIP, so one table says what any input may expand to).
Every limit is checked while the entries stream (never after the fact), so a bomb costs at most one limit's
worth of reading. The defaults take a SAT bulk download (up to 200,000 invoices) and a broker's expediente;
a file past a limit is refused with ``ARCHIVE-UNSAFE`` naming the limit and its key.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway import limits


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int = limits.DEFAULTS.max_container_entries
    max_entry_size: int = limits.DEFAULTS.max_container_entry_size
    max_total_size: int = limits.DEFAULTS.max_container_size
    max_ratio: int = limits.DEFAULTS.max_compression_ratio  # checked past 1 MiB expanded
    max_depth: int = limits.DEFAULTS.max_container_depth

    @classmethod
    def from_limits(cls, configured: limits.Limits) -> ArchiveLimits:
        return cls(configured.max_container_entries, configured.max_container_entry_size,
                   configured.max_container_size, configured.max_compression_ratio, configured.max_container_depth)

