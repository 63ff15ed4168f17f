package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/store"
)

// OrdersAndOutbox is what TestOrders checks: the orders of a backend, and
// the outbox through which it reads the jobs that their transitions
// announce.
type OrdersAndOutbox interface {
	store.Orders
	store.Outbox
}

// ordersApp is the AppID of the suite's orders.
const ordersApp = "wx_orders_a"

// TestOrders checks a store.Orders: creation and conflicts, lookups by
// out_trade_no and prepay_id, payments (transitions, repeats, mismatches,
// states that forbid them) with their announce job, queries, refunds (the
// refundable amount, transitions, repeats, mismatches), times at
// millisecond precision, and concurrency: 200 goroutines applying one
// payment or one refund result make one change and one job, and
// concurrent refunds never exceed the order's amount.
//
// Announce jobs are read back with ClaimJobs of the kind the suite gave
// them, so that a job enqueued outside the transaction of its change, or
// for a change that was not made, is seen.
func TestOrders(t *testing.T, newStore func(t *testing.T) OrdersAndOutbox) {
	t.Helper()

	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		mch := unique("mch")
		o := newOrder(mch, 100)
		// Sub-millisecond parts: the store keeps milliseconds.
		o.Created = base.Add(1234567 * time.Nanosecond)
		o.Updated = o.Created.Add(time.Second)
		want := *o
		mustNoErr(t, "CreateOrder", s.CreateOrder(t.Context(), o))
		if o.State != store.TradeStateNotPay {
			t.Errorf("CreateOrder left State %q, want it set to NOTPAY", o.State)
		}
		want.State = store.TradeStateNotPay
		got, err := s.Order(t.Context(), mch, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("Order() mismatch (-created +read):\n%s", diff)
		}
		// The store keeps its own copy.
		o.Amount, o.Description = 1, "changed"
		got, err = s.Order(t.Context(), mch, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		if got.Amount != 100 || got.Description != want.Description {
			t.Errorf("Order() after the caller changed its struct = %+v, want the stored order", got)
		}

		dup := newOrder(mch, 5)
		dup.OutTradeNo = o.OutTradeNo
		if err := s.CreateOrder(t.Context(), dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateOrder(existing out_trade_no) error = %v, want store.ErrConflict", err)
		}
		if got, _ := s.Order(t.Context(), mch, o.OutTradeNo); got == nil || got.Amount != 100 {
			t.Errorf("Order() after a conflicting CreateOrder = %+v, want the first order", got)
		}
		// out_trade_no is unique per merchant only.
		other := newOrder(unique("mch"), 7)
		other.OutTradeNo = o.OutTradeNo
		mustNoErr(t, "CreateOrder(same out_trade_no, other merchant)", s.CreateOrder(t.Context(), other))
		if got, err := s.Order(t.Context(), other.MchID, o.OutTradeNo); err != nil || got.Amount != 7 {
			t.Errorf("Order(other merchant) = %+v, %v; want its own order", got, err)
		}

		// A state given at creation is kept.
		paying := newOrder(mch, 3)
		paying.State = store.TradeStateUserPaying
		mustNoErr(t, "CreateOrder(USERPAYING)", s.CreateOrder(t.Context(), paying))
		if got, err := s.Order(t.Context(), mch, paying.OutTradeNo); err != nil || got.State != store.TradeStateUserPaying {
			t.Errorf("Order(created USERPAYING) = %+v, %v; want state USERPAYING", got, err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		for name, err := range map[string]error{
			"Order(unknown)":                 second(s.Order(t.Context(), o.MchID, unique("no"))),
			"Order(other merchant)":          second(s.Order(t.Context(), unique("mch"), o.OutTradeNo)),
			"OrderByPrepayID(unknown)":       second(s.OrderByPrepayID(t.Context(), o.MchID, unique("wx"))),
			"OrderByPrepayID(empty)":         second(s.OrderByPrepayID(t.Context(), o.MchID, "")),
			"SetPrepayID(unknown)":           s.SetPrepayID(t.Context(), o.MchID, unique("no"), unique("wx"), base),
			"Refund(unknown)":                second(s.Refund(t.Context(), o.MchID, unique("r"))),
			"ApplyPayment(unknown)":          second(s.ApplyPayment(t.Context(), &store.Payment{MchID: o.MchID, OutTradeNo: unique("no"), AppID: ordersApp, Amount: 100, State: store.TradeStateSuccess}, nil)),
			"CreateRefund(unknown order)":    s.CreateRefund(t.Context(), &store.Refund{MchID: o.MchID, OutRefundNo: unique("r"), OutTradeNo: unique("no"), Amount: 1}),
			"ApplyRefund(unknown refund)":    second(s.ApplyRefund(t.Context(), &store.RefundResult{MchID: o.MchID, OutRefundNo: unique("r"), OutTradeNo: o.OutTradeNo, Amount: 1, State: store.RefundStateSuccess}, nil)),
			"ApplyPayment(other merchant)":   second(s.ApplyPayment(t.Context(), &store.Payment{MchID: unique("mch"), OutTradeNo: o.OutTradeNo, AppID: ordersApp, Amount: 100, State: store.TradeStateSuccess}, nil)),
			"SetPrepayID(other merchant)":    s.SetPrepayID(t.Context(), unique("mch"), o.OutTradeNo, unique("wx"), base),
			"CreateRefund(other merchant's)": s.CreateRefund(t.Context(), &store.Refund{MchID: unique("mch"), OutRefundNo: unique("r"), OutTradeNo: o.OutTradeNo, Amount: 1}),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s error = %v, want store.ErrNotFound", name, err)
			}
		}
		// Nothing was created or changed by the calls on unknown records.
		if got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo); err != nil || got.State != store.TradeStateNotPay || got.PrepayID != "" {
			t.Errorf("Order() after calls on unknown records = %+v, %v; want it unchanged", got, err)
		}
	})

	t.Run("CreateRequires", func(t *testing.T) {
		s := newStore(t)
		for name, mod := range map[string]func(o *store.Order){
			"no mch_id":       func(o *store.Order) { o.MchID = "" },
			"no out_trade_no": func(o *store.Order) { o.OutTradeNo = "" },
			"zero amount":     func(o *store.Order) { o.Amount = 0 },
			"negative amount": func(o *store.Order) { o.Amount = -1 },
		} {
			o := newOrder(unique("mch"), 100)
			mod(o)
			if err := s.CreateOrder(t.Context(), o); err == nil {
				t.Errorf("CreateOrder(%s) = nil, want an error", name)
			}
		}
	})

	t.Run("PrepayID", func(t *testing.T) {
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		if got, err := s.OrderByPrepayID(t.Context(), o.MchID, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OrderByPrepayID(\"\") of an order without prepay_id = %+v, %v; want store.ErrNotFound", got, err)
		}
		at := base.Add(time.Minute + 500*time.Microsecond)
		prepay := unique("wx")
		mustNoErr(t, "SetPrepayID", s.SetPrepayID(t.Context(), o.MchID, o.OutTradeNo, prepay, at))
		want := *o
		want.PrepayID, want.Updated = prepay, at
		got, err := s.OrderByPrepayID(t.Context(), o.MchID, prepay)
		mustNoErr(t, "OrderByPrepayID", err)
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("OrderByPrepayID() mismatch (-want +got):\n%s", diff)
		}
		if got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo); err != nil || got.PrepayID != prepay {
			t.Errorf("Order() after SetPrepayID = %+v, %v; want prepay_id %s", got, err, prepay)
		}
		if _, err := s.OrderByPrepayID(t.Context(), unique("mch"), prepay); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OrderByPrepayID(other merchant) error = %v, want store.ErrNotFound", err)
		}
		// A new prepay_id (the first one expired) replaces the old one.
		prepay2 := unique("wx")
		mustNoErr(t, "SetPrepayID(again)", s.SetPrepayID(t.Context(), o.MchID, o.OutTradeNo, prepay2, at.Add(time.Hour)))
		if _, err := s.OrderByPrepayID(t.Context(), o.MchID, prepay); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OrderByPrepayID(replaced prepay_id) error = %v, want store.ErrNotFound", err)
		}
		if got, err := s.OrderByPrepayID(t.Context(), o.MchID, prepay2); err != nil || got.OutTradeNo != o.OutTradeNo {
			t.Errorf("OrderByPrepayID(new prepay_id) = %+v, %v; want the order", got, err)
		}
		// A prepay_id belongs to one order of a merchant.
		o2 := mustCreate(t, s, newOrder(o.MchID, 5))
		if err := s.SetPrepayID(t.Context(), o.MchID, o2.OutTradeNo, prepay2, at); !errors.Is(err, store.ErrConflict) {
			t.Errorf("SetPrepayID(prepay_id of another order) error = %v, want store.ErrConflict", err)
		}
		if got, err := s.OrderByPrepayID(t.Context(), o.MchID, prepay2); err != nil || got.OutTradeNo != o.OutTradeNo {
			t.Errorf("OrderByPrepayID() after a conflicting SetPrepayID = %+v, %v; want the first order", got, err)
		}
	})

	t.Run("ApplyPaymentSuccess", func(t *testing.T) {
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		kind := unique("on_paid")
		p := paymentOf(o, store.TradeStateSuccess)
		p.At = base.Add(10*time.Minute + 700*time.Microsecond)
		job := announceJob(kind, "paid-1")
		changed, err := s.ApplyPayment(t.Context(), p, job)
		mustNoErr(t, "ApplyPayment", err)
		if !changed {
			t.Fatalf("ApplyPayment(SUCCESS) of a NOTPAY order: changed false, want true")
		}
		if job.ID == 0 {
			t.Errorf("ApplyPayment left the announce job's ID 0, want it set as EnqueueJob does")
		}
		want := *o
		want.State, want.TransactionID, want.PaidAt, want.Updated = store.TradeStateSuccess, p.TransactionID, p.At, p.At
		got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("Order() after ApplyPayment mismatch (-want +got):\n%s", diff)
		}
		jobs := claimAll(t, s, kind)
		if len(jobs) != 1 || jobs[0].ID != job.ID || jobs[0].Key != "paid-1" || string(jobs[0].Payload) != string(job.Payload) {
			t.Fatalf("jobs of kind %s = %+v, want the announce job", kind, jobs)
		}

		// The notify again (WeChat repeats it), with the job a new delivery
		// would announce: nothing changes and nothing is enqueued.
		again := announceJob(kind, "paid-2")
		p2 := *p
		p2.At = p.At.Add(15 * time.Second)
		changed, err = s.ApplyPayment(t.Context(), &p2, again)
		if err != nil || changed {
			t.Errorf("ApplyPayment(repeat) = %v, %v; want false, nil", changed, err)
		}
		if got, _ := s.Order(t.Context(), o.MchID, o.OutTradeNo); got == nil || !sameTime(got.Updated, p.At) || !sameTime(got.PaidAt, p.At) {
			t.Errorf("Order() after a repeat = %+v, want it unchanged", got)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 0 {
			t.Errorf("a repeated payment enqueued %v, want nothing", keysOf(jobs))
		}
		// A repeat without a transaction id (a query that omits it) is a repeat too.
		p3 := *p
		p3.TransactionID = ""
		if changed, err := s.ApplyPayment(t.Context(), &p3, announceJob(kind, "paid-3")); err != nil || changed {
			t.Errorf("ApplyPayment(repeat without transaction_id) = %v, %v; want false, nil", changed, err)
		}
		// Another transaction for a paid order does not match it.
		p4 := *p
		p4.TransactionID = unique("42000")
		if changed, err := s.ApplyPayment(t.Context(), &p4, announceJob(kind, "paid-4")); !errors.Is(err, store.ErrMismatch) || changed {
			t.Errorf("ApplyPayment(paid order, other transaction_id) = %v, %v; want false, store.ErrMismatch", changed, err)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 0 {
			t.Errorf("repeats and mismatches enqueued %v, want nothing", keysOf(jobs))
		}
	})

	t.Run("ApplyPaymentMismatch", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			state store.TradeState // of the order
			mod   func(p *store.Payment)
		}{
			{"amount", store.TradeStateNotPay, func(p *store.Payment) { p.Amount = 1 }},
			{"amount above", store.TradeStateNotPay, func(p *store.Payment) { p.Amount = 101 }},
			{"appid", store.TradeStateNotPay, func(p *store.Payment) { p.AppID = "wx_other" }},
			{"no appid", store.TradeStateNotPay, func(p *store.Payment) { p.AppID = "" }},
			{"amount of a paid order", store.TradeStateSuccess, func(p *store.Payment) { p.Amount = 99 }},
			{"appid of a closed order", store.TradeStateClosed, func(p *store.Payment) {
				p.AppID, p.State = "wx_other", store.TradeStateClosed
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				o := newOrder(unique("mch"), 100)
				o.State = tt.state
				if tt.state == store.TradeStateSuccess {
					o.TransactionID, o.PaidAt = unique("42000"), base
				}
				mustCreate(t, s, o)
				before, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
				mustNoErr(t, "Order", err)
				kind := unique("on_paid")
				p := paymentOf(before, store.TradeStateSuccess)
				tt.mod(p)
				changed, err := s.ApplyPayment(t.Context(), p, announceJob(kind, "paid"))
				if !errors.Is(err, store.ErrMismatch) || changed {
					t.Errorf("ApplyPayment(%s mismatch) = %v, %v; want false, store.ErrMismatch", tt.name, changed, err)
				}
				after, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
				mustNoErr(t, "Order", err)
				if diff := cmp.Diff(before, after, timeMS); diff != "" {
					t.Errorf("a mismatched payment changed the order (-before +after):\n%s", diff)
				}
				if jobs := claimAll(t, s, kind); len(jobs) != 0 {
					t.Errorf("a mismatched payment enqueued %v, want nothing", keysOf(jobs))
				}
			})
		}
	})

	t.Run("ApplyPaymentStates", func(t *testing.T) {
		type outcome int
		const (
			changes outcome = iota
			repeats
			forbidden
		)
		for _, tt := range []struct {
			from, to store.TradeState
			want     outcome
		}{
			{store.TradeStateNotPay, store.TradeStateSuccess, changes},
			{store.TradeStateUserPaying, store.TradeStateSuccess, changes},
			{store.TradeStateNotPay, store.TradeStateUserPaying, changes},
			{store.TradeStateNotPay, store.TradeStateClosed, changes},
			{store.TradeStateUserPaying, store.TradeStateClosed, changes},
			{store.TradeStateNotPay, store.TradeStatePayError, changes},
			{store.TradeStateNotPay, store.TradeStateRevoked, changes},
			{store.TradeStateNotPay, store.TradeStateNotPay, repeats},
			{store.TradeStateClosed, store.TradeStateClosed, repeats},
			{store.TradeStatePayError, store.TradeStatePayError, repeats},
			// A paid order that has been refunded since: a late copy of its
			// payment notify is a repeat.
			{store.TradeStateRefund, store.TradeStateSuccess, repeats},
			{store.TradeStateRefund, store.TradeStateRefund, repeats},
			{store.TradeStateClosed, store.TradeStateSuccess, forbidden},
			{store.TradeStatePayError, store.TradeStateSuccess, forbidden},
			{store.TradeStateRevoked, store.TradeStateSuccess, forbidden},
			{store.TradeStateSuccess, store.TradeStateClosed, forbidden},
			{store.TradeStateSuccess, store.TradeStateNotPay, forbidden},
			// Payments never refund: ApplyRefund does.
			{store.TradeStateSuccess, store.TradeStateRefund, forbidden},
			{store.TradeStateNotPay, store.TradeStateRefund, forbidden},
			{store.TradeStateClosed, store.TradeStatePayError, forbidden},
		} {
			t.Run(fmt.Sprintf("%s_to_%s", tt.from, tt.to), func(t *testing.T) {
				s := newStore(t)
				o := newOrder(unique("mch"), 100)
				o.State = tt.from
				if tt.from == store.TradeStateSuccess || tt.from == store.TradeStateRefund {
					o.TransactionID, o.PaidAt = unique("42000"), base
				}
				if tt.from == store.TradeStateRefund {
					o.Refunded = 10
				}
				mustCreate(t, s, o)
				before, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
				mustNoErr(t, "Order", err)
				kind := unique("announce")
				p := paymentOf(before, tt.to)
				changed, err := s.ApplyPayment(t.Context(), p, announceJob(kind, "k"))
				after, gerr := s.Order(t.Context(), o.MchID, o.OutTradeNo)
				mustNoErr(t, "Order", gerr)
				jobs := claimAll(t, s, kind)
				switch tt.want {
				case changes:
					if err != nil || !changed {
						t.Fatalf("ApplyPayment(%s) of a %s order = %v, %v; want true, nil", tt.to, tt.from, changed, err)
					}
					want := *before
					want.State, want.Updated = tt.to, p.At
					if p.TransactionID != "" {
						want.TransactionID = p.TransactionID
					}
					if tt.to == store.TradeStateSuccess {
						want.PaidAt = p.At
					}
					if diff := cmp.Diff(&want, after, timeMS); diff != "" {
						t.Errorf("order after the transition mismatch (-want +got):\n%s", diff)
					}
					if len(jobs) != 1 {
						t.Errorf("a transition enqueued %v, want one job", keysOf(jobs))
					}
				case repeats, forbidden:
					wantErr := error(nil)
					if tt.want == forbidden {
						wantErr = store.ErrState
					}
					if changed || !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
						t.Errorf("ApplyPayment(%s) of a %s order = %v, %v; want false, %v", tt.to, tt.from, changed, err, wantErr)
					}
					if diff := cmp.Diff(before, after, timeMS); diff != "" {
						t.Errorf("the order changed (-before +after):\n%s", diff)
					}
					if len(jobs) != 0 {
						t.Errorf("no transition, yet enqueued %v; want nothing", keysOf(jobs))
					}
				}
			})
		}
	})

	t.Run("ApplyPaymentWithoutAnnounce", func(t *testing.T) {
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		changed, err := s.ApplyPayment(t.Context(), paymentOf(o, store.TradeStateClosed), nil)
		if err != nil || !changed {
			t.Fatalf("ApplyPayment(CLOSED, no announce) = %v, %v; want true, nil", changed, err)
		}
		if got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo); err != nil || got.State != store.TradeStateClosed {
			t.Errorf("Order() = %+v, %v; want CLOSED", got, err)
		}
	})

	t.Run("AnnounceKeyTaken", func(t *testing.T) {
		// The announce job follows EnqueueJob's rule: a (kind, key) that
		// exists is left as it is; the change is made all the same.
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		kind := unique("on_paid")
		first := &store.Job{Kind: kind, Key: "paid", Payload: []byte(`{"first":true}`), RunAt: base}
		mustNoErr(t, "EnqueueJob", s.EnqueueJob(t.Context(), first))
		job := announceJob(kind, "paid")
		changed, err := s.ApplyPayment(t.Context(), paymentOf(o, store.TradeStateSuccess), job)
		if err != nil || !changed {
			t.Fatalf("ApplyPayment = %v, %v; want true, nil", changed, err)
		}
		if job.ID != first.ID {
			t.Errorf("announce job ID = %d, want the existing job's %d", job.ID, first.ID)
		}
		jobs := claimAll(t, s, kind)
		if len(jobs) != 1 || string(jobs[0].Payload) != `{"first":true}` {
			t.Errorf("jobs = %+v, want the existing job only, unchanged", jobs)
		}
	})

	t.Run("ConcurrentPayments", func(t *testing.T) {
		// 200 copies of one notify at once, as WeChat sends them from
		// several servers to several instances. Each copy announces a job
		// of its own key: only the one that makes the change may enqueue.
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		kind := unique("on_paid")
		const n = 200
		p := paymentOf(o, store.TradeStateSuccess)
		var changedN atomic.Int32
		warmUp(t, s, o)
		burst(n, func(i int) {
			c := *p
			changed, err := s.ApplyPayment(t.Context(), &c, announceJob(kind, fmt.Sprint("paid-", i)))
			if err != nil {
				t.Errorf("concurrent ApplyPayment = %v, want nil", err)
			}
			if changed {
				changedN.Add(1)
			}
		})
		if got := changedN.Load(); got != 1 {
			t.Errorf("%d concurrent copies of one payment: %d reported a change, want exactly 1", n, got)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 1 {
			t.Errorf("%d concurrent copies of one payment enqueued %d jobs, want exactly 1", n, len(jobs))
		}
		if got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo); err != nil || got.State != store.TradeStateSuccess || got.TransactionID != p.TransactionID {
			t.Errorf("Order() = %+v, %v; want SUCCESS with the transaction", got, err)
		}
	})

	t.Run("ConcurrentConflictingPayments", func(t *testing.T) {
		// A close (order timeout) racing the payment notify: one wins, the
		// others are repeats of the winner or forbidden by it.
		s := newStore(t)
		o := mustCreate(t, s, newOrder(unique("mch"), 100))
		kind := unique("announce")
		const n = 100
		var mu sync.Mutex
		results := map[store.TradeState]map[string]int{store.TradeStateSuccess: {}, store.TradeStateClosed: {}}
		warmUp(t, s, o)
		burst(n, func(i int) {
			to := store.TradeStateSuccess
			if i%2 == 1 {
				to = store.TradeStateClosed
			}
			changed, err := s.ApplyPayment(t.Context(), paymentOf(o, to), announceJob(kind, fmt.Sprint("k-", i)))
			res := "repeat"
			switch {
			case changed && err == nil:
				res = "changed"
			case errors.Is(err, store.ErrState):
				res = "forbidden"
			case err != nil:
				t.Errorf("ApplyPayment(%s) = %v", to, err)
				res = "error"
			}
			mu.Lock()
			results[to][res]++
			mu.Unlock()
		})
		got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		winner, loser := got.State, store.TradeStateClosed
		if winner == store.TradeStateClosed {
			loser = store.TradeStateSuccess
		}
		want := map[store.TradeState]map[string]int{winner: {"changed": 1, "repeat": n/2 - 1}, loser: {"forbidden": n / 2}}
		if diff := cmp.Diff(want, results); diff != "" {
			t.Errorf("outcomes of racing SUCCESS and CLOSED (final state %s) mismatch (-want +got):\n%s", winner, diff)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 1 {
			t.Errorf("racing payments enqueued %d jobs, want exactly 1", len(jobs))
		}
	})

	t.Run("Orders", func(t *testing.T) {
		s := newStore(t)
		mch := unique("mch")
		openID := unique("o")
		at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
		mk := func(i int, mch, appID, openID string, state store.TradeState) *store.Order {
			o := newOrder(mch, int64(100+i))
			o.OutTradeNo = fmt.Sprintf("%s-%02d", mch, i)
			o.AppID, o.OpenID, o.State, o.Created, o.Updated = appID, openID, state, at(i), at(i)
			if state == store.TradeStateSuccess {
				o.TransactionID, o.PaidAt = unique("42000"), at(i)
			}
			return mustCreate(t, s, o)
		}
		// Created out of order: the listing sorts by Created.
		o3 := mk(3, mch, ordersApp, openID, store.TradeStateSuccess)
		o1 := mk(1, mch, ordersApp, openID, store.TradeStateNotPay)
		o4 := mk(4, mch, ordersApp, openID, store.TradeStateClosed)
		o2 := mk(2, mch, ordersApp, openID, store.TradeStateUserPaying)
		o5 := mk(5, mch, ordersApp, unique("o"), store.TradeStateNotPay) // another user
		o6 := mk(6, mch, "wx_orders_b", openID, store.TradeStateNotPay)  // same openid, another app
		other := unique("mch")
		o7 := mk(7, other, ordersApp, openID, store.TradeStateNotPay) // another merchant

		for _, tt := range []struct {
			name string
			q    store.OrderQuery
			want []*store.Order
		}{
			{"owner", store.OrderQuery{AppID: ordersApp, OpenID: openID}, []*store.Order{o7, o4, o3, o2, o1}},
			{"owner at merchant", store.OrderQuery{MchID: mch, AppID: ordersApp, OpenID: openID}, []*store.Order{o4, o3, o2, o1}},
			{"merchant", store.OrderQuery{MchID: mch}, []*store.Order{o6, o5, o4, o3, o2, o1}},
			{"app", store.OrderQuery{MchID: mch, AppID: "wx_orders_b"}, []*store.Order{o6}},
			{"open", store.OrderQuery{MchID: mch, States: []store.TradeState{store.TradeStateNotPay, store.TradeStateUserPaying}},
				[]*store.Order{o6, o5, o2, o1}},
			{"one state", store.OrderQuery{MchID: mch, States: []store.TradeState{store.TradeStateSuccess}}, []*store.Order{o3}},
			{"open created before", store.OrderQuery{MchID: mch, States: []store.TradeState{store.TradeStateNotPay, store.TradeStateUserPaying},
				CreatedBefore: at(5)}, []*store.Order{o2, o1}},
			{"created before, all merchants", store.OrderQuery{CreatedBefore: at(2).Add(time.Millisecond)}, []*store.Order{o2, o1}},
			{"limit", store.OrderQuery{MchID: mch, Limit: 2}, []*store.Order{o6, o5}},
			{"limit after", store.OrderQuery{MchID: mch, CreatedBefore: at(5), Limit: 2}, []*store.Order{o4, o3}},
			{"nobody", store.OrderQuery{AppID: ordersApp, OpenID: unique("o")}, nil},
			{"no state matches", store.OrderQuery{MchID: mch, States: []store.TradeState{store.TradeStateRefund}}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Orders(t.Context(), tt.q)
				mustNoErr(t, "Orders", err)
				if diff := cmp.Diff(tt.want, got, timeMS, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Orders(%+v) mismatch (-want +got):\n%s", tt.q, diff)
				}
			})
		}
	})

	t.Run("OrdersDefaultLimit", func(t *testing.T) {
		s := newStore(t)
		mch := unique("mch")
		for i := range 101 {
			o := newOrder(mch, 1)
			o.Created = base.Add(time.Duration(i) * time.Second)
			mustCreate(t, s, o)
		}
		got, err := s.Orders(t.Context(), store.OrderQuery{MchID: mch})
		mustNoErr(t, "Orders", err)
		if len(got) != 100 || !sameTime(got[0].Created, base.Add(100*time.Second)) {
			t.Errorf("Orders(Limit 0) of 101 orders = %d orders, want the newest 100", len(got))
		}
	})

	t.Run("MillisecondTimes", func(t *testing.T) {
		// Times are kept at millisecond precision, and compared at it.
		s := newStore(t)
		o := newOrder(unique("mch"), 100)
		o.Created = base.Add(time.Second + 300*time.Microsecond)
		mustCreate(t, s, o)
		for _, tt := range []struct {
			before time.Time
			want   int
		}{
			{base.Add(time.Second + 900*time.Microsecond), 0}, // the same millisecond
			{base.Add(time.Second + time.Millisecond), 1},
			{base.Add(time.Second), 0},
		} {
			got, err := s.Orders(t.Context(), store.OrderQuery{MchID: o.MchID, CreatedBefore: tt.before})
			mustNoErr(t, "Orders", err)
			if len(got) != tt.want {
				t.Errorf("Orders(CreatedBefore %s) of an order created at %s = %d orders, want %d",
					tt.before.Format(time.RFC3339Nano), o.Created.Format(time.RFC3339Nano), len(got), tt.want)
			}
		}
		got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		if want := o.Created.Truncate(time.Millisecond); !got.Created.Equal(want) {
			t.Errorf("Created = %s, want %s (truncated to the millisecond)", got.Created.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	})

	t.Run("CreateRefund", func(t *testing.T) {
		s := newStore(t)
		o := mustPaid(t, s, 100)
		r := newRefund(o, 30)
		r.State = store.RefundStateSuccess // ignored: a refund starts PROCESSING
		r.Created = base.Add(time.Hour + 400*time.Microsecond)
		r.Updated = r.Created
		mustNoErr(t, "CreateRefund", s.CreateRefund(t.Context(), r))
		want := *r
		want.State = store.RefundStateProcessing
		if r.State != store.RefundStateProcessing {
			t.Errorf("CreateRefund left State %q, want it set to PROCESSING", r.State)
		}
		got, err := s.Refund(t.Context(), o.MchID, r.OutRefundNo)
		mustNoErr(t, "Refund", err)
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("Refund() mismatch (-want +got):\n%s", diff)
		}
		// Creating a refund changes neither the order's state nor Refunded.
		if got, _ := s.Order(t.Context(), o.MchID, o.OutTradeNo); got == nil || got.State != store.TradeStateSuccess || got.Refunded != 0 {
			t.Errorf("Order() after CreateRefund = %+v, want SUCCESS, refunded 0", got)
		}

		dup := newRefund(o, 1)
		dup.OutRefundNo = r.OutRefundNo
		if err := s.CreateRefund(t.Context(), dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateRefund(existing out_refund_no) error = %v, want store.ErrConflict", err)
		}
		// out_refund_no is unique per merchant, not per order.
		o2 := mustPay(t, s, mustCreate(t, s, newOrder(o.MchID, 100)))
		dup2 := newRefund(o2, 1)
		dup2.OutRefundNo = r.OutRefundNo
		if err := s.CreateRefund(t.Context(), dup2); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateRefund(existing out_refund_no, other order) error = %v, want store.ErrConflict", err)
		}
		if got, _ := s.Refund(t.Context(), o.MchID, r.OutRefundNo); got == nil || got.Amount != 30 {
			t.Errorf("Refund() after conflicting creates = %+v, want the first refund", got)
		}

		// At most the order's amount, over the refunds not CLOSED or ABNORMAL.
		if err := s.CreateRefund(t.Context(), newRefund(o, 71)); !errors.Is(err, store.ErrState) {
			t.Errorf("CreateRefund(30 + 71 of 100) error = %v, want store.ErrState", err)
		}
		r2 := newRefund(o, 70)
		mustNoErr(t, "CreateRefund(30 + 70 of 100)", s.CreateRefund(t.Context(), r2))
		if err := s.CreateRefund(t.Context(), newRefund(o, 1)); !errors.Is(err, store.ErrState) {
			t.Errorf("CreateRefund(1 more of a fully refunded order) error = %v, want store.ErrState", err)
		}
		// A closed refund gives its amount back.
		changed, err := s.ApplyRefund(t.Context(), resultOf(r2, store.RefundStateClosed), nil)
		if err != nil || !changed {
			t.Fatalf("ApplyRefund(CLOSED) = %v, %v", changed, err)
		}
		mustNoErr(t, "CreateRefund(after a closed refund)", s.CreateRefund(t.Context(), newRefund(o, 70)))
		if err := s.CreateRefund(t.Context(), newRefund(o, 1)); !errors.Is(err, store.ErrState) {
			t.Errorf("CreateRefund(1 more) error = %v, want store.ErrState", err)
		}
	})

	t.Run("CreateRefundStates", func(t *testing.T) {
		for _, tt := range []struct {
			state store.TradeState
			ok    bool
		}{
			{store.TradeStateSuccess, true},
			{store.TradeStateRefund, true},
			{store.TradeStateNotPay, false},
			{store.TradeStateUserPaying, false},
			{store.TradeStateClosed, false},
			{store.TradeStatePayError, false},
			{store.TradeStateRevoked, false},
		} {
			t.Run(string(tt.state), func(t *testing.T) {
				s := newStore(t)
				o := newOrder(unique("mch"), 100)
				o.State = tt.state
				if tt.state == store.TradeStateRefund {
					o.Refunded = 10
				}
				mustCreate(t, s, o)
				r := newRefund(o, 10)
				err := s.CreateRefund(t.Context(), r)
				if tt.ok {
					mustNoErr(t, "CreateRefund", err)
					return
				}
				if !errors.Is(err, store.ErrState) {
					t.Errorf("CreateRefund of a %s order error = %v, want store.ErrState", tt.state, err)
				}
				if _, err := s.Refund(t.Context(), o.MchID, r.OutRefundNo); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Refund() of a refused refund error = %v, want store.ErrNotFound", err)
				}
			})
		}
	})

	t.Run("CreateRefundRequires", func(t *testing.T) {
		s := newStore(t)
		o := mustPaid(t, s, 100)
		for name, mod := range map[string]func(r *store.Refund){
			"no out_refund_no": func(r *store.Refund) { r.OutRefundNo = "" },
			"zero amount":      func(r *store.Refund) { r.Amount = 0 },
			"negative amount":  func(r *store.Refund) { r.Amount = -5 },
		} {
			r := newRefund(o, 10)
			mod(r)
			if err := s.CreateRefund(t.Context(), r); err == nil {
				t.Errorf("CreateRefund(%s) = nil, want an error", name)
			}
		}
		// A refused negative refund must not have made room for more.
		if err := s.CreateRefund(t.Context(), newRefund(o, 101)); !errors.Is(err, store.ErrState) {
			t.Errorf("CreateRefund(101 of 100) error = %v, want store.ErrState", err)
		}
	})

	t.Run("ConcurrentRefunds", func(t *testing.T) {
		s := newStore(t)
		// Two refunds that together exceed the amount: one is refused.
		o := mustPaid(t, s, 100)
		warmUp(t, s, o)
		errs := make([]error, 2)
		burst(len(errs), func(i int) { errs[i] = s.CreateRefund(t.Context(), newRefund(o, 60)) })
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), store.ErrState) {
			t.Errorf("two concurrent refunds of 60 of 100 = %v; want one nil and one store.ErrState", errs)
		}

		// 30 refunds of 10 of 100: exactly 10 are accepted.
		o = mustPaid(t, s, 100)
		var ok, refused atomic.Int32
		burst(30, func(int) {
			err := s.CreateRefund(t.Context(), newRefund(o, 10))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrState):
				refused.Add(1)
			default:
				t.Errorf("concurrent CreateRefund = %v", err)
			}
		})
		if ok.Load() != 10 || refused.Load() != 20 {
			t.Errorf("30 concurrent refunds of 10 of 100: %d accepted, %d refused; want 10 and 20", ok.Load(), refused.Load())
		}
	})

	t.Run("ApplyRefundSuccess", func(t *testing.T) {
		s := newStore(t)
		o := mustPaid(t, s, 100)
		before, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		r := mustRefund(t, s, o, 30)
		kind := unique("on_refunded")
		res := resultOf(r, store.RefundStateSuccess)
		res.At = base.Add(2*time.Hour + 600*time.Microsecond)
		job := announceJob(kind, "refunded-1")
		changed, err := s.ApplyRefund(t.Context(), res, job)
		if err != nil || !changed {
			t.Fatalf("ApplyRefund(SUCCESS) of a PROCESSING refund = %v, %v; want true, nil", changed, err)
		}
		if job.ID == 0 {
			t.Errorf("ApplyRefund left the announce job's ID 0")
		}
		wantRefund := *r
		wantRefund.State, wantRefund.RefundID, wantRefund.Updated = store.RefundStateSuccess, res.RefundID, res.At
		gotRefund, err := s.Refund(t.Context(), r.MchID, r.OutRefundNo)
		mustNoErr(t, "Refund", err)
		if diff := cmp.Diff(&wantRefund, gotRefund, timeMS); diff != "" {
			t.Errorf("Refund() after ApplyRefund mismatch (-want +got):\n%s", diff)
		}
		wantOrder := *before
		wantOrder.State, wantOrder.Refunded, wantOrder.Updated = store.TradeStateRefund, 30, res.At
		gotOrder, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
		mustNoErr(t, "Order", err)
		if diff := cmp.Diff(&wantOrder, gotOrder, timeMS); diff != "" {
			t.Errorf("Order() after a refund succeeded mismatch (-want +got):\n%s", diff)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 1 || jobs[0].ID != job.ID {
			t.Errorf("jobs = %+v, want the announce job", jobs)
		}

		// Repeats change nothing and enqueue nothing.
		for i, rep := range []*store.RefundResult{res, func() *store.RefundResult { c := *res; c.RefundID = ""; return &c }()} {
			changed, err = s.ApplyRefund(t.Context(), rep, announceJob(kind, fmt.Sprint("refunded-repeat-", i)))
			if err != nil || changed {
				t.Errorf("ApplyRefund(repeat %d) = %v, %v; want false, nil", i, changed, err)
			}
		}
		if got, _ := s.Order(t.Context(), o.MchID, o.OutTradeNo); got == nil || got.Refunded != 30 {
			t.Errorf("Order() after repeats = %+v, want refunded 30 (added once)", got)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 0 {
			t.Errorf("repeats enqueued %v, want nothing", keysOf(jobs))
		}

		// A second refund adds to Refunded.
		r2 := mustRefund(t, s, o, 70)
		changed, err = s.ApplyRefund(t.Context(), resultOf(r2, store.RefundStateSuccess), announceJob(kind, "refunded-2"))
		if err != nil || !changed {
			t.Fatalf("ApplyRefund(second refund) = %v, %v", changed, err)
		}
		if got, _ := s.Order(t.Context(), o.MchID, o.OutTradeNo); got == nil || got.Refunded != 100 || got.State != store.TradeStateRefund {
			t.Errorf("Order() after two refunds = %+v, want REFUND, refunded 100", got)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 1 {
			t.Errorf("the second refund enqueued %d jobs, want 1", len(jobs))
		}
	})

	t.Run("ApplyRefundStates", func(t *testing.T) {
		type step struct {
			to      store.RefundState
			changed bool
			err     error
		}
		for _, tt := range []struct {
			name  string
			steps []step
		}{
			{"closed", []step{{store.RefundStateClosed, true, nil}, {store.RefundStateClosed, false, nil},
				{store.RefundStateSuccess, false, store.ErrState}, {store.RefundStateAbnormal, false, store.ErrState}}},
			{"abnormal", []step{{store.RefundStateAbnormal, true, nil}, {store.RefundStateAbnormal, false, nil},
				{store.RefundStateSuccess, false, store.ErrState}, {store.RefundStateClosed, false, store.ErrState}}},
			{"success", []step{{store.RefundStateProcessing, false, nil}, {store.RefundStateSuccess, true, nil},
				{store.RefundStateClosed, false, store.ErrState}, {store.RefundStateProcessing, false, store.ErrState}}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				o := mustPaid(t, s, 100)
				orderBefore, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
				mustNoErr(t, "Order", err)
				r := mustRefund(t, s, o, 40)
				state := store.RefundStateProcessing
				var succeeded time.Time
				for i, st := range tt.steps {
					kind := unique("announce")
					before, err := s.Refund(t.Context(), r.MchID, r.OutRefundNo)
					mustNoErr(t, "Refund", err)
					res := resultOf(r, st.to)
					res.At = base.Add(time.Duration(i+1) * time.Hour)
					changed, err := s.ApplyRefund(t.Context(), res, announceJob(kind, "k"))
					if changed != st.changed || !errors.Is(err, st.err) || (st.err == nil && err != nil) {
						t.Fatalf("step %d: ApplyRefund(%s) of a %s refund = %v, %v; want %v, %v", i, st.to, state, changed, err, st.changed, st.err)
					}
					after, err := s.Refund(t.Context(), r.MchID, r.OutRefundNo)
					mustNoErr(t, "Refund", err)
					want := *before
					if changed {
						want.State, want.RefundID, want.Updated = st.to, res.RefundID, res.At
						state = st.to
						if st.to == store.RefundStateSuccess {
							succeeded = res.At
						}
					}
					if diff := cmp.Diff(&want, after, timeMS); diff != "" {
						t.Errorf("step %d: refund mismatch (-want +got):\n%s", i, diff)
					}
					wantJobs := 0
					if changed {
						wantJobs = 1
					}
					if jobs := claimAll(t, s, kind); len(jobs) != wantJobs {
						t.Errorf("step %d: enqueued %d jobs, want %d", i, len(jobs), wantJobs)
					}
				}
				orderAfter, err := s.Order(t.Context(), o.MchID, o.OutTradeNo)
				mustNoErr(t, "Order", err)
				wantOrder := *orderBefore
				if state == store.RefundStateSuccess {
					wantOrder.State, wantOrder.Refunded = store.TradeStateRefund, 40
					wantOrder.Updated = succeeded
				}
				if diff := cmp.Diff(&wantOrder, orderAfter, timeMS); diff != "" {
					t.Errorf("order after the refund's steps mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("ApplyRefundMismatch", func(t *testing.T) {
		s := newStore(t)
		o := mustPaid(t, s, 100)
		other := mustPaid(t, s, 100)
		r := mustRefund(t, s, o, 30)
		for name, mod := range map[string]func(res *store.RefundResult){
			"amount":       func(res *store.RefundResult) { res.Amount = 31 },
			"out_trade_no": func(res *store.RefundResult) { res.OutTradeNo = other.OutTradeNo },
			"no order":     func(res *store.RefundResult) { res.OutTradeNo = "" },
		} {
			kind := unique("announce")
			res := resultOf(r, store.RefundStateSuccess)
			mod(res)
			changed, err := s.ApplyRefund(t.Context(), res, announceJob(kind, "k"))
			if changed || !errors.Is(err, store.ErrMismatch) {
				t.Errorf("ApplyRefund(%s mismatch) = %v, %v; want false, store.ErrMismatch", name, changed, err)
			}
			if jobs := claimAll(t, s, kind); len(jobs) != 0 {
				t.Errorf("ApplyRefund(%s mismatch) enqueued %v, want nothing", name, keysOf(jobs))
			}
		}
		if got, err := s.Refund(t.Context(), r.MchID, r.OutRefundNo); err != nil || got.State != store.RefundStateProcessing {
			t.Errorf("Refund() after mismatches = %+v, %v; want PROCESSING", got, err)
		}
		for _, oo := range []*store.Order{o, other} {
			if got, err := s.Order(t.Context(), oo.MchID, oo.OutTradeNo); err != nil || got.Refunded != 0 || got.State != store.TradeStateSuccess {
				t.Errorf("Order(%s) after mismatches = %+v, %v; want SUCCESS, refunded 0", oo.OutTradeNo, got, err)
			}
		}
		// Once it succeeded, another refund_id does not match it.
		res := resultOf(r, store.RefundStateSuccess)
		if changed, err := s.ApplyRefund(t.Context(), res, nil); err != nil || !changed {
			t.Fatalf("ApplyRefund(SUCCESS) = %v, %v", changed, err)
		}
		res2 := *res
		res2.RefundID = unique("50300")
		if changed, err := s.ApplyRefund(t.Context(), &res2, nil); changed || !errors.Is(err, store.ErrMismatch) {
			t.Errorf("ApplyRefund(succeeded refund, other refund_id) = %v, %v; want false, store.ErrMismatch", changed, err)
		}
	})

	t.Run("Refunds", func(t *testing.T) {
		s := newStore(t)
		mch := unique("mch")
		at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
		o := mustPay(t, s, mustCreate(t, s, newOrder(mch, 1000)))
		o2 := mustPay(t, s, mustCreate(t, s, newOrder(mch, 1000)))
		other := mustPaid(t, s, 1000) // another merchant
		// mk creates a refund of o created at(i), last updated at(updated).
		mk := func(o *store.Order, i, updated int) *store.Refund {
			r := newRefund(o, int64(10+i))
			r.OutRefundNo = fmt.Sprintf("%s-r%02d", o.MchID, i)
			r.Created, r.Updated = at(i), at(updated)
			return mustCreateRefund(t, s, r)
		}
		settle := func(r *store.Refund, state store.RefundState, i int) {
			res := resultOf(r, state)
			res.At = at(i)
			if changed, err := s.ApplyRefund(t.Context(), res, nil); err != nil || !changed {
				t.Fatalf("ApplyRefund(%s) = %v, %v; want true, nil", state, changed, err)
			}
		}
		// Created out of order: the listing sorts by Created.
		r3 := mk(o, 3, 3)
		r1 := mk(o, 1, 1)
		r2 := mk(o, 2, 2)
		settle(r2, store.RefundStateSuccess, 10)
		r4 := mk(o, 4, 4)
		settle(r4, store.RefundStateClosed, 11)
		r5 := mk(o2, 5, 5)    // another order of the merchant
		r6 := mk(o, 6, 20)    // PROCESSING, last updated later
		r7 := mk(other, 7, 7) // another merchant
		// What the store holds, as Refund reads it.
		read := func(rs ...*store.Refund) []*store.Refund {
			out := make([]*store.Refund, len(rs))
			for i, r := range rs {
				got, err := s.Refund(t.Context(), r.MchID, r.OutRefundNo)
				mustNoErr(t, "Refund", err)
				out[i] = got
			}
			return out
		}
		processing := []store.RefundState{store.RefundStateProcessing}
		for _, tt := range []struct {
			name string
			q    store.RefundQuery
			want []*store.Refund
		}{
			{"all", store.RefundQuery{}, read(r7, r6, r5, r4, r3, r2, r1)},
			{"merchant", store.RefundQuery{MchID: mch}, read(r6, r5, r4, r3, r2, r1)},
			{"processing", store.RefundQuery{MchID: mch, States: processing}, read(r6, r5, r3, r1)},
			{"processing, all merchants", store.RefundQuery{States: processing}, read(r7, r6, r5, r3, r1)},
			{"final", store.RefundQuery{MchID: mch, States: []store.RefundState{store.RefundStateSuccess, store.RefundStateClosed}},
				read(r4, r2)},
			{"processing updated before", store.RefundQuery{States: processing, UpdatedBefore: at(7)}, read(r5, r3, r1)},
			{"updated before, at the millisecond", store.RefundQuery{MchID: mch, UpdatedBefore: at(10)}, read(r5, r3, r1)},
			{"updated before, a millisecond later", store.RefundQuery{MchID: mch, UpdatedBefore: at(10).Add(time.Millisecond)},
				read(r5, r3, r2, r1)},
			{"created before", store.RefundQuery{CreatedBefore: at(3)}, read(r2, r1)},
			{"created before and updated before", store.RefundQuery{CreatedBefore: at(7), UpdatedBefore: at(11).Add(time.Millisecond)},
				read(r5, r4, r3, r2, r1)},
			{"limit", store.RefundQuery{MchID: mch, Limit: 2}, read(r6, r5)},
			{"limit after", store.RefundQuery{MchID: mch, CreatedBefore: at(5), Limit: 2}, read(r4, r3)},
			{"other merchant", store.RefundQuery{MchID: other.MchID}, read(r7)},
			{"no state matches", store.RefundQuery{MchID: mch, States: []store.RefundState{store.RefundStateAbnormal}}, nil},
			{"no merchant matches", store.RefundQuery{MchID: unique("mch")}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Refunds(t.Context(), tt.q)
				mustNoErr(t, "Refunds", err)
				if diff := cmp.Diff(tt.want, got, timeMS, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Refunds(%+v) mismatch (-want +got):\n%s", tt.q, diff)
				}
			})
		}
		// The listing is a copy.
		got, err := s.Refunds(t.Context(), store.RefundQuery{MchID: other.MchID})
		mustNoErr(t, "Refunds", err)
		if len(got) == 1 {
			got[0].State, got[0].Amount = store.RefundStateSuccess, 1
		}
		if got := read(r7)[0]; got.State != store.RefundStateProcessing || got.Amount != r7.Amount {
			t.Errorf("Refund() after the caller changed a listed refund = %+v, want it unchanged", got)
		}
	})

	t.Run("RefundsDefaultLimit", func(t *testing.T) {
		s := newStore(t)
		o := mustPaid(t, s, 1000)
		for i := range 101 {
			r := newRefund(o, 1)
			r.Created = base.Add(time.Duration(i) * time.Second)
			mustCreateRefund(t, s, r)
		}
		got, err := s.Refunds(t.Context(), store.RefundQuery{MchID: o.MchID, States: []store.RefundState{store.RefundStateProcessing}})
		mustNoErr(t, "Refunds", err)
		if len(got) != 100 || !sameTime(got[0].Created, base.Add(100*time.Second)) {
			t.Errorf("Refunds(Limit 0) of 101 refunds = %d refunds, want the newest 100", len(got))
		}
	})

	t.Run("ConcurrentRefundResults", func(t *testing.T) {
		s := newStore(t)
		o := mustPaid(t, s, 100)
		r := mustRefund(t, s, o, 25)
		kind := unique("on_refunded")
		const n = 200
		res := resultOf(r, store.RefundStateSuccess)
		var changedN atomic.Int32
		warmUp(t, s, o)
		burst(n, func(i int) {
			c := *res
			changed, err := s.ApplyRefund(t.Context(), &c, announceJob(kind, fmt.Sprint("refunded-", i)))
			if err != nil {
				t.Errorf("concurrent ApplyRefund = %v", err)
			}
			if changed {
				changedN.Add(1)
			}
		})
		if got := changedN.Load(); got != 1 {
			t.Errorf("%d concurrent copies of one refund result: %d reported a change, want exactly 1", n, got)
		}
		if jobs := claimAll(t, s, kind); len(jobs) != 1 {
			t.Errorf("%d concurrent copies of one refund result enqueued %d jobs, want exactly 1", n, len(jobs))
		}
		if got, err := s.Order(t.Context(), o.MchID, o.OutTradeNo); err != nil || got.Refunded != 25 {
			t.Errorf("Order() = %+v, %v; want refunded 25 (added once)", got, err)
		}
	})
}

// newOrder returns a new NOTPAY order of mchID for amount fen, created at
// base.
func newOrder(mchID string, amount int64) *store.Order {
	return &store.Order{MchID: mchID, OutTradeNo: unique("no"), AppID: ordersApp, OpenID: unique("o"),
		Version: "v3", Description: "会员 1 个月", Amount: amount, Created: base, Updated: base}
}

// mustCreate creates o and returns it.
func mustCreate(t *testing.T, s store.Orders, o *store.Order) *store.Order {
	t.Helper()
	mustNoErr(t, "CreateOrder", s.CreateOrder(t.Context(), o))
	return o
}

// mustPaid creates an order of amount fen of a new merchant and pays it.
func mustPaid(t *testing.T, s store.Orders, amount int64) *store.Order {
	t.Helper()
	return mustPay(t, s, mustCreate(t, s, newOrder(unique("mch"), amount)))
}

// mustPay pays the NOTPAY order o and returns it as paid.
func mustPay(t *testing.T, s store.Orders, o *store.Order) *store.Order {
	t.Helper()
	p := paymentOf(o, store.TradeStateSuccess)
	changed, err := s.ApplyPayment(t.Context(), p, nil)
	if err != nil || !changed {
		t.Fatalf("ApplyPayment(SUCCESS) = %v, %v; want true, nil", changed, err)
	}
	o.State, o.TransactionID, o.PaidAt, o.Updated = store.TradeStateSuccess, p.TransactionID, p.At, p.At
	return o
}

// paymentOf returns what the platform says when o reaches state: the
// order's identifiers and amount, a transaction id for SUCCESS.
func paymentOf(o *store.Order, state store.TradeState) *store.Payment {
	p := &store.Payment{MchID: o.MchID, OutTradeNo: o.OutTradeNo, AppID: o.AppID, Amount: o.Amount, State: state,
		At: o.Created.Add(5 * time.Minute)}
	if state == store.TradeStateSuccess || state == store.TradeStateRefund {
		p.TransactionID = o.TransactionID
		if p.TransactionID == "" {
			p.TransactionID = "4200" + o.OutTradeNo
		}
	}
	return p
}

// newRefund returns a new refund of o for amount fen.
func newRefund(o *store.Order, amount int64) *store.Refund {
	return &store.Refund{MchID: o.MchID, OutRefundNo: unique("r"), OutTradeNo: o.OutTradeNo, Amount: amount,
		Reason: "退货", Created: base.Add(time.Hour), Updated: base.Add(time.Hour)}
}

// mustRefund creates a refund of o for amount fen and returns it.
func mustRefund(t *testing.T, s store.Orders, o *store.Order, amount int64) *store.Refund {
	t.Helper()
	r := newRefund(o, amount)
	mustNoErr(t, "CreateRefund", s.CreateRefund(t.Context(), r))
	return r
}

// mustCreateRefund creates r and returns it.
func mustCreateRefund(t *testing.T, s store.Orders, r *store.Refund) *store.Refund {
	t.Helper()
	mustNoErr(t, "CreateRefund", s.CreateRefund(t.Context(), r))
	return r
}

// resultOf returns what the platform says when r reaches state.
func resultOf(r *store.Refund, state store.RefundState) *store.RefundResult {
	return &store.RefundResult{MchID: r.MchID, OutRefundNo: r.OutRefundNo, OutTradeNo: r.OutTradeNo, Amount: r.Amount,
		State: state, RefundID: "5030" + r.OutRefundNo, At: base.Add(90 * time.Minute)}
}

// announceJob returns the job a transition announces.
func announceJob(kind, key string) *store.Job {
	return &store.Job{Kind: kind, Key: key, Payload: []byte(`{"delivery":"` + key + `"}`), RunAt: base}
}

// claimAll claims every job of kind, due or not.
func claimAll(t *testing.T, s store.Outbox, kind string) []*store.Job {
	t.Helper()
	jobs, err := s.ClaimJobs(t.Context(), kind, base.Add(1000*time.Hour), time.Minute, 1000)
	mustNoErr(t, "ClaimJobs", err)
	return jobs
}

// second returns the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }

// burst runs f(0) … f(n-1), each in a goroutine of its own, released at
// once, and waits for them.
func burst(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// warmUp reads o from 50 goroutines at once, so that a backend with a
// connection pool has its connections open before a burst, and the
// burst's calls run at the same time instead of one after the other as
// connections open.
func warmUp(t *testing.T, s store.Orders, o *store.Order) {
	t.Helper()
	burst(50, func(int) {
		if _, err := s.Order(t.Context(), o.MchID, o.OutTradeNo); err != nil {
			t.Errorf("Order() = %v", err)
		}
	})
}
