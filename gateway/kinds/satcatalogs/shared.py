"""Every node sees the same imported catalogs: the set travels through the store, each node installs it locally.

``catalogs import`` publishes the complete set file in the store (migration 0063, table ``sat_catalog_sets``)
before it installs it in its own ``catalogs_dir``; every node (``run`` on each pass, ``serve`` in its background
thread, ``catalogs info``) compares the newest published set with the one installed in its folder and, when they
differ, installs the store's the same atomic way (temporary file, fsync, rename). The store is the source of
truth, so a node that was down during an import, or a node added later, catches up on its next pass; a node's
own ``catalogs_dir`` is never shared and needs no shared mount. One SELECT of two columns per pass when nothing
changed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol

from gateway import logs
from gateway.archive import fsync_dir
from gateway.kinds.satcatalogs import imported

log = logs.get("gateway.catalogs")


class CatalogSetStore(Protocol):
    def publish_catalog_set(self, sha256: str, data: bytes, node: str) -> int: ...
    def latest_catalog_set(self) -> tuple[int, str] | None: ...
    def catalog_set_data(self, set_id: int) -> bytes | None: ...


_installed: dict[Path, tuple[tuple[int, int, int], str]] = {}  # file -> (identity, sha256), to hash a file once
_lock = threading.Lock()


def local_sha256(directory: Path) -> str | None:
    path = directory / imported.FILE_NAME
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _lock:
        known = _installed.get(path)
        if known is not None and known[0] == identity:
            return known[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with _lock:
        _installed[path] = (identity, digest)
    return digest


def publisher(store: CatalogSetStore, node: str):  # noqa: ANN201 - the callback imported.write takes
    """The callback that puts a complete new set in the store before this node installs it."""
    def publish(temp: Path) -> None:
        data = temp.read_bytes()
        store.publish_catalog_set(hashlib.sha256(data).hexdigest(), data, node)
    return publish


def sync(store: CatalogSetStore, directory: Path) -> bool:
    """Install the store's newest set in ``directory`` when it is not the one there; True when installed."""
    latest = store.latest_catalog_set()
    if latest is None or latest[1] == local_sha256(directory):
        return False
    data = store.catalog_set_data(latest[0])
    if data is None or hashlib.sha256(data).hexdigest() != latest[1]:
        return False  # replaced meanwhile: the next pass takes the newer one
    install(directory, data)
    log.info("catalogs installed from the store", set_id=latest[0], sha256=latest[1][:12])
    return True


def install(directory: Path, data: bytes) -> None:
    """``data`` as the set in force in ``directory``: temporary file, fsync, rename, fsync of the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".imported-{os.getpid()}-{threading.get_ident()}.tmp"
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, directory / imported.FILE_NAME)
    fsync_dir(directory)
    imported.forget(directory)
