-- Baseline: the tables and indexes that wxkit's SQLite stores created for
-- themselves (CREATE ... IF NOT EXISTS in each store's constructor) before
-- the schema was versioned. IF NOT EXISTS lets this migration adopt a file
-- written by such a release as well as create a fresh one. Times are Unix
-- milliseconds.

-- token.Store: tokens and their refresh leases.
CREATE TABLE IF NOT EXISTS wxkit_tokens (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	expires_at INTEGER NOT NULL -- Unix ms, 0 = never
);
CREATE TABLE IF NOT EXISTS wxkit_token_locks (
	key        TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at INTEGER NOT NULL -- Unix ms
);

-- webhook.DedupStore.
CREATE TABLE IF NOT EXISTS wxkit_dedup (
	key        TEXT PRIMARY KEY,
	done       INTEGER NOT NULL, -- 0 pending, 1 done
	reply      BLOB,
	expires_at INTEGER NOT NULL -- Unix ms
);
CREATE INDEX IF NOT EXISTS wxkit_dedup_expires ON wxkit_dedup (expires_at);

-- Users of web login, one row per (appid, openid).
CREATE TABLE IF NOT EXISTS wxkit_users (
	appid      TEXT NOT NULL,
	openid     TEXT NOT NULL,
	unionid    TEXT NOT NULL DEFAULT '',
	nickname   TEXT NOT NULL DEFAULT '',
	headimgurl TEXT NOT NULL DEFAULT '',
	sex        INTEGER NOT NULL DEFAULT 0,
	city       TEXT NOT NULL DEFAULT '',
	province   TEXT NOT NULL DEFAULT '',
	country    TEXT NOT NULL DEFAULT '',
	first_seen INTEGER NOT NULL, -- Unix ms
	last_seen  INTEGER NOT NULL, -- Unix ms
	PRIMARY KEY (appid, openid)
);
CREATE INDEX IF NOT EXISTS wxkit_users_unionid ON wxkit_users (unionid) WHERE unionid <> '';

-- Login sessions, keyed by the hex SHA-256 of the session id.
CREATE TABLE IF NOT EXISTS wxkit_sessions (
	id_hash    TEXT PRIMARY KEY, -- hex SHA-256 of the session id
	appid      TEXT NOT NULL,
	openid     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wxkit_sessions_expires ON wxkit_sessions (expires_at);

-- OAuth login state nonces.
CREATE TABLE IF NOT EXISTS wxkit_oauth_states (
	nonce      TEXT PRIMARY KEY,
	data       TEXT NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wxkit_oauth_states_expires ON wxkit_oauth_states (expires_at);

-- The log of accepted pushes, which doubles as a durable dedup store.
CREATE TABLE IF NOT EXISTS wxkit_message_log (
	id          INTEGER PRIMARY KEY,
	app_id      TEXT    NOT NULL,
	dedup_key   TEXT    NOT NULL,
	state       INTEGER NOT NULL,           -- 1 pending, 2 done
	lease_until INTEGER NOT NULL DEFAULT 0, -- Unix ms, while pending
	received_at INTEGER NOT NULL,           -- Unix ms
	from_user   TEXT    NOT NULL DEFAULT '',
	to_user     TEXT    NOT NULL DEFAULT '',
	msg_type    TEXT    NOT NULL DEFAULT '',
	event       TEXT    NOT NULL DEFAULT '',
	msg_id      INTEGER NOT NULL DEFAULT 0,
	create_time INTEGER NOT NULL DEFAULT 0,
	request     BLOB,
	reply       BLOB,
	UNIQUE (app_id, dedup_key)
);
