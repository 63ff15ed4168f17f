-- 0004_orders: WeChat Pay orders and their refunds (store.Orders). Amounts
-- are in fen; times are kept to the millisecond; states are the platform's
-- names (trade_state, refund status).

CREATE TABLE wxkit_orders (
    mch_id         text        NOT NULL,
    out_trade_no   text        NOT NULL,
    appid          text        NOT NULL,
    openid         text        NOT NULL DEFAULT '',
    version        text        NOT NULL DEFAULT '', -- "v2" or "v3"
    description    text        NOT NULL DEFAULT '',
    amount         bigint      NOT NULL CHECK (amount > 0),
    state          text        NOT NULL,
    prepay_id      text        NOT NULL DEFAULT '',
    transaction_id text        NOT NULL DEFAULT '',
    refunded       bigint      NOT NULL DEFAULT 0, -- of refunds that succeeded
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    paid_at        timestamptz,                    -- NULL until paid
    PRIMARY KEY (mch_id, out_trade_no),
    CHECK (refunded >= 0 AND refunded <= amount)
);
-- OrderByPrepayID; a prepay_id belongs to one order of a merchant.
CREATE UNIQUE INDEX wxkit_orders_prepay ON wxkit_orders (mch_id, prepay_id) WHERE prepay_id <> '';
-- A user's orders, newest first.
CREATE INDEX wxkit_orders_owner ON wxkit_orders (appid, openid, created_at DESC);
-- Orders in given states created before a time: the open orders to close
-- or reconcile.
CREATE INDEX wxkit_orders_state ON wxkit_orders (state, created_at DESC);

CREATE TABLE wxkit_refunds (
    mch_id        text        NOT NULL,
    out_refund_no text        NOT NULL,
    out_trade_no  text        NOT NULL,
    amount        bigint      NOT NULL CHECK (amount > 0),
    reason        text        NOT NULL DEFAULT '',
    state         text        NOT NULL,
    refund_id     text        NOT NULL DEFAULT '', -- the platform's
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (mch_id, out_refund_no),
    FOREIGN KEY (mch_id, out_trade_no) REFERENCES wxkit_orders (mch_id, out_trade_no)
);
-- The refunds of an order (CreateRefund sums them).
CREATE INDEX wxkit_refunds_order ON wxkit_refunds (mch_id, out_trade_no);
