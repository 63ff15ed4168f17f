-- The outbox (store.Outbox): jobs kept until a drainer completes them.
-- Times are Unix milliseconds, 0 for none.
CREATE TABLE wxkit_outbox (
	id         INTEGER PRIMARY KEY,
	kind       TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	payload    BLOB    NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	run_at     INTEGER NOT NULL, -- due at; a claim moves it to the lease's end
	not_after  INTEGER NOT NULL DEFAULT 0,
	last_error TEXT    NOT NULL DEFAULT '',
	dead       INTEGER NOT NULL DEFAULT 0, -- 1: given up, never claimed again
	created_at INTEGER NOT NULL,
	UNIQUE (kind, key)
);
-- ClaimJobs: the due live jobs of a kind, oldest run_at first.
CREATE INDEX wxkit_outbox_due ON wxkit_outbox (kind, run_at) WHERE dead = 0;
-- DeadJobs.
CREATE INDEX wxkit_outbox_dead ON wxkit_outbox (kind, id) WHERE dead = 1;
