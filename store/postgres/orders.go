package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

var _ store.Orders = (*DB)(nil)

// DefaultOrdersLimit is the number of orders Orders returns for a Limit
// <= 0.
const DefaultOrdersLimit = 100

const orderColumns = `mch_id, out_trade_no, appid, openid, version, description, amount, state, prepay_id,
	transaction_id, refunded, created_at, updated_at, paid_at`

const refundColumns = `mch_id, out_refund_no, out_trade_no, amount, reason, state, refund_id, created_at, updated_at`

// ms truncates t to the millisecond, the precision orders and refunds
// keep, so that every backend compares them alike.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// CreateOrder implements store.Orders with one INSERT into wxkit_orders.
// MchID and OutTradeNo are required, Amount must be positive and Refunded
// within [0, Amount]; an empty State becomes NOTPAY (in o too). An
// existing (MchID, OutTradeNo), or a PrepayID that another order of MchID
// holds, gives an error wrapping store.ErrConflict.
func (db *DB) CreateOrder(ctx context.Context, o *store.Order) error {
	if err := store.CheckNewOrder(o); err != nil {
		return err
	}
	if o.State == "" {
		o.State = store.TradeStateNotPay
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO wxkit_orders (`+orderColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		o.MchID, o.OutTradeNo, o.AppID, o.OpenID, o.Version, o.Description, o.Amount, string(o.State), o.PrepayID,
		o.TransactionID, o.Refunded, ms(o.Created), ms(o.Updated), nullTime(ms(o.PaidAt)))
	if isCode(err, codeUniqueViolation) {
		return fmt.Errorf("postgres: create order %s: %w", o.OutTradeNo, store.ErrConflict)
	}
	if err != nil {
		return wrap("create order "+o.OutTradeNo, err)
	}
	return nil
}

// Order implements store.Orders.
func (db *DB) Order(ctx context.Context, mchID, outTradeNo string) (*store.Order, error) {
	o, err := scanOrder(db.pool.QueryRow(ctx, `SELECT `+orderColumns+` FROM wxkit_orders WHERE mch_id = $1 AND out_trade_no = $2`,
		mchID, outTradeNo))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: order %s: %w", outTradeNo, store.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("order "+outTradeNo, err)
	}
	return o, nil
}

// OrderByPrepayID implements store.Orders. An empty prepayID is
// store.ErrNotFound.
func (db *DB) OrderByPrepayID(ctx context.Context, mchID, prepayID string) (*store.Order, error) {
	if prepayID == "" {
		return nil, fmt.Errorf("postgres: order by prepay_id: empty prepay_id: %w", store.ErrNotFound)
	}
	o, err := scanOrder(db.pool.QueryRow(ctx,
		`SELECT `+orderColumns+` FROM wxkit_orders WHERE mch_id = $1 AND prepay_id = $2 AND prepay_id <> ''`, mchID, prepayID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: order by prepay_id: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("order by prepay_id", err)
	}
	return o, nil
}

// SetPrepayID implements store.Orders with one UPDATE: it sets PrepayID and
// Updated (at), in any state. A prepay_id that another order of mchID
// holds gives an error wrapping store.ErrConflict; an unknown order
// store.ErrNotFound.
func (db *DB) SetPrepayID(ctx context.Context, mchID, outTradeNo, prepayID string, at time.Time) error {
	if prepayID == "" {
		return errors.New("postgres: set prepay_id: empty prepay_id")
	}
	tag, err := db.pool.Exec(ctx, `UPDATE wxkit_orders SET prepay_id = $3, updated_at = $4 WHERE mch_id = $1 AND out_trade_no = $2`,
		mchID, outTradeNo, prepayID, ms(at))
	if isCode(err, codeUniqueViolation) {
		return fmt.Errorf("postgres: set prepay_id of %s: held by another order: %w", outTradeNo, store.ErrConflict)
	}
	if err != nil {
		return wrap("set prepay_id of "+outTradeNo, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set prepay_id of %s: %w", outTradeNo, store.ErrNotFound)
	}
	return nil
}

// ApplyPayment implements store.Orders in one transaction: SELECT … FOR
// UPDATE of the order (concurrent copies of a notify, on any instance,
// wait for each other there and each sees the order as the one before it
// left it), the decision (mismatch, repeat, forbidden or change), and for
// a change the UPDATE of the order and the INSERT of announce into
// wxkit_outbox (as EnqueueJob does: an existing kind and key is left as it
// is; announce.ID, and its RunAt and Created when zero, are set),
// committed together.
func (db *DB) ApplyPayment(ctx context.Context, p *store.Payment, announce *store.Job) (bool, error) {
	if err := store.CheckPayment(p, announce); err != nil {
		return false, err
	}
	changed := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		o, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderColumns+` FROM wxkit_orders
			WHERE mch_id = $1 AND out_trade_no = $2 FOR UPDATE`, p.MchID, p.OutTradeNo))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		change, err := store.PaymentTransition(o, p)
		if err != nil || !change {
			return err
		}
		paidAt := o.PaidAt
		if p.State == store.TradeStateSuccess {
			paidAt = p.At
		}
		if _, err := tx.Exec(ctx, `UPDATE wxkit_orders SET state = $3, updated_at = $4, paid_at = $5,
				transaction_id = CASE WHEN $6 <> '' THEN $6 ELSE transaction_id END
			WHERE mch_id = $1 AND out_trade_no = $2`,
			p.MchID, p.OutTradeNo, string(p.State), ms(p.At), nullTime(ms(paidAt)), p.TransactionID); err != nil {
			return err
		}
		if err := db.enqueueTx(ctx, tx, announce); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: apply payment to %s: %w", p.OutTradeNo, err)
	}
	return changed, nil
}

// enqueueTx inserts j (when not nil) into wxkit_outbox within tx, with
// EnqueueJob's rules: a zero RunAt is the DB's clock now, a zero Created
// is RunAt, and a job of j.Kind and j.Key that exists is left as it is.
// j.ID, and j.RunAt and j.Created when they were zero, are set.
func (db *DB) enqueueTx(ctx context.Context, tx pgx.Tx, j *store.Job) error {
	if j == nil {
		return nil
	}
	runAt, created := j.RunAt, j.Created
	if runAt.IsZero() {
		runAt = db.now()
	}
	if created.IsZero() {
		created = runAt
	}
	// A job that exists may be completed (deleted) between the INSERT that
	// sees its key and the SELECT of its id: then insert again.
	for range 3 {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO wxkit_outbox (kind, key, payload, not_after, run_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, key) DO NOTHING RETURNING id`,
			j.Kind, j.Key, j.Payload, nullTime(j.NotAfter), runAt, created).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, `SELECT id FROM wxkit_outbox WHERE kind = $1 AND key = $2`, j.Kind, j.Key).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("announce job: %w", err)
		}
		j.ID, j.RunAt, j.Created = id, runAt, created
		return nil
	}
	return fmt.Errorf("announce job: key %q of kind %q keeps being completed under contention", j.Key, j.Kind)
}

