-- 0002_message_log: the log of accepted pushes, one row per (appid, dedup_key).

CREATE TABLE wxkit_message_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appid       text        NOT NULL,
    dedup_key   text        NOT NULL,
    from_user   text        NOT NULL DEFAULT '',
    to_user     text        NOT NULL DEFAULT '',
    msg_type    text        NOT NULL DEFAULT '',
    event       text        NOT NULL DEFAULT '',
    msg_id      bigint      NOT NULL DEFAULT 0,
    create_time bigint      NOT NULL DEFAULT 0, -- Unix seconds, from the message
    received_at timestamptz NOT NULL,
    request     bytea,
    reply       bytea,
    UNIQUE (appid, dedup_key)
);
CREATE INDEX wxkit_message_log_app_received ON wxkit_message_log (appid, received_at DESC, id DESC);
CREATE INDEX wxkit_message_log_received ON wxkit_message_log (received_at, id);
