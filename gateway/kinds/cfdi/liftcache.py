"""The catalogs lifted out of SAT's schemas, kept on disk between processes.

Why: reading SAT's catalog XSDs (8 MB, about 250,000 enumeration values) and rewriting them without their big
enumerations costs about half a second, which every process paid before its first CFDI: ``validate`` of a few
files, each worker of ``--workers``, each node. The result (the rewritten XSDs and the value sets) depends only
on those files, so it is kept in the user's cache folder and read back in a tenth of the time.

The key is every catalog file's path, size and modification time, ``ENUM_THRESHOLD`` and this module's format:
another satcfdi edition (or a file edited in place) is another key. The file is ``marshal`` data (strings, bytes,
tuples, frozensets; nothing that runs code when read). A folder that cannot be written, or a file that cannot be
read back, only means the work is done again: the cache never changes a verdict, only when it is paid.
``IMMEX_GATEWAY_CACHE=off`` turns it off; another value is the folder to use.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from pathlib import Path

from gateway import logs

log = logs.get("gateway.cfdi.liftcache")

_FORMAT = 1
_ENV = "IMMEX_GATEWAY_CACHE"

#: the rewritten catalog XSDs (resolved path -> bytes), the lifted sets ((namespace, type name) -> values) and
#: every enumerated catalog type ((namespace, type name): what an imported catalog may replace)
Lifted = tuple[dict[str, bytes], dict[tuple[str, str], frozenset[str]], frozenset[tuple[str, str]]]


def folder() -> Path | None:
    """Where the cache lives (None: switched off)."""
    configured = os.environ.get(_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "immex-gateway"


def key(files: list[Path], threshold: int) -> str:
    """What the lifted catalogs depend on: the catalog files as they are now, and the threshold."""
    digest = hashlib.sha256(f"{_FORMAT}|{threshold}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def load(name: str) -> Lifted | None:
    where = folder()
    if where is None:
        return None
    try:
        data = (where / f"lifted-{name}.marshal").read_bytes()
        stored_name, overrides, lifted, enumerated = marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if stored_name != name or not isinstance(overrides, dict) or not isinstance(lifted, dict) \
            or not isinstance(enumerated, frozenset):
        return None
    return overrides, lifted, enumerated


def save(name: str, value: Lifted) -> None:
    """Written to a temporary file and renamed: a reader sees the whole file or none."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".lifted-", delete=False) as tmp:
            tmp.write(marshal.dumps((name, *value)))
        os.replace(tmp.name, where / f"lifted-{name}.marshal")
    except OSError as exc:
        log.debug("lifted catalogs not cached", folder=str(where), error=str(exc))
        try:
            os.unlink(tmp.name)
        except (OSError, UnboundLocalError):
            pass