// Orders implements store.Orders: newest Created first (then MchID and
// OutTradeNo, descending, in byte order); a Limit <= 0 is
// DefaultOrdersLimit.
func (db *DB) Orders(ctx context.Context, q store.OrderQuery) ([]*store.Order, error) {
	var f listFilter
	f.eq("mch_id", q.MchID)
	f.eq("appid", q.AppID)
	f.eq("openid", q.OpenID)
	f.in("state", stateStrings(q.States))
	f.before("created_at", q.CreatedBefore)
	query := f.query(`SELECT `+orderColumns+` FROM wxkit_orders`,
		`created_at DESC, mch_id COLLATE "C" DESC, out_trade_no COLLATE "C" DESC`, q.Limit)
	rows, err := db.pool.Query(ctx, query, f.args...)
	if err != nil {
		return nil, wrap("orders", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Order, error) { return scanOrder(row) })
	if err != nil {
		return nil, wrap("orders", err)
	}
	return out, nil
}

// CreateRefund implements store.Orders in one transaction: the
// out_refund_no must be new (store.ErrConflict), the order, locked FOR
// UPDATE so that concurrent refunds of it on any instance are checked one
// after the other, must exist (store.ErrNotFound) and be SUCCESS or
// REFUND, and its refunds that are not CLOSED or ABNORMAL, with r, must
// stay within its amount (store.ErrState). r is stored PROCESSING (in r
// too). OutRefundNo is required and Amount must be positive.
func (db *DB) CreateRefund(ctx context.Context, r *store.Refund) error {
	if err := store.CheckNewRefund(r); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM wxkit_refunds WHERE mch_id = $1 AND out_refund_no = $2)`,
			r.MchID, r.OutRefundNo).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrConflict
		}
		var state string
		var amount int64
		err := tx.QueryRow(ctx, `SELECT state, amount FROM wxkit_orders WHERE mch_id = $1 AND out_trade_no = $2 FOR UPDATE`,
			r.MchID, r.OutTradeNo).Scan(&state, &amount)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %s: %w", r.OutTradeNo, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		// A statement after the lock: it sees every refund committed by
		// the transactions that held the lock before.
		var held int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM wxkit_refunds
			WHERE mch_id = $1 AND out_trade_no = $2 AND state <> ALL($3)`,
			r.MchID, r.OutTradeNo, []string{string(store.RefundStateClosed), string(store.RefundStateAbnormal)}).Scan(&held); err != nil {
			return err
		}
		if err := store.RefundAllowed(store.TradeState(state), amount, held, r.Amount); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO wxkit_refunds (`+refundColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.MchID, r.OutRefundNo, r.OutTradeNo, r.Amount, r.Reason, string(store.RefundStateProcessing), r.RefundID,
			ms(r.Created), ms(r.Updated))
		if isCode(err, codeUniqueViolation) { // the same out_refund_no for another order, concurrently
			return store.ErrConflict
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create refund %s: %w", r.OutRefundNo, err)
	}
	r.State = store.RefundStateProcessing
	return nil
}

// Refund implements store.Orders.
func (db *DB) Refund(ctx context.Context, mchID, outRefundNo string) (*store.Refund, error) {
	r, err := scanRefund(db.pool.QueryRow(ctx, `SELECT `+refundColumns+` FROM wxkit_refunds WHERE mch_id = $1 AND out_refund_no = $2`,
		mchID, outRefundNo))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: refund %s: %w", outRefundNo, store.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("refund "+outRefundNo, err)
	}
	return r, nil
}

// Refunds implements store.Orders: newest Created first (then MchID and
// OutRefundNo, descending); a Limit <= 0 is DefaultOrdersLimit.
func (db *DB) Refunds(ctx context.Context, q store.RefundQuery) ([]*store.Refund, error) {
	var f listFilter
	f.eq("mch_id", q.MchID)
	f.in("state", stateStrings(q.States))
	f.before("created_at", q.CreatedBefore)
	f.before("updated_at", q.UpdatedBefore)
	query := f.query(`SELECT `+refundColumns+` FROM wxkit_refunds`,
		`created_at DESC, mch_id COLLATE "C" DESC, out_refund_no COLLATE "C" DESC`, q.Limit)
	rows, err := db.pool.Query(ctx, query, f.args...)
	if err != nil {
		return nil, wrap("refunds", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Refund, error) { return scanRefund(row) })
	if err != nil {
		return nil, wrap("refunds", err)
	}
	return out, nil
}

// ApplyRefund implements store.Orders in one transaction that locks the
// refund's order, then the refund, FOR UPDATE (the order first, as
// CreateRefund does, so that the two never deadlock), decides, and for a
// change updates the refund, for SUCCESS adds its amount to the order's
// Refunded and sets the order REFUND, and inserts announce into
// wxkit_outbox (as ApplyPayment does).
func (db *DB) ApplyRefund(ctx context.Context, res *store.RefundResult, announce *store.Job) (bool, error) {
	if err := store.CheckRefundResult(res, announce); err != nil {
		return false, err
	}
	changed := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// The order of a refund never changes: read it unlocked, to lock
		// the order first.
		var outTradeNo string
		err := tx.QueryRow(ctx, `SELECT out_trade_no FROM wxkit_refunds WHERE mch_id = $1 AND out_refund_no = $2`,
			res.MchID, res.OutRefundNo).Scan(&outTradeNo)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		o, err := scanOrder(tx.QueryRow(ctx, `SELECT `+orderColumns+` FROM wxkit_orders
			WHERE mch_id = $1 AND out_trade_no = $2 FOR UPDATE`, res.MchID, outTradeNo))
		if err != nil {
			return fmt.Errorf("order %s: %w", outTradeNo, err)
		}
		r, err := scanRefund(tx.QueryRow(ctx, `SELECT `+refundColumns+` FROM wxkit_refunds
			WHERE mch_id = $1 AND out_refund_no = $2 FOR UPDATE`, res.MchID, res.OutRefundNo))
		if err != nil {
			return err
		}
		change, err := store.RefundTransition(r, res)
		if err != nil || !change {
			return err
		}
		at := ms(res.At)
		if res.State == store.RefundStateSuccess {
			if err := store.Refundable(o, r); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE wxkit_orders SET refunded = refunded + $3, state = $4, updated_at = $5
				WHERE mch_id = $1 AND out_trade_no = $2`,
				r.MchID, r.OutTradeNo, r.Amount, string(store.TradeStateRefund), at); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE wxkit_refunds SET state = $3, updated_at = $4,
				refund_id = CASE WHEN $5 <> '' THEN $5 ELSE refund_id END
			WHERE mch_id = $1 AND out_refund_no = $2`,
			r.MchID, r.OutRefundNo, string(res.State), at, res.RefundID); err != nil {
			return err
		}
		if err := db.enqueueTx(ctx, tx, announce); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: apply refund %s: %w", res.OutRefundNo, err)
	}
	return changed, nil
}

// scanOrder scans orderColumns.
func scanOrder(row pgx.Row) (*store.Order, error) {
	var o store.Order
	var state string
	var paidAt *time.Time
	if err := row.Scan(&o.MchID, &o.OutTradeNo, &o.AppID, &o.OpenID, &o.Version, &o.Description, &o.Amount, &state,
		&o.PrepayID, &o.TransactionID, &o.Refunded, &o.Created, &o.Updated, &paidAt); err != nil {
		return nil, err
	}
	o.State = store.TradeState(state)
	if paidAt != nil {
		o.PaidAt = *paidAt
	}
	return &o, nil
}

// scanRefund scans refundColumns.
func scanRefund(row pgx.Row) (*store.Refund, error) {
	var r store.Refund
	var state string
	if err := row.Scan(&r.MchID, &r.OutRefundNo, &r.OutTradeNo, &r.Amount, &r.Reason, &state, &r.RefundID,
		&r.Created, &r.Updated); err != nil {
		return nil, err
	}
	r.State = store.RefundState(state)
	return &r, nil
}
