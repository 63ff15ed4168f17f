package store

import (
	"context"
	"errors"
	"time"
)

// TradeState is the state of a WeChat Pay order, with the platform's names
// (trade_state).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type TradeState string

// Trade states. An order starts NOTPAY; SUCCESS, CLOSED, PAYERROR and
// REVOKED end it; a SUCCESS order becomes REFUND once a refund succeeds.
const (
	TradeStateNotPay     TradeState = "NOTPAY"
	TradeStateUserPaying TradeState = "USERPAYING"
	TradeStateSuccess    TradeState = "SUCCESS"
	TradeStateRefund     TradeState = "REFUND"
	TradeStateClosed     TradeState = "CLOSED"
	TradeStatePayError   TradeState = "PAYERROR"
	TradeStateRevoked    TradeState = "REVOKED"
)

// Open reports whether an order in state s may still be paid.
func (s TradeState) Open() bool { return s == TradeStateNotPay || s == TradeStateUserPaying }

// RefundState is the state of a refund, with the platform's names.
type RefundState string

// Refund states: a refund starts PROCESSING and ends SUCCESS, CLOSED or
// ABNORMAL.
const (
	RefundStateProcessing RefundState = "PROCESSING"
	RefundStateSuccess    RefundState = "SUCCESS"
	RefundStateClosed     RefundState = "CLOSED"
	RefundStateAbnormal   RefundState = "ABNORMAL"
)

// Order is a WeChat Pay order of the gateway: who pays (OpenID of AppID),
// whom (MchID), how much (Amount, fen), and where it stands.
type Order struct {
	MchID         string     `json:"mch_id"`
	OutTradeNo    string     `json:"out_trade_no"` // unique per MchID
	AppID         string     `json:"appid"`
	OpenID        string     `json:"openid"`
	Version       string     `json:"version"` // "v2" or "v3": the API the order was placed with
	Description   string     `json:"description"`
	Amount        int64      `json:"amount"` // fen
	State         TradeState `json:"state"`
	PrepayID      string     `json:"prepay_id,omitempty"`
	TransactionID string     `json:"transaction_id,omitempty"`
	Refunded      int64      `json:"refunded"` // fen, of refunds that succeeded
	Created       time.Time  `json:"created"`
	Updated       time.Time  `json:"updated"`
	PaidAt        time.Time  `json:"paid_at,omitzero"`
}

// Payment is what the platform says about an order (a verified notify or a
// query): the state it is in, with the identifiers and amount that must
// match the order.
type Payment struct {
	MchID         string
	OutTradeNo    string
	AppID         string
	Amount        int64 // fen, the order's total as the platform has it
	State         TradeState
	TransactionID string
	At            time.Time // when the platform says it happened (paid_at for SUCCESS)
}

// Refund is a refund of an order.
type Refund struct {
	MchID       string      `json:"mch_id"`
	OutRefundNo string      `json:"out_refund_no"` // unique per MchID
	OutTradeNo  string      `json:"out_trade_no"`
	Amount      int64       `json:"amount"` // fen
	Reason      string      `json:"reason,omitempty"`
	State       RefundState `json:"state"`
	RefundID    string      `json:"refund_id,omitempty"` // the platform's
	Created     time.Time   `json:"created"`
	Updated     time.Time   `json:"updated"`
}

// RefundResult is what the platform says about a refund (a verified refund
// notify or a query).
type RefundResult struct {
	MchID       string
	OutRefundNo string
	OutTradeNo  string
	Amount      int64 // fen
	State       RefundState
	RefundID    string
	At          time.Time
}

// OrderQuery selects orders: those of MchID, AppID and OpenID when set,
// in one of States when set, created before CreatedBefore when not zero;
// newest first, at most Limit (0 means 100).
type OrderQuery struct {
	MchID         string
	AppID         string
	OpenID        string
	States        []TradeState
	CreatedBefore time.Time
	Limit         int
}

