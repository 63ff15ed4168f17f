package postgres

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestOrdersConformance(t *testing.T) {
	t.Parallel()
	storetest.TestOrders(t, func(t *testing.T) storetest.OrdersAndOutbox { return newMigrated(t) })
}

// TestOrdersAcrossHandles sends 200 copies of one payment notify at once
// through three DBs on one schema, standing for three instances: one
// changes the order and one job is enqueued; then 30 refunds of 10 fen of
// the 100 fen order, through the three DBs: exactly 10 are accepted, and
// 200 copies of the first refund's result add its amount once.
func TestOrdersAcrossHandles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const handles, copies = 3, 200
	dbs := newShared(t, handles)
	// burst runs f(i) for i in [0, n) at once, through DB i%handles.
	burst := func(n int, f func(i int, db *DB)) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				f(i, dbs[i%handles])
			})
		}
		close(start)
		wg.Wait()
	}
	countJobs := func(kind string) int {
		var n int
		if err := dbs[0].Pool().QueryRow(ctx, `SELECT count(*) FROM wxkit_outbox WHERE kind = $1`, kind).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := &store.Order{MchID: "1900000109", OutTradeNo: "T1", AppID: "wxapp", OpenID: "o1", Version: "v3",
		Amount: 100, Created: at, Updated: at}
	if err := dbs[1].CreateOrder(ctx, o); err != nil {
		t.Fatalf("CreateOrder() = %v", err)
	}
	p := store.Payment{MchID: o.MchID, OutTradeNo: o.OutTradeNo, AppID: o.AppID, Amount: o.Amount,
		State: store.TradeStateSuccess, TransactionID: "4200000001", At: at.Add(time.Minute)}
	var changed atomic.Int32
	burst(copies, func(i int, db *DB) {
		c := p
		job := &store.Job{Kind: "on_paid", Key: fmt.Sprint("delivery-", i), Payload: []byte("{}"), RunAt: at}
		ok, err := db.ApplyPayment(ctx, &c, job)
		if err != nil {
			t.Errorf("ApplyPayment() through DB %d = %v", i%handles, err)
		}
		if ok {
			changed.Add(1)
		}
	})
	if changed.Load() != 1 {
		t.Errorf("%d copies of one notify through %d DBs: %d changes, want 1", copies, handles, changed.Load())
	}
	if n := countJobs("on_paid"); n != 1 {
		t.Errorf("%d copies of one notify through %d DBs enqueued %d jobs, want 1", copies, handles, n)
	}

	var accepted atomic.Int32
	burst(30, func(i int, db *DB) {
		r := &store.Refund{MchID: o.MchID, OutRefundNo: fmt.Sprint("R", i), OutTradeNo: o.OutTradeNo, Amount: 10,
			Created: at, Updated: at}
		err := db.CreateRefund(ctx, r)
		if err == nil {
			accepted.Add(1)
		}
	})
	if accepted.Load() != 10 {
		t.Errorf("30 refunds of 10 of 100 fen through %d DBs: %d accepted, want 10", handles, accepted.Load())
	}
	var first string // an accepted refund
	if err := dbs[0].Pool().QueryRow(ctx, `SELECT out_refund_no FROM wxkit_refunds LIMIT 1`).Scan(&first); err != nil {
		t.Fatal(err)
	}

	changed.Store(0)
	burst(copies, func(i int, db *DB) {
		res := &store.RefundResult{MchID: o.MchID, OutRefundNo: first, OutTradeNo: o.OutTradeNo, Amount: 10,
			State: store.RefundStateSuccess, RefundID: "503000001", At: at.Add(time.Hour)}
		job := &store.Job{Kind: "on_refunded", Key: fmt.Sprint("delivery-", i), RunAt: at}
		ok, err := db.ApplyRefund(ctx, res, job)
		if err != nil {
			t.Errorf("ApplyRefund() through DB %d = %v", i%handles, err)
		}
		if ok {
			changed.Add(1)
		}
	})
	if changed.Load() != 1 {
		t.Errorf("%d copies of one refund result through %d DBs: %d changes, want 1", copies, handles, changed.Load())
	}
	if n := countJobs("on_refunded"); n != 1 {
		t.Errorf("%d copies of one refund result enqueued %d jobs, want 1", copies, n)
	}
	if got, err := dbs[2].Order(ctx, o.MchID, o.OutTradeNo); err != nil || got.Refunded != 10 || got.State != store.TradeStateRefund {
		t.Errorf("Order() = %+v, %v; want REFUND with 10 fen refunded", got, err)
	}
}
