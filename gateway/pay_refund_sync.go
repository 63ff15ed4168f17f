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

// Keeping refunds in step with the platform. A refund stays PROCESSING
// until its notify; when the notify is lost (the gateway was down for the
// platform's whole retry schedule, or answered it with a failure every
// time) the refund is settled by asking the platform (pay/refundquery, or
// v3 query by out_refund_no) and applying what it says through the same
// path as the notify (applyRefund), so that a refund changes once whether
// the notify or the query lands first.

const (
	// PayRefundLeaseKey is the lock (token.Store.Lock) of the sweep of
	// PROCESSING refunds. It is taken for payRefundSweepEvery and not
	// released, so that a cluster sweeps at most once per period.
	PayRefundLeaseKey = "wxkit:leader:pay-refunds"
	// payRefundSweepEvery is how often a cluster queries its PROCESSING
	// refunds (a refund to a bank card may take days: each is queried
	// about 150 times a day, not every minute).
	payRefundSweepEvery = 10 * time.Minute
	// payRefundMinAge is how old a PROCESSING refund must be before it is
	// queried: younger, its request may be in flight and its notify on the
	// way. A refund the platform does not know is closed here once this
	// old (its request never reached the platform).
	payRefundMinAge = 5 * time.Minute
)

// processingRefunds are the states of refunds whose outcome is not known.
var processingRefunds = []store.RefundState{store.RefundStateProcessing}

// RefundReconcileResult is what a reconciliation did to one refund.
type RefundReconcileResult struct {
	Refund *store.Refund // as it was before
	// Platform is the state the platform reports ("" when the query
	// failed; CLOSED for a refund it does not know).
	Platform store.RefundState
	// After is the refund's state afterwards; Changed tells whether the
	// reconciliation changed it.
	After   store.RefundState
	Changed bool
	// Err is why the refund could not be reconciled: the query failed, or
	// the platform's answer does not match the refund (store.ErrMismatch:
	// another amount or order) or is not allowed from its state
	// (store.ErrState).
	Err error
}

