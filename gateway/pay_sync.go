package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wxkit/wxkit/pay"
	payv3 "github.com/wxkit/wxkit/pay/v3"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// Keeping orders in step with the platform: the closer of expired orders
// and reconciliation. Both ask the platform (orderquery / query by
// out_trade_no) and apply what it says with the same rules as a notify:
// a SUCCESS must match the order's appid and amount, and is announced
// (on_paid) in the same transaction.

// The closer of expired orders.
const (
	// PayCloseLeaseKey is the lock (token.Store.Lock) that makes one
	// instance of a cluster close expired orders at a time.
	PayCloseLeaseKey = "wxkit:leader:pay-close"
	// payCloseEvery is how often an instance tries to close expired orders.
	payCloseEvery = time.Minute
	// payCloseLease bounds one pass (and the lease it holds).
	payCloseLease = 5 * time.Minute
	// payBatch is how many orders one query lists.
	payBatch = 100
	// payNotExistGrace is how old an order the platform does not know must
	// be before it is closed here: younger, its placement may be in flight.
	payNotExistGrace = 5 * time.Minute
)

// openStates are the states of orders that may still be paid.
var openStates = []store.TradeState{store.TradeStateNotPay, store.TradeStateUserPaying}

// payCloser runs closeExpired every payCloseEvery, and sweepRefunds after
// it (which does its work at most every payRefundSweepEvery).
type payCloser struct {
	stop chan struct{}
	done chan struct{}
}

// startCloser starts the loop that closes expired orders and settles
// refunds whose notify was lost (pay_refund_sync.go).
func (p *Payments) startCloser() {
	c := &payCloser{stop: make(chan struct{}), done: make(chan struct{})}
	p.closer = c
	go func() {
		defer close(c.done)
		t := time.NewTimer(payCloseEvery / 2) // not at the very start: let the instance warm up
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), payCloseLease-time.Minute)
			go func() { // stop cancels a pass in progress
				select {
				case <-c.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			if _, err := p.closeExpired(ctx); err != nil && ctx.Err() == nil {
				p.logger.Warn("pay: closing expired orders failed", slog.String("error", err.Error()))
			}
			if _, err := p.sweepRefunds(ctx); err != nil && ctx.Err() == nil {
				p.logger.Warn("pay: reconciling PROCESSING refunds failed", slog.String("error", err.Error()))
			}
			cancel()
			t.Reset(payCloseEvery)
		}
	}()
}

