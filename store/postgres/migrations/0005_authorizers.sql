-- 0005_authorizers: the accounts that authorized an Open Platform component
-- (store.Authorizers). refresh_token is the caller's ciphertext of the
-- authorizer_refresh_token, kept durably: rows never expire. func_info holds
-- the granted funcscope_category ids.

CREATE TABLE wxkit_authorizers (
    component_appid text        NOT NULL,
    appid           text        NOT NULL,
    refresh_token   bytea       NOT NULL DEFAULT '\x',
    func_info       integer[]   NOT NULL DEFAULT '{}',
    nickname        text        NOT NULL DEFAULT '',
    user_name       text        NOT NULL DEFAULT '',
    authorized      boolean     NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (component_appid, appid)
);
