package store

import (
	"errors"
	"fmt"
)

// The rules of Orders, in one place: every backend applies them inside its
// transactions, so that memory, SQLite and PostgreSQL decide alike.

// KnownTradeState reports whether st is one of the platform's trade states.
func KnownTradeState(st TradeState) bool {
	switch st {
	case TradeStateNotPay, TradeStateUserPaying, TradeStateSuccess, TradeStateRefund,
		TradeStateClosed, TradeStatePayError, TradeStateRevoked:
		return true
	}
	return false
}

// KnownRefundState reports whether st is one of the platform's refund
// states.
func KnownRefundState(st RefundState) bool {
	switch st {
	case RefundStateProcessing, RefundStateSuccess, RefundStateClosed, RefundStateAbnormal:
		return true
	}
	return false
}

// CheckNewOrder checks the fields CreateOrder requires.
func CheckNewOrder(o *Order) error {
	switch {
	case o == nil || o.MchID == "" || o.OutTradeNo == "":
		return errors.New("store: create order: mch_id and out_trade_no are required")
	case o.Amount <= 0:
		return fmt.Errorf("store: create order %s: amount %d fen, want more than 0", o.OutTradeNo, o.Amount)
	case o.Refunded < 0 || o.Refunded > o.Amount:
		return fmt.Errorf("store: create order %s: refunded %d fen of %d", o.OutTradeNo, o.Refunded, o.Amount)
	case o.State != "" && !KnownTradeState(o.State):
		return fmt.Errorf("store: create order %s: unknown state %q", o.OutTradeNo, o.State)
	}
	return nil
}

// CheckNewRefund checks the fields CreateRefund requires.
func CheckNewRefund(r *Refund) error {
	switch {
	case r == nil || r.MchID == "" || r.OutRefundNo == "":
		return errors.New("store: create refund: mch_id and out_refund_no are required")
	case r.Amount <= 0:
		return fmt.Errorf("store: create refund %s: amount %d fen, want more than 0", r.OutRefundNo, r.Amount)
	}
	return nil
}

// RefundAllowed checks a new refund of amount fen of an order in state
// of total fen whose refunds not CLOSED or ABNORMAL hold held fen.
func RefundAllowed(state TradeState, total, held, amount int64) error {
	if state != TradeStateSuccess && state != TradeStateRefund {
		return fmt.Errorf("order is %s: %w", state, ErrState)
	}
	if held+amount > total {
		return fmt.Errorf("%d fen with %d refunded or refunding exceeds the order's %d: %w", amount, held, total, ErrState)
	}
	return nil
}

// checkAnnounce checks the announce job of a transition.
func checkAnnounce(j *Job) error {
	if j != nil && (j.Kind == "" || j.Key == "") {
		return errors.New("announce job: kind and key are required")
	}
	return nil
}

// CheckPayment checks what ApplyPayment requires of its arguments.
func CheckPayment(p *Payment, announce *Job) error {
	switch {
	case p == nil || p.MchID == "" || p.OutTradeNo == "":
		return errors.New("store: apply payment: mch_id and out_trade_no are required")
	case !KnownTradeState(p.State):
		return fmt.Errorf("store: apply payment to %s: unknown state %q", p.OutTradeNo, p.State)
	}
	if err := checkAnnounce(announce); err != nil {
		return fmt.Errorf("store: apply payment to %s: %w", p.OutTradeNo, err)
	}
	return nil
}

// PaymentTransition decides what p does to the order o: change is true
// when o must move to p.State. A mismatch (AppID, Amount, or another
// TransactionID than the order's) is ErrMismatch; an order in
// p.State, or a REFUND order told SUCCESS, is a repeat; an open order
// moves to any state but REFUND; anything else is ErrState.
func PaymentTransition(o *Order, p *Payment) (change bool, err error) {
	if p.AppID != o.AppID || p.Amount != o.Amount ||
		(o.TransactionID != "" && p.TransactionID != "" && p.TransactionID != o.TransactionID) {
		return false, ErrMismatch
	}
	switch {
	case o.State == p.State, o.State == TradeStateRefund && p.State == TradeStateSuccess:
		return false, nil
	case o.State.Open() && p.State != TradeStateRefund:
		return true, nil
	}
	return false, fmt.Errorf("%s order told %s: %w", o.State, p.State, ErrState)
}

// CheckRefundResult checks what ApplyRefund requires of its arguments.
func CheckRefundResult(res *RefundResult, announce *Job) error {
	switch {
	case res == nil || res.MchID == "" || res.OutRefundNo == "":
		return errors.New("store: apply refund: mch_id and out_refund_no are required")
	case !KnownRefundState(res.State):
		return fmt.Errorf("store: apply refund %s: unknown state %q", res.OutRefundNo, res.State)
	}
	if err := checkAnnounce(announce); err != nil {
		return fmt.Errorf("store: apply refund %s: %w", res.OutRefundNo, err)
	}
	return nil
}

// RefundTransition decides what res does to the refund r: change is true
// when r must move to res.State. A mismatch (OutTradeNo, Amount, or
// another RefundID than the refund's) is ErrMismatch; a refund in
// res.State is a repeat; a PROCESSING refund moves to a final state;
// anything else is ErrState.
func RefundTransition(r *Refund, res *RefundResult) (change bool, err error) {
	if res.OutTradeNo != r.OutTradeNo || res.Amount != r.Amount ||
		(r.RefundID != "" && res.RefundID != "" && res.RefundID != r.RefundID) {
		return false, ErrMismatch
	}
	switch {
	case r.State == res.State:
		return false, nil
	case r.State == RefundStateProcessing:
		return true, nil
	}
	return false, fmt.Errorf("%s refund told %s: %w", r.State, res.State, ErrState)
}

// Refundable checks that the order o may take the success of refund r: it
// is paid and its refunds stay within its amount (CreateRefund ensures
// both; this guards the money all the same).
func Refundable(o *Order, r *Refund) error {
	if (o.State != TradeStateSuccess && o.State != TradeStateRefund) || o.Refunded+r.Amount > o.Amount {
		return fmt.Errorf("order %s is %s with %d of %d fen refunded: %w", o.OutTradeNo, o.State, o.Refunded, o.Amount, ErrState)
	}
	return nil
}
