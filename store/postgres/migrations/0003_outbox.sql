-- 0003_outbox: jobs that must be done at least once, drained by any instance.

CREATE TABLE wxkit_outbox (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    bytea,
    attempts   integer     NOT NULL DEFAULT 0,
    not_after  timestamptz,            -- NULL: never given up
    run_at     timestamptz NOT NULL,   -- due time, or end of the claim's lease
    last_error text        NOT NULL DEFAULT '',
    dead       boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    UNIQUE (kind, key)
);
CREATE INDEX wxkit_outbox_due ON wxkit_outbox (kind, run_at, id) WHERE NOT dead;
CREATE INDEX wxkit_outbox_dead ON wxkit_outbox (kind, id DESC) WHERE dead;
