-- 0001_init: logins (users, sessions, OAuth states) and the ephemeral kinds
-- that instances share (tokens and their locks, webhook dedup keys).
-- Times are timestamptz, compared with the caller's clock, never now().

CREATE TABLE wxkit_users (
    appid      text        NOT NULL,
    openid     text        NOT NULL,
    unionid    text        NOT NULL DEFAULT '',
    nickname   text        NOT NULL DEFAULT '',
    headimgurl text        NOT NULL DEFAULT '',
    sex        integer     NOT NULL DEFAULT 0,
    city       text        NOT NULL DEFAULT '',
    province   text        NOT NULL DEFAULT '',
    country    text        NOT NULL DEFAULT '',
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    PRIMARY KEY (appid, openid)
);
CREATE INDEX wxkit_users_unionid ON wxkit_users (unionid) WHERE unionid <> '';

-- A session is keyed by the hex SHA-256 of its id, never the id itself.
CREATE TABLE wxkit_sessions (
    id_hash    text        PRIMARY KEY,
    appid      text        NOT NULL,
    openid     text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    user_json  jsonb
);
CREATE INDEX wxkit_sessions_expires ON wxkit_sessions (expires_at);

CREATE TABLE wxkit_oauth_states (
    nonce      text        PRIMARY KEY,
    data       text        NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX wxkit_oauth_states_expires ON wxkit_oauth_states (expires_at);

-- expires_at NULL: the token never expires.
CREATE TABLE wxkit_tokens (
    key        text        PRIMARY KEY,
    value      text        NOT NULL,
    expires_at timestamptz
);
CREATE INDEX wxkit_tokens_expires ON wxkit_tokens (expires_at);

CREATE TABLE wxkit_token_locks (
    key        text        PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX wxkit_token_locks_expires ON wxkit_token_locks (expires_at);

-- done false: pending (a lease until expires_at); true: completed, reply
-- kept until expires_at.
CREATE TABLE wxkit_dedup (
    key        text        PRIMARY KEY,
    done       boolean     NOT NULL,
    reply      bytea,
    expires_at timestamptz NOT NULL
);
CREATE INDEX wxkit_dedup_expires ON wxkit_dedup (expires_at);
