-- Health of each source and sink, shared by every process on the store (run, serve): /healthz reads it.
CREATE TABLE component_health (
    component            TEXT NOT NULL,          -- source | sink
    name                 TEXT NOT NULL,
    healthy              INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_ok_at           TEXT,
    last_failure_at      TEXT,
    last_error           TEXT,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (component, name)
);
