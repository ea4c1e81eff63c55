"""The imported catalog set: one SQLite file in the catalogs folder, replaced whole and atomically.

``write`` builds the complete new set in a temporary file beside the current one, fsyncs it, renames it over
``imported.sqlite`` and fsyncs the folder: a reader sees the old set or the new one, never a mix, and a crash
or a refused file leaves the old set in force (the temporary file is removed by the next import). Readers
keep the file they opened (POSIX keeps a renamed-over file's inode alive), and ``ImportedSet.current`` notices
a newer file by its inode and modification time, so a running node takes an import without a restart. Several
nodes see the same set when ``[validation] catalogs_dir`` is a folder they all mount (docs/catalogs.md).

The Anexo 22 appendices the pedimento checks read travel in the same file, in tables of their own
(``appendices``, ``appendix_values``): a node of an earlier release reads the CFDI catalogs of a newer file as
before, and a file without those tables simply holds no appendix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway import faults, logs
from gateway.archive import fsync_dir
from gateway.kinds.satcatalogs.appendices import Appendix
from gateway.kinds.satcatalogs.parse import Entry, ParsedCatalog

log = logs.get("gateway.catalogs")

FILE_NAME = "imported.sqlite"
#: CFDI 4.0 exists since this day: an entry in force from then on or earlier constrains no CFDI 4.0
CFDI40_START = dt.date(2022, 1, 1)
_RECHECK = 2.0  # seconds between looks at the file for a newer import

_SCHEMA = """
CREATE TABLE catalogs (name TEXT PRIMARY KEY, file TEXT NOT NULL, version TEXT NOT NULL, published TEXT NOT NULL,
                       imported_at TEXT NOT NULL, rows INTEGER NOT NULL);
CREATE TABLE entries (catalog TEXT NOT NULL, key TEXT NOT NULL, key2 TEXT NOT NULL, start TEXT, end_ TEXT,
                      data TEXT, PRIMARY KEY (catalog, key, key2)) WITHOUT ROWID;
CREATE TABLE appendices (name TEXT PRIMARY KEY, file TEXT NOT NULL, title TEXT NOT NULL, appendix TEXT NOT NULL,
                         valid_from TEXT NOT NULL, published TEXT NOT NULL, version TEXT NOT NULL,
                         source TEXT NOT NULL, complete INTEGER NOT NULL, imported_at TEXT NOT NULL,
                         rows INTEGER NOT NULL);
CREATE TABLE appendix_values (name TEXT NOT NULL, key TEXT NOT NULL, description TEXT NOT NULL,
                              PRIMARY KEY (name, key)) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Meta:
    """What ``catalogs info`` shows of an imported catalog."""

    name: str
    file: str
    version: str
    published: dt.date
    imported_at: str
    rows: int


class ImportedSet:
    """Read access to one imported set: the file as it was when opened, through one connection behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stat = path.stat()
        self.identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        # one connection, opened now and kept: a later import renames a new file over the name while this set
        # stays readable as it was; lookups are single-row reads, serialised by a lock across threads
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self.meta = {row[0]: Meta(row[0], row[1], row[2], dt.date.fromisoformat(row[3]), row[4], row[5])
                     for row in self._query("SELECT name, file, version, published, imported_at, rows FROM catalogs")}
        #: the Anexo 22 appendices of the set, read whole now (a few hundred keys each): name -> (appendix, when)
        self.appendices = self._appendices()

    def _appendices(self) -> dict[str, tuple[Appendix, str]]:
        if not self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'appendices'"):
            return {}  # a set written before appendices were imported
        values: dict[str, dict[str, str]] = {}
        for name, key, text in self._query("SELECT name, key, description FROM appendix_values ORDER BY name, key"):
            values.setdefault(name, {})[key] = text
        return {row[0]: (Appendix(row[0], row[2], row[3], dt.date.fromisoformat(row[4]), dt.date.fromisoformat(row[5]),
                                  row[6], row[7], bool(row[8]), values.get(row[0], {}), row[1]), row[9])
                for row in self._query("SELECT name, file, title, appendix, valid_from, published, version, source, "
                                       "complete, imported_at FROM appendices")}

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def __contains__(self, catalog: object) -> bool:
        return catalog in self.meta

    def rows(self, catalog: str) -> list[tuple[tuple[str, ...], dict[str, str]]]:
        """Every entry of a catalog: (key columns, other columns)."""
        return [((k, k2) if k2 else (k,), json.loads(d) if d else {})
                for k, k2, d in self._query("SELECT key, key2, data FROM entries WHERE catalog = ?", (catalog,))]

    def get(self, catalog: str, key: str, key2: str = "") -> dict[str, str] | None:
        rows = self._query("SELECT data FROM entries WHERE catalog = ? AND key = ? AND key2 = ?", (catalog, key, key2))
        return None if not rows else (json.loads(rows[0][0]) if rows[0][0] else {})

    def bounded(self, catalog: str) -> dict[str, tuple[dt.date | None, dt.date | None]]:
        """Keys whose validity can matter to a CFDI 4.0: in force from after its start, or ended."""
        return {k: (dt.date.fromisoformat(s) if s else None, dt.date.fromisoformat(e) if e else None)
                for k, s, e in self._query(
                    "SELECT key, start, end_ FROM entries WHERE catalog = ? AND key2 = '' AND "
                    "(end_ IS NOT NULL OR start > ?)", (catalog, CFDI40_START.isoformat()))}

    def entries(self, catalog: str) -> dict[tuple[str, ...], Entry]:
        """A catalog's entries as parsed, to carry them into the next set."""
        out: dict[tuple[str, ...], Entry] = {}
        for k, k2, s, e, d in self._query(
                "SELECT key, key2, start, end_, data FROM entries WHERE catalog = ?", (catalog,)):
            out[(k, k2) if k2 else (k,)] = Entry(dt.date.fromisoformat(s) if s else None,
                                                 dt.date.fromisoformat(e) if e else None,
                                                 json.loads(d) if d else {})
        return out


