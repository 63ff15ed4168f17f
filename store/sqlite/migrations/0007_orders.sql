-- WeChat Pay orders and their refunds (store.Orders). Amounts are in fen;
-- times are Unix milliseconds, 0 for none; states are the platform's names
-- (trade_state, refund status).
CREATE TABLE wxkit_orders (
	mch_id         TEXT    NOT NULL,
	out_trade_no   TEXT    NOT NULL,
	appid          TEXT    NOT NULL,
	openid         TEXT    NOT NULL DEFAULT '',
	version        TEXT    NOT NULL DEFAULT '', -- "v2" or "v3"
	description    TEXT    NOT NULL DEFAULT '',
	amount         INTEGER NOT NULL CHECK (amount > 0),
	state          TEXT    NOT NULL,
	prepay_id      TEXT    NOT NULL DEFAULT '',
	transaction_id TEXT    NOT NULL DEFAULT '',
	refunded       INTEGER NOT NULL DEFAULT 0, -- of refunds that succeeded
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	paid_at        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (mch_id, out_trade_no),
	CHECK (refunded >= 0 AND refunded <= amount)
);
-- OrderByPrepayID; a prepay_id belongs to one order of a merchant.
CREATE UNIQUE INDEX wxkit_orders_prepay ON wxkit_orders (mch_id, prepay_id) WHERE prepay_id <> '';
-- A user's orders, newest first.
CREATE INDEX wxkit_orders_owner ON wxkit_orders (appid, openid, created_at);
-- Orders in given states created before a time: the open orders to close
-- or reconcile.
CREATE INDEX wxkit_orders_state ON wxkit_orders (state, created_at);

CREATE TABLE wxkit_refunds (
	mch_id        TEXT    NOT NULL,
	out_refund_no TEXT    NOT NULL,
	out_trade_no  TEXT    NOT NULL,
	amount        INTEGER NOT NULL CHECK (amount > 0),
	reason        TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL,
	refund_id     TEXT    NOT NULL DEFAULT '', -- the platform's
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	PRIMARY KEY (mch_id, out_refund_no),
	FOREIGN KEY (mch_id, out_trade_no) REFERENCES wxkit_orders (mch_id, out_trade_no)
);
-- The refunds of an order (CreateRefund sums them).
CREATE INDEX wxkit_refunds_order ON wxkit_refunds (mch_id, out_trade_no);
