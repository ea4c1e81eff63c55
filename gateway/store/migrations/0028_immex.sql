-- IMMEX clocks and discharges (gateway/immex.py): each temporary-import partida with its return deadline, each
-- discharge line (512) of a return, transfer or regime change, keyed by the discharging document so a retry
-- rewrites its own rows and never counts twice, and the discharges waiting for their original to arrive.
CREATE TABLE immex_imports (
    document_id   TEXT NOT NULL REFERENCES documents(id),
    partida       INTEGER NOT NULL,          -- position of the partida in the pedimento (1..n)
    pedimento_key TEXT NOT NULL,             -- business key: year-aduana_seccion-patente-pedimento
    corrects_key  TEXT,                      -- a rectification (R1): the key whose clock it supersedes
    printed       TEXT,                      -- the pedimento number as printed
    clave         TEXT,
    fraccion      TEXT,
    description   TEXT,
    umt           TEXT,
    quantity      TEXT,                      -- UMT quantity (551.13), decimal string
    start_date    TEXT,
    deadline      TEXT,                      -- NULL when it could not be computed (IMMEX-CLOCK)
    basis         TEXT NOT NULL,
    PRIMARY KEY (document_id, partida)
);
CREATE INDEX immex_imports_key ON immex_imports (pedimento_key);
CREATE INDEX immex_imports_corrects ON immex_imports (corrects_key);
CREATE INDEX immex_imports_deadline ON immex_imports (deadline);

CREATE TABLE immex_discharges (
    document_id   TEXT NOT NULL REFERENCES documents(id),
    line          INTEGER NOT NULL,          -- the n-th 512 of the discharging pedimento
    discharge_key TEXT NOT NULL,             -- business key of the discharging pedimento: a resend counts once
    corrects_key  TEXT,                      -- the discharging pedimento is a rectification of this key
    original_key  TEXT NOT NULL,             -- business key of the original (or its last rectification) named
    fraccion      TEXT,
    unit          TEXT,
    quantity      TEXT,                      -- 512 cantidad descargada (UMT), decimal string
    discharged_on TEXT,                      -- date of the discharging pedimento
    PRIMARY KEY (document_id, line)
);
CREATE INDEX immex_discharges_original ON immex_discharges (original_key);

CREATE TABLE immex_waits (                   -- discharges in state pending until their originals arrive
    document_id TEXT PRIMARY KEY REFERENCES documents(id),
    since       TEXT NOT NULL                -- correlation_timeout counts from here
);
