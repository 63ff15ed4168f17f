package sqlite

import (
	"errors"
	"fmt"

	"github.com/wxkit/wxkit/store"
)

// The rules of store.Orders, applied by the methods in orders.go inside
// their transactions (store/memory and store/postgres apply the same).

// knownTradeState reports whether st is one of the platform's trade states.
func knownTradeState(st store.TradeState) bool {
	switch st {
	case store.TradeStateNotPay, store.TradeStateUserPaying, store.TradeStateSuccess, store.TradeStateRefund,
		store.TradeStateClosed, store.TradeStatePayError, store.TradeStateRevoked:
		return true
	}
	return false
}

// knownRefundState reports whether st is one of the platform's refund
// states.
func knownRefundState(st store.RefundState) bool {
	switch st {
	case store.RefundStateProcessing, store.RefundStateSuccess, store.RefundStateClosed, store.RefundStateAbnormal:
		return true
	}
	return false
}

// checkNewOrder checks the fields CreateOrder requires.
func checkNewOrder(o *store.Order) error {
	switch {
	case o == nil || o.MchID == "" || o.OutTradeNo == "":
		return errors.New("sqlite: create order: mch_id and out_trade_no are required")
	case o.Amount <= 0:
		return fmt.Errorf("sqlite: create order %s: amount %d fen, want more than 0", o.OutTradeNo, o.Amount)
	case o.Refunded < 0 || o.Refunded > o.Amount:
		return fmt.Errorf("sqlite: create order %s: refunded %d fen of %d", o.OutTradeNo, o.Refunded, o.Amount)
	case o.State != "" && !knownTradeState(o.State):
		return fmt.Errorf("sqlite: create order %s: unknown state %q", o.OutTradeNo, o.State)
	}
	return nil
}

// checkNewRefund checks the fields CreateRefund requires.
func checkNewRefund(r *store.Refund) error {
	switch {
	case r == nil || r.MchID == "" || r.OutRefundNo == "":
		return errors.New("sqlite: create refund: mch_id and out_refund_no are required")
	case r.Amount <= 0:
		return fmt.Errorf("sqlite: create refund %s: amount %d fen, want more than 0", r.OutRefundNo, r.Amount)
	}
	return nil
}

// refundAllowed checks a new refund of amount fen of an order in state
// of total fen whose refunds not CLOSED or ABNORMAL hold held fen.
func refundAllowed(state store.TradeState, total, held, amount int64) error {
	if state != store.TradeStateSuccess && state != store.TradeStateRefund {
		return fmt.Errorf("order is %s: %w", state, store.ErrState)
	}
	if held+amount > total {
		return fmt.Errorf("%d fen with %d refunded or refunding exceeds the order's %d: %w", amount, held, total, store.ErrState)
	}
	return nil
}

// checkAnnounce checks the announce job of a transition.
func checkAnnounce(j *store.Job) error {
	if j != nil && (j.Kind == "" || j.Key == "") {
		return errors.New("announce job: kind and key are required")
	}
	return nil
}

// checkPaymentArgs checks what ApplyPayment requires of its arguments.
func checkPaymentArgs(p *store.Payment, announce *store.Job) error {
	switch {
	case p == nil || p.MchID == "" || p.OutTradeNo == "":
		return errors.New("sqlite: apply payment: mch_id and out_trade_no are required")
	case !knownTradeState(p.State):
		return fmt.Errorf("sqlite: apply payment to %s: unknown state %q", p.OutTradeNo, p.State)
	}
	if err := checkAnnounce(announce); err != nil {
		return fmt.Errorf("sqlite: apply payment to %s: %w", p.OutTradeNo, err)
	}
	return nil
}

// paymentTransition decides what p does to the order o: change is true
// when o must move to p.State. A mismatch (AppID, Amount, or another
// TransactionID than the order's) is store.ErrMismatch; an order in
// p.State, or a REFUND order told SUCCESS, is a repeat; an open order
// moves to any state but REFUND; anything else is store.ErrState.
func paymentTransition(o *store.Order, p *store.Payment) (change bool, err error) {
	if p.AppID != o.AppID || p.Amount != o.Amount ||
		(o.TransactionID != "" && p.TransactionID != "" && p.TransactionID != o.TransactionID) {
		return false, store.ErrMismatch
	}
	switch {
	case o.State == p.State, o.State == store.TradeStateRefund && p.State == store.TradeStateSuccess:
		return false, nil
	case o.State.Open() && p.State != store.TradeStateRefund:
		return true, nil
	}
	return false, fmt.Errorf("%s order told %s: %w", o.State, p.State, store.ErrState)
}

// checkRefundArgs checks what ApplyRefund requires of its arguments.
func checkRefundArgs(res *store.RefundResult, announce *store.Job) error {
	switch {
	case res == nil || res.MchID == "" || res.OutRefundNo == "":
		return errors.New("sqlite: apply refund: mch_id and out_refund_no are required")
	case !knownRefundState(res.State):
		return fmt.Errorf("sqlite: apply refund %s: unknown state %q", res.OutRefundNo, res.State)
	}
	if err := checkAnnounce(announce); err != nil {
		return fmt.Errorf("sqlite: apply refund %s: %w", res.OutRefundNo, err)
	}
	return nil
}

// refundTransition decides what res does to the refund r: change is true
// when r must move to res.State. A mismatch (OutTradeNo, Amount, or
// another RefundID than the refund's) is store.ErrMismatch; a refund in
// res.State is a repeat; a PROCESSING refund moves to a final state;
// anything else is store.ErrState.
func refundTransition(r *store.Refund, res *store.RefundResult) (change bool, err error) {
	if res.OutTradeNo != r.OutTradeNo || res.Amount != r.Amount ||
		(r.RefundID != "" && res.RefundID != "" && res.RefundID != r.RefundID) {
		return false, store.ErrMismatch
	}
	switch {
	case r.State == res.State:
		return false, nil
	case r.State == store.RefundStateProcessing:
		return true, nil
	}
	return false, fmt.Errorf("%s refund told %s: %w", r.State, res.State, store.ErrState)
}

// refundable checks that the order o may take the success of refund r: it
// is paid and its refunds stay within its amount (CreateRefund ensures
// both; this guards the money all the same).
func refundable(o *store.Order, r *store.Refund) error {
	if (o.State != store.TradeStateSuccess && o.State != store.TradeStateRefund) || o.Refunded+r.Amount > o.Amount {
		return fmt.Errorf("order %s is %s with %d of %d fen refunded: %w", o.OutTradeNo, o.State, o.Refunded, o.Amount, store.ErrState)
	}
	return nil
}
