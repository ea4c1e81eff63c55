-- SAT catalog sets imported with `immex-gateway catalogs import` (gateway/kinds/satcatalogs/shared.py): the whole
-- set file (SQLite) as one value, so that every node of a shared store installs the same set in its own
-- catalogs_dir. The newest row is the set in force; older rows are deleted when a new one is published.
CREATE TABLE sat_catalog_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BLOB NOT NULL,
    published_at TEXT NOT NULL,
    node TEXT NOT NULL
);
