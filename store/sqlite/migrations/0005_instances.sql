-- The processes using this file for webhook dedup (see presence.go): a
-- process alone keeps its claims in memory; several share wxkit_dedup.
CREATE TABLE wxkit_instances (
	id           TEXT PRIMARY KEY,
	host         TEXT NOT NULL DEFAULT '',
	pid          INTEGER NOT NULL DEFAULT 0,
	started_at   INTEGER NOT NULL, -- Unix ms
	heartbeat_at INTEGER NOT NULL, -- Unix ms
	shared       INTEGER NOT NULL DEFAULT 0 -- 1: claims go to wxkit_dedup
);