// stopCloser ends the loop (a pass in progress is cancelled).
func (p *Payments) stopCloser() {
	c := p.closer
	if c == nil {
		return
	}
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

// closeExpired closes the open orders older than pay.order_timeout, under
// the cluster lease: it asks the platform to close each (closeorder), then
// applies what the platform says of it, so that an order paid meanwhile
// becomes SUCCESS (and is announced) instead of CLOSED. It returns how
// many orders changed state.
func (p *Payments) closeExpired(ctx context.Context) (int, error) {
	unlock, err := p.locks.Lock(ctx, PayCloseLeaseKey, payCloseLease)
	if errors.Is(err, token.ErrLocked) {
		return 0, nil // another instance is at it
	}
	if err != nil {
		return 0, fmt.Errorf("taking the lease: %w", err)
	}
	defer unlock(context.WithoutCancel(ctx))
	before := p.now().Add(-time.Duration(p.cfg.Pay.OrderTimeout))
	changed := 0
	for _, m := range p.list {
		err := p.eachOrder(ctx, store.OrderQuery{MchID: m.cfg.MchID, States: openStates, CreatedBefore: before},
			func(o *store.Order) bool {
				if err := p.closeAtPlatform(ctx, m, o); err != nil {
					p.logger.LogAttrs(ctx, slog.LevelDebug, "pay: closeorder failed; querying the order",
						slog.String("mch_id", o.MchID), slog.String("out_trade_no", o.OutTradeNo), slog.String("error", err.Error()))
				}
				res := p.syncOrder(ctx, m, o)
				if res.Err != nil {
					p.logger.LogAttrs(ctx, slog.LevelWarn, "pay: closing an expired order: the platform's state is not known; next pass",
						slog.String("mch_id", o.MchID), slog.String("out_trade_no", o.OutTradeNo), slog.String("error", res.Err.Error()))
				}
				if res.Changed {
					changed++
					p.logger.LogAttrs(ctx, slog.LevelInfo, "pay: expired order settled", slog.String("mch_id", o.MchID),
						slog.String("out_trade_no", o.OutTradeNo), slog.String("state", string(res.After)))
				}
				return true
			})
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// eachOrder calls f for every order q selects, newest first, a batch at a
// time, until f returns false or ctx ends.
func (p *Payments) eachOrder(ctx context.Context, q store.OrderQuery, f func(o *store.Order) bool) error {
	return pageDown(ctx, func(before time.Time) ([]*store.Order, error) {
		q.Limit = payBatch
		if !before.IsZero() {
			q.CreatedBefore = before
		}
		return p.orders.Orders(ctx, q)
	}, func(o *store.Order) (string, time.Time) { return o.MchID + "/" + o.OutTradeNo, o.Created }, f)
}

// pageDown calls f for every item of a list kept newest first, a batch of
// payBatch at a time, until f returns false or ctx ends. list is called
// with the zero time first, then with a CreatedBefore bound just above the
// last item's creation, so that items created in the same millisecond are
// listed again, and skipped by their key (id returns the key and the
// creation time of an item).
func pageDown[T any](ctx context.Context, list func(before time.Time) ([]T, error), id func(T) (string, time.Time), f func(T) bool) error {
	seen := map[string]bool{}
	var before time.Time
	for ctx.Err() == nil {
		items, err := list(before)
		if err != nil {
			return err
		}
		fresh := 0
		for _, it := range items {
			key, _ := id(it)
			if seen[key] {
				continue
			}
			seen[key] = true
			fresh++
			if !f(it) {
				return nil
			}
		}
		if len(items) < payBatch || fresh == 0 {
			return nil
		}
		_, created := id(items[len(items)-1])
		before = created.Add(time.Millisecond)
	}
	return ctx.Err()
}

// closeAtPlatform asks the platform to close o (pay/closeorder, or v3
// close). A paid or already closed order is not an error here: syncOrder
// reads its state next.
func (p *Payments) closeAtPlatform(ctx context.Context, m *payMerchant, o *store.Order) error {
	cctx, cancel := context.WithTimeout(ctx, payCallTimeout)
	defer cancel()
	var err error
	switch m.cfg.Version {
	case PayV2:
		err = m.v2Client(o.AppID).CloseOrder(cctx, o.OutTradeNo)
		if errors.Is(err, pay.ErrOrderPaid) || errors.Is(err, pay.ErrOrderClosed) || errors.Is(err, pay.ErrOrderNotExist) {
			err = nil
		}
	default:
		err = m.v3.Close(cctx, o.OutTradeNo)
		if errors.Is(err, payv3.ErrOrderPaid) || errors.Is(err, payv3.ErrOrderClosed) || errors.Is(err, payv3.ErrOrderNotExist) {
			err = nil
		}
	}
	return err
}

// ReconcileResult is what a reconciliation did to one order.
type ReconcileResult struct {
	Order *store.Order // as it was before
	// Platform is the state the platform reports ("" when the query
	// failed; CLOSED for an order it does not know, once older than 5
	// minutes).
	Platform store.TradeState
	// After is the order's state afterwards; Changed tells whether the
	// reconciliation changed it.
	After   store.TradeState
	Changed bool
	// Err is why the order could not be reconciled: the query failed, or
	// the platform's answer does not match the order (store.ErrMismatch:
	// another amount or app) or is not allowed from its state
	// (store.ErrState: a payment for an order closed here).
	Err error
}

// Reconcile asks the platform about every order q selects (by default:
// the open ones, NOTPAY and USERPAYING, of every merchant) and applies
// what it says, as a notify would be: a SUCCESS the gateway missed
// becomes SUCCESS here and is announced (pay.on_paid, delivered by the
// serving instances' drainers), a CLOSED or PAYERROR order is closed
// here. q.Limit bounds the orders per merchant (0: all). It returns one
// result per order; the error is a failure to list orders.
func (p *Payments) Reconcile(ctx context.Context, q store.OrderQuery) ([]ReconcileResult, error) {
	if len(q.States) == 0 {
		q.States = openStates
	}
	limit := q.Limit
	var out []ReconcileResult
	for _, m := range p.list {
		if q.MchID != "" && q.MchID != m.cfg.MchID {
			continue
		}
		mq := q
		mq.MchID = m.cfg.MchID
		n := 0
		err := p.eachOrder(ctx, mq, func(o *store.Order) bool {
			out = append(out, p.syncOrder(ctx, m, o))
			n++
			return limit <= 0 || n < limit
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// syncOrder queries the platform for o and applies what it says.
func (p *Payments) syncOrder(ctx context.Context, m *payMerchant, o *store.Order) ReconcileResult {
	res := ReconcileResult{Order: o, After: o.State}
	pm, err := p.queryOrder(ctx, m, o)
	if err != nil {
		res.Err = err
		return res
	}
	if pm == nil { // the platform does not know the order (yet)
		return res
	}
	res.Platform = pm.State
	changed, err := p.applyPayment(ctx, o, pm)
	if err != nil {
		if errors.Is(err, store.ErrMismatch) || errors.Is(err, store.ErrState) {
			p.logger.LogAttrs(ctx, slog.LevelError, "pay: the platform's state of an order does not fit it; nothing changed",
				slog.Bool("alert", true), slog.String("mch_id", o.MchID), slog.String("out_trade_no", o.OutTradeNo),
				slog.String("platform_state", string(pm.State)), slog.String("error", err.Error()))
		}
		res.Err = err
		return res
	}
	res.Changed = changed
	if changed {
		res.After = pm.State
	}
	return res
}

// queryOrder asks the platform for o and returns the payment to apply: for
// a paid (or refunded) order the platform's appid, amount and
// transaction_id (which must match); for an unpaid one its state with the
// order's own appid and amount. nil: the platform does not know the order
// and it is younger than payNotExistGrace.
func (p *Payments) queryOrder(ctx context.Context, m *payMerchant, o *store.Order) (*store.Payment, error) {
	qctx, cancel := context.WithTimeout(ctx, payCallTimeout)
	defer cancel()
	pm := &store.Payment{MchID: o.MchID, OutTradeNo: o.OutTradeNo, AppID: o.AppID, Amount: o.Amount}
	var state store.TradeState
	switch m.cfg.Version {
	case PayV2:
		q, err := m.v2Client(o.AppID).OrderQuery(qctx, &pay.OrderQueryRequest{OutTradeNo: o.OutTradeNo})
		if errors.Is(err, pay.ErrOrderNotExist) {
			return p.notAtPlatform(o, pm)
		}
		if err != nil {
			return nil, err
		}
		state = store.TradeState(q.TradeState)
		if state == store.TradeStateSuccess || state == store.TradeStateRefund {
			pm.AppID, pm.Amount, pm.TransactionID, pm.At = q.AppID, q.TotalFee, q.TransactionID, q.TimeEnd
		}
	default:
		t, err := m.v3.QueryByOutTradeNo(qctx, o.OutTradeNo)
		if errors.Is(err, payv3.ErrOrderNotExist) {
			return p.notAtPlatform(o, pm)
		}
		if err != nil {
			return nil, err
		}
		state = store.TradeState(t.TradeState)
		if state == store.TradeStateSuccess || state == store.TradeStateRefund {
			pm.AppID, pm.Amount, pm.TransactionID, pm.At = t.AppID, t.Amount.Total, t.TransactionID, t.SuccessTime
		}
	}
	switch state {
	case store.TradeStateRefund:
		state = store.TradeStateSuccess // paid; its refunds are the refunds' business
	case store.TradeStateSuccess, store.TradeStateNotPay, store.TradeStateUserPaying, store.TradeStateClosed,
		store.TradeStatePayError, store.TradeStateRevoked:
	default:
		return nil, fmt.Errorf("pay: the platform reports trade_state %q", state)
	}
	pm.State = state
	return pm, nil
}

// notAtPlatform is the payment of an order the platform does not know:
// CLOSED once it is older than payNotExistGrace (its placement failed),
// else nil (it may be in flight).
func (p *Payments) notAtPlatform(o *store.Order, pm *store.Payment) (*store.Payment, error) {
	if p.now().Sub(o.Created) < payNotExistGrace {
		return nil, nil
	}
	pm.State = store.TradeStateClosed
	return pm, nil
}