// RefundQuery selects refunds: those of MchID when set, in one of States
// when set, created before CreatedBefore and last updated before
// UpdatedBefore when not zero; newest first (by Created), at most Limit
// (0 means 100). A refund left PROCESSING, its notify lost, is found with
// States {PROCESSING} and an UpdatedBefore some minutes ago.
type RefundQuery struct {
	MchID         string
	States        []RefundState
	CreatedBefore time.Time
	UpdatedBefore time.Time
	Limit         int
}

// ErrMismatch is returned when what the platform says (a notify, a query)
// does not match the stored order or refund: another AppID, amount or
// order. Nothing is changed.
var ErrMismatch = errors.New("store: does not match the stored order")

// ErrState is returned when a transition is not allowed from the state the
// order or refund is in (a payment for a closed order, a refund of an
// unpaid one, more refunded than paid). Nothing is changed.
var ErrState = errors.New("store: not allowed in the current state")

// Orders keeps WeChat Pay orders and their refunds. Every change that
// money depends on happens in one transaction, together with the outbox
// job that announces it (announce), so that an event is enqueued exactly
// when its change is made: a repeated notify changes nothing and enqueues
// nothing, and 200 concurrent copies of one notify, on any number of
// instances, make one change and one job.
type Orders interface {
	// CreateOrder stores o (State NotPay unless set; Created/Updated as
	// given). An existing (MchID, OutTradeNo) is ErrConflict.
	CreateOrder(ctx context.Context, o *Order) error
	// Order returns the order, or ErrNotFound.
	Order(ctx context.Context, mchID, outTradeNo string) (*Order, error)
	// OrderByPrepayID returns the order of a prepay_id, or ErrNotFound.
	OrderByPrepayID(ctx context.Context, mchID, prepayID string) (*Order, error)
	// SetPrepayID records the prepay_id the platform gave the order.
	SetPrepayID(ctx context.Context, mchID, outTradeNo, prepayID string, at time.Time) error
	// ApplyPayment brings the order to p.State in one transaction: it
	// checks that p.AppID and p.Amount match the order (ErrMismatch), and
	// then, when the order is open, sets State, TransactionID and (for
	// SUCCESS) PaidAt, and enqueues announce (when not nil) in the same
	// transaction, returning changed true. An order already in p.State is
	// a repeat: nothing changes, changed is false, no error. Any other
	// state (a SUCCESS for a CLOSED order) is ErrState. An unknown order is
	// ErrNotFound.
	ApplyPayment(ctx context.Context, p *Payment, announce *Job) (changed bool, err error)
	// Orders lists the orders q selects.
	Orders(ctx context.Context, q OrderQuery) ([]*Order, error)
	// CreateRefund stores r (State Processing) if the order is SUCCESS or
	// REFUND and its refunds not CLOSED or ABNORMAL, with r, do not exceed
	// its amount (ErrState otherwise); an existing (MchID, OutRefundNo) is
	// ErrConflict; an unknown order ErrNotFound. One transaction.
	CreateRefund(ctx context.Context, r *Refund) error
	// Refund returns the refund, or ErrNotFound.
	Refund(ctx context.Context, mchID, outRefundNo string) (*Refund, error)
	// Refunds lists the refunds q selects.
	Refunds(ctx context.Context, q RefundQuery) ([]*Refund, error)
	// ApplyRefund brings the refund to res.State in one transaction (res's
	// OutTradeNo and Amount must match: ErrMismatch): from PROCESSING to
	// SUCCESS it adds the amount to the order's Refunded and sets the
	// order REFUND; to CLOSED or ABNORMAL it only records the state. It
	// enqueues announce (when not nil) in the same transaction and returns
	// changed true; a refund already in res.State is a repeat (changed
	// false); another final state is ErrState.
	ApplyRefund(ctx context.Context, res *RefundResult, announce *Job) (changed bool, err error)
}