// ReconcileRefunds asks the platform about every refund q selects (by
// default: the PROCESSING ones of every merchant) that is older than 5
// minutes (q.CreatedBefore is moved back to that when later or zero), and
// applies what it says, as the refund notify would be: a SUCCESS adds the
// refund to the order's refunded amount and makes the order REFUND; a
// CLOSED or ABNORMAL refund is recorded so (its amount may be refunded
// again); a refund the platform does not know is closed. q.Limit bounds
// the refunds per merchant (0: all). It returns one result per refund;
// the error is a failure to list refunds.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5 (v2),
// https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-refund-no.html (v3)
func (p *Payments) ReconcileRefunds(ctx context.Context, q store.RefundQuery) ([]RefundReconcileResult, error) {
	if len(q.States) == 0 {
		q.States = processingRefunds
	}
	if before := p.now().Add(-payRefundMinAge); q.CreatedBefore.IsZero() || q.CreatedBefore.After(before) {
		q.CreatedBefore = before
	}
	limit := q.Limit
	var out []RefundReconcileResult
	for _, m := range p.list {
		if q.MchID != "" && q.MchID != m.cfg.MchID {
			continue
		}
		mq := q
		mq.MchID = m.cfg.MchID
		n := 0
		err := p.eachRefund(ctx, mq, func(r *store.Refund) bool {
			out = append(out, p.syncRefund(ctx, m, r))
			n++
			return limit <= 0 || n < limit
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// sweepRefunds reconciles the PROCESSING refunds of every merchant, at
// most once per payRefundSweepEvery in a cluster (PayRefundLeaseKey). It
// returns how many refunds changed state.
func (p *Payments) sweepRefunds(ctx context.Context) (int, error) {
	_, err := p.locks.Lock(ctx, PayRefundLeaseKey, payRefundSweepEvery)
	if errors.Is(err, token.ErrLocked) {
		return 0, nil // swept within the period, here or elsewhere
	}
	if err != nil {
		return 0, fmt.Errorf("taking the lease: %w", err)
	}
	res, err := p.ReconcileRefunds(ctx, store.RefundQuery{})
	changed := 0
	for _, r := range res {
		switch {
		case r.Err != nil:
			p.logger.LogAttrs(ctx, slog.LevelWarn, "pay: a PROCESSING refund could not be reconciled; next sweep",
				slog.String("mch_id", r.Refund.MchID), slog.String("out_refund_no", r.Refund.OutRefundNo), slog.String("error", r.Err.Error()))
		case r.Changed:
			changed++
			p.logger.LogAttrs(ctx, slog.LevelInfo, "pay: refund settled by query", slog.String("mch_id", r.Refund.MchID),
				slog.String("out_trade_no", r.Refund.OutTradeNo), slog.String("out_refund_no", r.Refund.OutRefundNo),
				slog.String("state", string(r.After)))
		}
	}
	return changed, err
}

// eachRefund calls f for every refund q selects, newest first, a batch at
// a time, until f returns false or ctx ends.
func (p *Payments) eachRefund(ctx context.Context, q store.RefundQuery, f func(r *store.Refund) bool) error {
	return pageDown(ctx, func(before time.Time) ([]*store.Refund, error) {
		q.Limit = payBatch
		if !before.IsZero() {
			q.CreatedBefore = before
		}
		return p.orders.Refunds(ctx, q)
	}, func(r *store.Refund) (string, time.Time) { return r.MchID + "/" + r.OutRefundNo, r.Created }, f)
}

// syncRefund queries the platform for r and applies what it says.
func (p *Payments) syncRefund(ctx context.Context, m *payMerchant, r *store.Refund) RefundReconcileResult {
	res := RefundReconcileResult{Refund: r, After: r.State}
	rr, err := p.queryRefund(ctx, m, r)
	if err != nil {
		res.Err = err
		return res
	}
	res.Platform = rr.State
	if rr.State == store.RefundStateProcessing {
		return res // not settled yet: asked again next time
	}
	changed, err := p.applyRefund(ctx, rr)
	if err != nil {
		if errors.Is(err, store.ErrMismatch) || errors.Is(err, store.ErrState) {
			p.logger.LogAttrs(ctx, slog.LevelError, "pay: the platform's state of a refund does not fit it; nothing changed",
				slog.Bool("alert", true), slog.String("mch_id", r.MchID), slog.String("out_trade_no", r.OutTradeNo),
				slog.String("out_refund_no", r.OutRefundNo), slog.String("platform_state", string(rr.State)),
				slog.String("error", err.Error()))
		}
		res.Err = err
		return res
	}
	res.Changed = changed
	if changed {
		res.After = rr.State
	}
	return res
}

// queryRefund asks the platform for r and returns the result to apply:
// the platform's state, out_trade_no, amount and refund_id (which must
// match), or CLOSED with r's own for a refund the platform does not know.
func (p *Payments) queryRefund(ctx context.Context, m *payMerchant, r *store.Refund) (*store.RefundResult, error) {
	qctx, cancel := context.WithTimeout(ctx, payCallTimeout)
	defer cancel()
	res := &store.RefundResult{MchID: r.MchID, OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, Amount: r.Amount}
	switch m.cfg.Version {
	case PayV2:
		o, err := p.orders.Order(ctx, r.MchID, r.OutTradeNo)
		if err != nil {
			return nil, fmt.Errorf("the refund's order: %w", err)
		}
		q, err := m.v2Client(o.AppID).RefundQuery(qctx, &pay.RefundQueryRequest{OutRefundNo: r.OutRefundNo})
		if errors.Is(err, pay.ErrRefundNotExist) {
			res.State, res.At = store.RefundStateClosed, p.now()
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		var rec *pay.RefundRecord
		for i := range q.Refunds {
			if q.Refunds[i].OutRefundNo == r.OutRefundNo {
				rec = &q.Refunds[i]
			}
		}
		if rec == nil {
			return nil, fmt.Errorf("pay: refundquery of %s answered without it", r.OutRefundNo)
		}
		st, known := refundStateV2(rec.Status)
		if rec.Status == pay.RefundStatusProcessing {
			st, known = store.RefundStateProcessing, true
		}
		if !known {
			return nil, fmt.Errorf("pay: the platform reports refund_status %q", rec.Status)
		}
		res.OutTradeNo, res.Amount, res.State, res.RefundID, res.At = q.OutTradeNo, rec.RefundFee, st, rec.RefundID, rec.SuccessTime
	default:
		q, err := m.v3.QueryRefund(qctx, r.OutRefundNo)
		if errors.Is(err, payv3.ErrResourceNotExists) {
			res.State, res.At = store.RefundStateClosed, p.now()
			return res, nil
		}
		if err != nil {
			return nil, err
		}
		st := refundStateV3(q.Status)
		if st == "" {
			return nil, fmt.Errorf("payv3: the platform reports refund status %q", q.Status)
		}
		res.OutTradeNo, res.Amount, res.State, res.RefundID, res.At = q.OutTradeNo, q.Amount.Refund, st, q.RefundID, q.SuccessTime
	}
	return res, nil
}
