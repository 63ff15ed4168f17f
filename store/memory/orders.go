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
	if err := store.CheckNewOrder(o); err != nil {
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
	if err := store.CheckPayment(p, announce); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.pay.orders[[2]string{p.MchID, p.OutTradeNo}]
	if !ok {
		return false, fmt.Errorf("memory: apply payment to %s: %w", p.OutTradeNo, store.ErrNotFound)
	}
	change, err := store.PaymentTransition(o, p)
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

// Refunds implements store.Orders: newest Created first (then MchID and
// OutRefundNo, descending).
func (s *Store) Refunds(_ context.Context, q store.RefundQuery) ([]*store.Refund, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	created, updated := ms(q.CreatedBefore), ms(q.UpdatedBefore)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*store.Refund
	for _, r := range s.pay.refunds {
		if (q.MchID != "" && r.MchID != q.MchID) || (len(q.States) > 0 && !slices.Contains(q.States, r.State)) ||
			(!q.CreatedBefore.IsZero() && !r.Created.Before(created)) ||
			(!q.UpdatedBefore.IsZero() && !r.Updated.Before(updated)) {
			continue
		}
		c := *r
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *store.Refund) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.MchID, a.MchID), cmp.Compare(b.OutRefundNo, a.OutRefundNo))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ApplyRefund implements store.Orders, under the store's mutex.
func (s *Store) ApplyRefund(_ context.Context, res *store.RefundResult, announce *store.Job) (bool, error) {
	if err := store.CheckRefundResult(res, announce); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.pay.refunds[[2]string{res.MchID, res.OutRefundNo}]
	if !ok {
		return false, fmt.Errorf("memory: apply refund %s: %w", res.OutRefundNo, store.ErrNotFound)
	}
	change, err := store.RefundTransition(r, res)
	if err != nil || !change {
		return false, err
	}
	at := ms(res.At)
	if res.State == store.RefundStateSuccess {
		o := s.pay.orders[[2]string{r.MchID, r.OutTradeNo}]
		if err := store.Refundable(o, r); err != nil {
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

// refundHolds reports whether a refund in state st counts against its
// order's amount: it has succeeded or may still succeed.
func refundHolds(st store.RefundState) bool {
	return st != store.RefundStateClosed && st != store.RefundStateAbnormal
}