_cache: dict[Path, tuple[float, ImportedSet | None]] = {}
_cache_lock = threading.Lock()


def current(directory: Path | None) -> ImportedSet | None:
    """The set in force in ``directory`` (None: nothing imported), looked at again at most every two seconds.

    Called once per document: between looks it costs a dict lookup and a clock read (no path arithmetic)."""
    if directory is None:
        return None
    now = time.monotonic()
    seen = _cache.get(directory)
    if seen is not None and now - seen[0] < _RECHECK:
        return seen[1]
    with _cache_lock:
        path = directory / FILE_NAME
        try:
            stat = path.stat()
        except FileNotFoundError:
            found = None
        else:
            identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            old = seen[1] if seen else None
            found = old if old is not None and old.identity == identity else _open(path)
        _cache[directory] = (now, found)
        return found


def _open(path: Path) -> ImportedSet | None:
    """The set at ``path``; None (the wheel's catalogs, said loudly in the log) when the file cannot be read."""
    try:
        return ImportedSet(path)
    except (sqlite3.Error, OSError, ValueError) as exc:
        log.error("imported catalogs unreadable; the wheel's are used until the next import", path=str(path),
                  error=str(exc))
        return None


def write(directory: Path, catalogs: list[ParsedCatalog], kept: ImportedSet | None,
          before_rename: Callable[[Path], None] | None = None, appendices: list[Appendix] | None = None) -> Path:
    """A new set made of ``catalogs`` and ``appendices`` plus every catalog and appendix of ``kept`` they do not
    replace; atomic (see above).

    ``before_rename`` gets the complete, fsynced file first (``shared.publisher`` puts it in the store)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(".imported-*.tmp"):
        stale.unlink(missing_ok=True)  # an import that died before its rename
    temp = directory / f".imported-{os.getpid()}.tmp"
    final = directory / FILE_NAME
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    connection = sqlite3.connect(temp)
    try:
        connection.executescript(_SCHEMA)
        replaced = {c.name for c in catalogs}
        carried = [(kept.meta[name], kept.entries(name)) for name in sorted(kept.meta) if name not in replaced] \
            if kept else []
        for meta, entries in carried:
            _insert(connection, meta.name, meta.file, meta.version, meta.published, meta.imported_at, entries)
        for catalog in catalogs:
            _insert(connection, catalog.name, catalog.file, catalog.version, catalog.published, now, catalog.entries)
        new = {a.name for a in appendices or ()}
        for appendix, when in (kept.appendices.values() if kept else ()):
            if appendix.name not in new:
                _insert_appendix(connection, appendix, when)
        for appendix in appendices or ():
            _insert_appendix(connection, appendix, now)
        connection.commit()
    finally:
        connection.close()
    with temp.open("rb+") as handle:
        os.fsync(handle.fileno())
    faults.crash_point("catalogs.before-commit")
    if before_rename is not None:
        before_rename(temp)
    os.replace(temp, final)
    fsync_dir(directory)
    forget(directory)
    return final


def forget(directory: Path) -> None:
    """Look at ``directory`` again on the next ``current`` call (a set was installed there by this process)."""
    with _cache_lock:
        _cache.pop(directory, None)


def _insert(connection: sqlite3.Connection, name: str, file: str, version: str, published: dt.date,
            imported_at: str, entries: dict[tuple[str, ...], Entry]) -> None:
    connection.execute("INSERT INTO catalogs VALUES (?, ?, ?, ?, ?, ?)",
                       (name, file, version, published.isoformat(), imported_at, len(entries)))
    connection.executemany(
        "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)",
        ((name, key[0], key[1] if len(key) > 1 else "", _iso(e.start), _iso(e.end),
          json.dumps(e.values, ensure_ascii=False) if e.values else None) for key, e in entries.items()))


def _insert_appendix(connection: sqlite3.Connection, appendix: Appendix, imported_at: str) -> None:
    a = appendix
    connection.execute("INSERT INTO appendices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (a.name, a.file, a.title, a.appendix, a.valid_from.isoformat(), a.published.isoformat(),
                        a.version, a.source, int(a.complete), imported_at, len(a.values)))
    connection.executemany("INSERT INTO appendix_values VALUES (?, ?, ?)",
                           ((a.name, key, text) for key, text in a.values.items()))


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def describe(meta: Meta, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    return {"source": f"importado / imported: {meta.file}", "imported": True, "version": meta.version,
            "published": meta.published.isoformat(), "rows": meta.rows, "age_days": (today - meta.published).days,
            "imported_at": meta.imported_at}
