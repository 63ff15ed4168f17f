package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/wxkit/wxkit/store"
)

var _ store.Orders = (*DB)(nil)

// orderCols are the columns scanOrder reads, in its order.
const orderCols = `mch_id, out_trade_no, appid, openid, version, description, amount, state, prepay_id,
	transaction_id, refunded, created_at, updated_at, paid_at`

// refundCols are the columns scanRefund reads, in its order.
const refundCols = `mch_id, out_refund_no, out_trade_no, amount, reason, state, refund_id, created_at, updated_at`

// DefaultOrdersLimit is the number of orders Orders returns for a Limit
// <= 0.
const DefaultOrdersLimit = 100

// inTx runs f in one IMMEDIATE transaction (SQLite's write lock is taken
// at BEGIN, so that no other connection or process writes between what f
// reads and what it writes) and commits when f returns nil.
//
// The transactions of one DB first queue in the process (orderTxs), so
// that a burst of notifies (200 copies at once) waits in Go, as long as
// ctx allows, rather than in SQLite's busy handler, which gives up after
// BusyTimeout: only the head of each process's queue contends for the
// file's lock. Correctness rests on SQLite's lock alone.
func (db *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	sem := db.orderTxs()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-sem }()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// orderQueues holds the queue of each DB's order transactions (see inTx),
// by a weak pointer to the DB, deleted once the DB is garbage.
var orderQueues sync.Map // weak.Pointer[DB] → chan struct{} (capacity 1)

// orderTxs returns the queue of db's order transactions.
func (db *DB) orderTxs() chan struct{} {
	wp := weak.Make(db)
	if q, ok := orderQueues.Load(wp); ok {
		return q.(chan struct{})
	}
	q, loaded := orderQueues.LoadOrStore(wp, make(chan struct{}, 1))
	if !loaded {
		runtime.AddCleanup(db, func(wp weak.Pointer[DB]) { orderQueues.Delete(wp) }, wp)
	}
	return q.(chan struct{})
}

// CreateOrder implements store.Orders: it inserts o into wxkit_orders.
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
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM wxkit_orders WHERE mch_id = ? AND out_trade_no = ?`,
			o.MchID, o.OutTradeNo).Scan(&one)
		if err == nil {
			return store.ErrConflict
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if o.PrepayID != "" {
			if err := prepayFree(ctx, tx, o.MchID, o.PrepayID, o.OutTradeNo); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO wxkit_orders (`+orderCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.MchID, o.OutTradeNo, o.AppID, o.OpenID, o.Version, o.Description, o.Amount, string(o.State), o.PrepayID,
			o.TransactionID, o.Refunded, ms(o.Created), ms(o.Updated), ms(o.PaidAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create order %s: %w", o.OutTradeNo, err)
	}
	return nil
}

// prepayFree returns an error wrapping store.ErrConflict when an order of
// mchID other than outTradeNo holds prepayID.
func prepayFree(ctx context.Context, tx *sql.Tx, mchID, prepayID, outTradeNo string) error {
	var holder string
	err := tx.QueryRowContext(ctx, `SELECT out_trade_no FROM wxkit_orders WHERE mch_id = ? AND prepay_id = ? AND prepay_id <> ''`,
		mchID, prepayID).Scan(&holder)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case holder != outTradeNo:
		return fmt.Errorf("prepay_id held by another order: %w", store.ErrConflict)
	}
	return nil
}

// Order implements store.Orders.
func (db *DB) Order(ctx context.Context, mchID, outTradeNo string) (*store.Order, error) {
	o, err := scanOrder(db.QueryRowContext(ctx, `SELECT `+orderCols+` FROM wxkit_orders WHERE mch_id = ? AND out_trade_no = ?`,
		mchID, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: order %s: %w", outTradeNo, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: order %s: %w", outTradeNo, err)
	}
	return o, nil
}

