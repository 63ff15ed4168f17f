package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wxkit/wxkit/store"
)

// payTables are the orders and refunds of a Store, guarded by its mutex.
type payTables struct {
	orders  map[[2]string]*store.Order  // by (mch_id, out_trade_no)
	prepay  map[[2]string]string        // (mch_id, prepay_id) → out_trade_no
	refunds map[[2]string]*store.Refund // by (mch_id, out_refund_no)
}

// ms truncates t to the millisecond, the precision the stores keep.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// CreateOrder implements store.Orders. MchID and OutTradeNo are required,
// Amount must be positive and Refunded within [0, Amount]; an empty State
// becomes NOTPAY (in o too).
func (s *Store) CreateOrder(_ context.Context, o *store.Order) error {
	if err := checkNewOrder(o); err != nil {
		return err
	}
	if o.State == "" {
		o.State = store.TradeStateNotPay
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pay.orders == nil {
		s.pay.orders, s.pay.prepay = make(map[[2]string]*store.Order), make(map[[2]string]string)
	}
	k := [2]string{o.MchID, o.OutTradeNo}
	if _, ok := s.pay.orders[k]; ok {
		return fmt.Errorf("memory: create order %s: %w", o.OutTradeNo, store.ErrConflict)
	}
	if o.PrepayID != "" {
		pk := [2]string{o.MchID, o.PrepayID}
		if _, ok := s.pay.prepay[pk]; ok {
			return fmt.Errorf("memory: create order %s: prepay_id of another order: %w", o.OutTradeNo, store.ErrConflict)
		}
		s.pay.prepay[pk] = o.OutTradeNo
	}
	c := *o
	c.Created, c.Updated, c.PaidAt = ms(c.Created), ms(c.Updated), ms(c.PaidAt)
	s.pay.orders[k] = &c
	return nil
}

// checkNewOrder checks the fields CreateOrder requires.
func checkNewOrder(o *store.Order) error {
	switch {
	case o == nil || o.MchID == "" || o.OutTradeNo == "":
		return errors.New("memory: create order: mch_id and out_trade_no are required")
	case o.Amount <= 0:
		return fmt.Errorf("memory: create order %s: amount %d fen, want more than 0", o.OutTradeNo, o.Amount)
	case o.Refunded < 0 || o.Refunded > o.Amount:
		return fmt.Errorf("memory: create order %s: refunded %d fen of %d", o.OutTradeNo, o.Refunded, o.Amount)
	case o.State != "" && !knownTradeState(o.State):
		return fmt.Errorf("memory: create order %s: unknown state %q", o.OutTradeNo, o.State)
	}
	return nil
}

// Order implements store.Orders.
func (s *Store) Order(_ context.Context, mchID, outTradeNo string) (*store.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.pay.orders[[2]string{mchID, outTradeNo}]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *o
	return &c, nil
}

// OrderByPrepayID implements store.Orders. An empty prepayID is
// store.ErrNotFound.
func (s *Store) OrderByPrepayID(_ context.Context, mchID, prepayID string) (*store.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	no, ok := s.pay.prepay[[2]string{mchID, prepayID}]
	if !ok || prepayID == "" {
		return nil, store.ErrNotFound
	}
	c := *s.pay.orders[[2]string{mchID, no}]
	return &c, nil
}

// SetPrepayID implements store.Orders: it sets PrepayID and Updated (at),
// in any state. A prepay_id that another order of mchID holds is
// store.ErrConflict; an unknown order store.ErrNotFound.
func (s *Store) SetPrepayID(_ context.Context, mchID, outTradeNo, prepayID string, at time.Time) error {
	if prepayID == "" {
		return errors.New("memory: set prepay_id: empty prepay_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.pay.orders[[2]string{mchID, outTradeNo}]
	if !ok {
		return fmt.Errorf("memory: set prepay_id of %s: %w", outTradeNo, store.ErrNotFound)
	}
	pk := [2]string{mchID, prepayID}
	if no, ok := s.pay.prepay[pk]; ok && no != outTradeNo {
		return fmt.Errorf("memory: set prepay_id of %s: held by another order: %w", outTradeNo, store.ErrConflict)
	}
	delete(s.pay.prepay, [2]string{mchID, o.PrepayID})
	s.pay.prepay[pk] = outTradeNo
	o.PrepayID, o.Updated = prepayID, ms(at)
	return nil
}

// ApplyPayment implements store.Orders, under the store's mutex: the check
// and the change of the order and the enqueueing of announce are one step.
func (s *Store) ApplyPayment(_ context.Context, p *store.Payment, announce *store.Job) (bool, error) {
	if err := checkPaymentArgs(p, announce); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.pay.orders[[2]string{p.MchID, p.OutTradeNo}]
	if !ok {
		return false, fmt.Errorf("memory: apply payment to %s: %w", p.OutTradeNo, store.ErrNotFound)
	}
	change, err := paymentTransition(o, p)
	if err != nil || !change {
		return false, err
	}
	o.State, o.Updated = p.State, ms(p.At)
	if p.TransactionID != "" {
		o.TransactionID = p.TransactionID
	}
	if p.State == store.TradeStateSuccess {
		o.PaidAt = ms(p.At)
	}
	if announce != nil {
		s.enqueueLocked(announce)
	}
	return true, nil
}

// Orders implements store.Orders.
func (s *Store) Orders(_ context.Context, q store.OrderQuery) ([]*store.Order, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	before := ms(q.CreatedBefore)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*store.Order
	for _, o := range s.pay.orders {
		if (q.MchID != "" && o.MchID != q.MchID) || (q.AppID != "" && o.AppID != q.AppID) ||
			(q.OpenID != "" && o.OpenID != q.OpenID) || (len(q.States) > 0 && !slices.Contains(q.States, o.State)) ||
			(!q.CreatedBefore.IsZero() && !o.Created.Before(before)) {
			continue
		}
		c := *o
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *store.Order) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.MchID, a.MchID), cmp.Compare(b.OutTradeNo, a.OutTradeNo))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CreateRefund implements store.Orders: under the store's mutex it checks
// the refund against its order and the order's other refunds, and stores
// it PROCESSING (in r too). OutRefundNo is required and Amount must be
// positive.
func (s *Store) CreateRefund(_ context.Context, r *store.Refund) error {
	if r == nil || r.MchID == "" || r.OutRefundNo == "" {
		return errors.New("memory: create refund: mch_id and out_refund_no are required")
	}
	if r.Amount <= 0 {
		return fmt.Errorf("memory: create refund %s: amount %d fen, want more than 0", r.OutRefundNo, r.Amount)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{r.MchID, r.OutRefundNo}
	if _, ok := s.pay.refunds[k]; ok {
		return fmt.Errorf("memory: create refund %s: %w", r.OutRefundNo, store.ErrConflict)
	}
	o, ok := s.pay.orders[[2]string{r.MchID, r.OutTradeNo}]
	if !ok {
		return fmt.Errorf("memory: create refund %s: order %s: %w", r.OutRefundNo, r.OutTradeNo, store.ErrNotFound)
	}
	if o.State != store.TradeStateSuccess && o.State != store.TradeStateRefund {
		return fmt.Errorf("memory: create refund %s: order %s is %s: %w", r.OutRefundNo, r.OutTradeNo, o.State, store.ErrState)
	}
	var held int64
	for _, x := range s.pay.refunds {
		if x.MchID == r.MchID && x.OutTradeNo == r.OutTradeNo && refundHolds(x.State) {
			held += x.Amount
		}
	}
	if held+r.Amount > o.Amount {
		return fmt.Errorf("memory: create refund %s: %d fen with %d refunded or refunding exceeds the order's %d: %w",
			r.OutRefundNo, r.Amount, held, o.Amount, store.ErrState)
	}
	if s.pay.refunds == nil {
		s.pay.refunds = make(map[[2]string]*store.Refund)
	}
	r.State = store.RefundStateProcessing
	c := *r
	c.Created, c.Updated = ms(c.Created), ms(c.Updated)
	s.pay.refunds[k] = &c
	return nil
}

// Refund implements store.Orders.
func (s *Store) Refund(_ context.Context, mchID, outRefundNo string) (*store.Refund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pay.refunds[[2]string{mchID, outRefundNo}]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *r
	return &c, nil
}

// ApplyRefund implements store.Orders, under the store's mutex.
func (s *Store) ApplyRefund(_ context.Context, res *store.RefundResult, announce *store.Job) (bool, error) {
	if err := checkRefundArgs(res, announce); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pay.refunds[[2]string{res.MchID, res.OutRefundNo}]
	if !ok {
		return false, fmt.Errorf("memory: apply refund %s: %w", res.OutRefundNo, store.ErrNotFound)
	}
	change, err := refundTransition(r, res)
	if err != nil || !change {
		return false, err
	}
	at := ms(res.At)
	if res.State == store.RefundStateSuccess {
		o := s.pay.orders[[2]string{r.MchID, r.OutTradeNo}]
		if err := refundable(o, r); err != nil {
			return false, err
		}
		o.Refunded += r.Amount
		o.State, o.Updated = store.TradeStateRefund, at
	}
	r.State, r.Updated = res.State, at
	if res.RefundID != "" {
		r.RefundID = res.RefundID
	}
	if announce != nil {
		s.enqueueLocked(announce)
	}
	return true, nil
}

// The rules below are those of store.Orders; store/sqlite and
// store/postgres apply the same ones inside their transactions.

// knownTradeState reports whether st is one of the platform's trade states.
func knownTradeState(st store.TradeState) bool {
	switch st {
	case store.TradeStateNotPay, store.TradeStateUserPaying, store.TradeStateSuccess, store.TradeStateRefund,
		store.TradeStateClosed, store.TradeStatePayError, store.TradeStateRevoked:
		return true
	}
	return false
}

// refundHolds reports whether a refund in state st counts against its
// order's amount: it has succeeded or may still succeed.
func refundHolds(st store.RefundState) bool {
	return st != store.RefundStateClosed && st != store.RefundStateAbnormal
}

// checkPaymentArgs checks what ApplyPayment requires of its arguments.
func checkPaymentArgs(p *store.Payment, announce *store.Job) error {
	switch {
	case p == nil || p.MchID == "" || p.OutTradeNo == "":
		return errors.New("memory: apply payment: mch_id and out_trade_no are required")
	case !knownTradeState(p.State):
		return fmt.Errorf("memory: apply payment to %s: unknown state %q", p.OutTradeNo, p.State)
	case announce != nil && (announce.Kind == "" || announce.Key == ""):
		return fmt.Errorf("memory: apply payment to %s: announce job: kind and key are required", p.OutTradeNo)
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
		return false, fmt.Errorf("memory: apply payment to %s: %w", o.OutTradeNo, store.ErrMismatch)
	}
	switch {
	case o.State == p.State, o.State == store.TradeStateRefund && p.State == store.TradeStateSuccess:
		return false, nil
	case o.State.Open() && p.State != store.TradeStateRefund:
		return true, nil
	}
	return false, fmt.Errorf("memory: apply payment to %s: %s order told %s: %w", o.OutTradeNo, o.State, p.State, store.ErrState)
}

// checkRefundArgs checks what ApplyRefund requires of its arguments.
func checkRefundArgs(res *store.RefundResult, announce *store.Job) error {
	switch {
	case res == nil || res.MchID == "" || res.OutRefundNo == "":
		return errors.New("memory: apply refund: mch_id and out_refund_no are required")
	case res.State != store.RefundStateProcessing && res.State != store.RefundStateSuccess &&
		res.State != store.RefundStateClosed && res.State != store.RefundStateAbnormal:
		return fmt.Errorf("memory: apply refund %s: unknown state %q", res.OutRefundNo, res.State)
	case announce != nil && (announce.Kind == "" || announce.Key == ""):
		return fmt.Errorf("memory: apply refund %s: announce job: kind and key are required", res.OutRefundNo)
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
		return false, fmt.Errorf("memory: apply refund %s: %w", r.OutRefundNo, store.ErrMismatch)
	}
	switch {
	case r.State == res.State:
		return false, nil
	case r.State == store.RefundStateProcessing:
		return true, nil
	}
	return false, fmt.Errorf("memory: apply refund %s: %s refund told %s: %w", r.OutRefundNo, r.State, res.State, store.ErrState)
}

// refundable checks that the order o may take the success of refund r: it
// is paid and its refunds stay within its amount (CreateRefund ensures
// both; this guards the money all the same).
func refundable(o *store.Order, r *store.Refund) error {
	if o == nil {
		return fmt.Errorf("memory: apply refund %s: order %s: %w", r.OutRefundNo, r.OutTradeNo, store.ErrNotFound)
	}
	if (o.State != store.TradeStateSuccess && o.State != store.TradeStateRefund) || o.Refunded+r.Amount > o.Amount {
		return fmt.Errorf("memory: apply refund %s: order %s is %s with %d of %d fen refunded: %w",
			r.OutRefundNo, o.OutTradeNo, o.State, o.Refunded, o.Amount, store.ErrState)
	}
	return nil
}