// OrderByPrepayID implements store.Orders. An empty prepayID is
// store.ErrNotFound.
func (db *DB) OrderByPrepayID(ctx context.Context, mchID, prepayID string) (*store.Order, error) {
	if prepayID == "" {
		return nil, fmt.Errorf("sqlite: order by prepay_id: empty prepay_id: %w", store.ErrNotFound)
	}
	o, err := scanOrder(db.QueryRowContext(ctx,
		`SELECT `+orderCols+` FROM wxkit_orders WHERE mch_id = ? AND prepay_id = ? AND prepay_id <> ''`, mchID, prepayID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: order by prepay_id: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: order by prepay_id: %w", err)
	}
	return o, nil
}

// SetPrepayID implements store.Orders: it sets PrepayID and Updated (at),
// in any state. A prepay_id that another order of mchID holds gives an
// error wrapping store.ErrConflict; an unknown order store.ErrNotFound.
func (db *DB) SetPrepayID(ctx context.Context, mchID, outTradeNo, prepayID string, at time.Time) error {
	if prepayID == "" {
		return errors.New("sqlite: set prepay_id: empty prepay_id")
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := prepayFree(ctx, tx, mchID, prepayID, outTradeNo); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE wxkit_orders SET prepay_id = ?, updated_at = ? WHERE mch_id = ? AND out_trade_no = ?`,
			prepayID, ms(at), mchID, outTradeNo)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: set prepay_id of %s: %w", outTradeNo, err)
	}
	return nil
}

// ApplyPayment implements store.Orders in one IMMEDIATE transaction: it
// reads the order, decides (mismatch, repeat, forbidden or change), and
// for a change updates the order and inserts announce into wxkit_outbox
// (as EnqueueJob does: an existing kind and key is left as it is, and
// announce.ID is set to the job's id), committing both or neither.
func (db *DB) ApplyPayment(ctx context.Context, p *store.Payment, announce *store.Job) (bool, error) {
	if err := store.CheckPayment(p, announce); err != nil {
		return false, err
	}
	changed := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		o, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM wxkit_orders WHERE mch_id = ? AND out_trade_no = ?`,
			p.MchID, p.OutTradeNo))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		change, err := store.PaymentTransition(o, p)
		if err != nil || !change {
			return err
		}
		paidAt := ms(o.PaidAt)
		if p.State == store.TradeStateSuccess {
			paidAt = ms(p.At)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE wxkit_orders SET state = ?, updated_at = ?, paid_at = ?,
				transaction_id = CASE WHEN ? <> '' THEN ? ELSE transaction_id END
			WHERE mch_id = ? AND out_trade_no = ?`,
			string(p.State), ms(p.At), paidAt, p.TransactionID, p.TransactionID, p.MchID, p.OutTradeNo); err != nil {
			return err
		}
		if err := enqueueTx(ctx, tx, announce); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: apply payment to %s: %w", p.OutTradeNo, err)
	}
	return changed, nil
}

// enqueueTx inserts j (when not nil) into wxkit_outbox within tx, with
// EnqueueJob's rules: Created defaults to RunAt, and a job of j.Kind and
// j.Key that exists is left as it is. j.ID is set either way.
func enqueueTx(ctx context.Context, tx *sql.Tx, j *store.Job) error {
	if j == nil {
		return nil
	}
	created := j.Created
	if created.IsZero() {
		created = j.RunAt
	}
	var id int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO wxkit_outbox (kind, key, payload, run_at, not_after, created_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (kind, key) DO NOTHING RETURNING id`,
		j.Kind, j.Key, nonNil(j.Payload), ms(j.RunAt), ms(j.NotAfter), ms(created)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // the job exists
		err = tx.QueryRowContext(ctx, `SELECT id FROM wxkit_outbox WHERE kind = ? AND key = ?`, j.Kind, j.Key).Scan(&id)
	}
	if err != nil {
		return fmt.Errorf("announce job: %w", err)
	}
	j.ID, j.Created = id, created
	return nil
}

// Orders implements store.Orders: newest Created first (then MchID and
// OutTradeNo, descending); a Limit <= 0 is DefaultOrdersLimit.
func (db *DB) Orders(ctx context.Context, q store.OrderQuery) ([]*store.Order, error) {
	var f listFilter
	f.eq("mch_id", q.MchID)
	f.eq("appid", q.AppID)
	f.eq("openid", q.OpenID)
	f.in("state", stateStrings(q.States))
	f.before("created_at", q.CreatedBefore)
	query := f.query(`SELECT `+orderCols+` FROM wxkit_orders`,
		`created_at DESC, mch_id DESC, out_trade_no DESC`, q.Limit)
	rows, err := db.QueryContext(ctx, query, f.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	out, err := collectRows(rows, scanOrder)
	if err != nil {
		return nil, fmt.Errorf("sqlite: orders: %w", err)
	}
	return out, nil
}

// CreateRefund implements store.Orders in one IMMEDIATE transaction: the
// out_refund_no must be new (store.ErrConflict), the order exist
// (store.ErrNotFound) and be SUCCESS or REFUND, and its refunds that are
// not CLOSED or ABNORMAL, with r, stay within its amount (store.ErrState).
// r is stored PROCESSING (in r too). OutRefundNo is required and Amount
// must be positive.
func (db *DB) CreateRefund(ctx context.Context, r *store.Refund) error {
	if err := store.CheckNewRefund(r); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM wxkit_refunds WHERE mch_id = ? AND out_refund_no = ?`,
			r.MchID, r.OutRefundNo).Scan(&one)
		if err == nil {
			return store.ErrConflict
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var state string
		var amount, held int64
		err = tx.QueryRowContext(ctx, `SELECT o.state, o.amount, coalesce((SELECT sum(amount) FROM wxkit_refunds
				WHERE mch_id = o.mch_id AND out_trade_no = o.out_trade_no AND state NOT IN (?, ?)), 0)
			FROM wxkit_orders o WHERE o.mch_id = ? AND o.out_trade_no = ?`,
			string(store.RefundStateClosed), string(store.RefundStateAbnormal), r.MchID, r.OutTradeNo).Scan(&state, &amount, &held)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("order %s: %w", r.OutTradeNo, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := store.RefundAllowed(store.TradeState(state), amount, held, r.Amount); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO wxkit_refunds (`+refundCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.MchID, r.OutRefundNo, r.OutTradeNo, r.Amount, r.Reason, string(store.RefundStateProcessing), r.RefundID,
			ms(r.Created), ms(r.Updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create refund %s: %w", r.OutRefundNo, err)
	}
	r.State = store.RefundStateProcessing
	return nil
}

// Refund implements store.Orders.
func (db *DB) Refund(ctx context.Context, mchID, outRefundNo string) (*store.Refund, error) {
	r, err := scanRefund(db.QueryRowContext(ctx, `SELECT `+refundCols+` FROM wxkit_refunds WHERE mch_id = ? AND out_refund_no = ?`,
		mchID, outRefundNo))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: refund %s: %w", outRefundNo, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: refund %s: %w", outRefundNo, err)
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
	query := f.query(`SELECT `+refundCols+` FROM wxkit_refunds`,
		`created_at DESC, mch_id DESC, out_refund_no DESC`, q.Limit)
	rows, err := db.QueryContext(ctx, query, f.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: refunds: %w", err)
	}
	out, err := collectRows(rows, scanRefund)
	if err != nil {
		return nil, fmt.Errorf("sqlite: refunds: %w", err)
	}
	return out, nil
}

// ApplyRefund implements store.Orders in one IMMEDIATE transaction: it
// reads the refund, decides, and for a change updates the refund, for
// SUCCESS adds its amount to the order's Refunded and sets the order
// REFUND, and inserts announce into wxkit_outbox (as ApplyPayment does).
func (db *DB) ApplyRefund(ctx context.Context, res *store.RefundResult, announce *store.Job) (bool, error) {
	if err := store.CheckRefundResult(res, announce); err != nil {
		return false, err
	}
	changed := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundCols+` FROM wxkit_refunds WHERE mch_id = ? AND out_refund_no = ?`,
			res.MchID, res.OutRefundNo))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		change, err := store.RefundTransition(r, res)
		if err != nil || !change {
			return err
		}
		at := ms(res.At)
		if res.State == store.RefundStateSuccess {
			o, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM wxkit_orders WHERE mch_id = ? AND out_trade_no = ?`,
				r.MchID, r.OutTradeNo))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("order %s: %w", r.OutTradeNo, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
			if err := store.Refundable(o, r); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE wxkit_orders SET refunded = refunded + ?, state = ?, updated_at = ?
				WHERE mch_id = ? AND out_trade_no = ?`,
				r.Amount, string(store.TradeStateRefund), at, r.MchID, r.OutTradeNo); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE wxkit_refunds SET state = ?, updated_at = ?,
				refund_id = CASE WHEN ? <> '' THEN ? ELSE refund_id END
			WHERE mch_id = ? AND out_refund_no = ?`,
			string(res.State), at, res.RefundID, res.RefundID, r.MchID, r.OutRefundNo); err != nil {
			return err
		}
		if err := enqueueTx(ctx, tx, announce); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: apply refund %s: %w", res.OutRefundNo, err)
	}
	return changed, nil
}

// scanOrder reads the columns of orderCols from row.
func scanOrder(row interface{ Scan(...any) error }) (*store.Order, error) {
	var o store.Order
	var state string
	var created, updated, paid int64
	if err := row.Scan(&o.MchID, &o.OutTradeNo, &o.AppID, &o.OpenID, &o.Version, &o.Description, &o.Amount, &state,
		&o.PrepayID, &o.TransactionID, &o.Refunded, &created, &updated, &paid); err != nil {
		return nil, err
	}
	o.State = store.TradeState(state)
	o.Created, o.Updated, o.PaidAt = fromMS(created), fromMS(updated), fromMS(paid)
	return &o, nil
}

// scanRefund reads the columns of refundCols from row.
func scanRefund(row interface{ Scan(...any) error }) (*store.Refund, error) {
	var r store.Refund
	var state string
	var created, updated int64
	if err := row.Scan(&r.MchID, &r.OutRefundNo, &r.OutTradeNo, &r.Amount, &r.Reason, &state, &r.RefundID,
		&created, &updated); err != nil {
		return nil, err
	}
	r.State = store.RefundState(state)
	r.Created, r.Updated = fromMS(created), fromMS(updated)
	return &r, nil
}
