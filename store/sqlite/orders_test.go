package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestOrdersConformance(t *testing.T) {
	t.Parallel()
	storetest.TestOrders(t, func(t *testing.T) storetest.OrdersAndOutbox { return openMigrated(t) })
}

// TestOrdersAcrossHandles sends 200 copies of one payment notify at once
// through four handles on one file, standing for four processes (each
// handle queues its own transactions, so that only SQLite's lock keeps
// the handles apart), for three orders in turn: each order changes once
// and enqueues one job. Then 30 refunds of 10 fen of one 100 fen order,
// through the four handles: exactly 10 are accepted.
func TestOrdersAcrossHandles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	const handles, copies = 4, 200
	var dbs []*DB
	for range handles {
		dbs = append(dbs, openTemp(t, path))
	}
	if _, err := dbs[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	for _, db := range dbs {
		warm(t, db, copies/handles)
	}
	at := time.UnixMilli(1_780_000_000_000)
	// burst runs f(i) for i in [0, n) at once, through handle i%handles.
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

	for round := range 3 {
		o := &store.Order{MchID: "1900000109", OutTradeNo: fmt.Sprint("T", round), AppID: "wxapp", OpenID: "o1",
			Version: "v2", Amount: 100, Created: at, Updated: at}
		if err := dbs[round%handles].CreateOrder(ctx, o); err != nil {
			t.Fatalf("CreateOrder() = %v", err)
		}
		p := store.Payment{MchID: o.MchID, OutTradeNo: o.OutTradeNo, AppID: o.AppID, Amount: o.Amount,
			State: store.TradeStateSuccess, TransactionID: fmt.Sprint("420000000", round), At: at.Add(time.Minute)}
		kind := fmt.Sprint("on_paid_", round)
		var changed atomic.Int32
		burst(copies, func(i int, db *DB) {
			c := p
			job := &store.Job{Kind: kind, Key: fmt.Sprint("delivery-", i), Payload: []byte("{}"), RunAt: at}
			ok, err := db.ApplyPayment(ctx, &c, job)
			if err != nil {
				t.Errorf("round %d: ApplyPayment() through handle %d = %v", round, i%handles, err)
			}
			if ok {
				changed.Add(1)
			}
		})
		if changed.Load() != 1 {
			t.Errorf("round %d: %d copies of one notify through %d handles: %d changes, want 1", round, copies, handles, changed.Load())
		}
		var jobs int
		if err := dbs[0].QueryRowContext(ctx, `SELECT count(*) FROM wxkit_outbox WHERE kind = ?`, kind).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 1 {
			t.Errorf("round %d: %d copies of one notify through %d handles enqueued %d jobs, want 1", round, copies, handles, jobs)
		}
	}

	var accepted atomic.Int32
	burst(30, func(i int, db *DB) {
		r := &store.Refund{MchID: "1900000109", OutRefundNo: fmt.Sprint("R", i), OutTradeNo: "T0", Amount: 10,
			Created: at, Updated: at}
		if err := db.CreateRefund(ctx, r); err == nil {
			accepted.Add(1)
		}
	})
	if accepted.Load() != 10 {
		t.Errorf("30 refunds of 10 of 100 fen through %d handles: %d accepted, want 10", handles, accepted.Load())
	}
}

// warm opens n connections of db and keeps them idle, so that a burst of
// n calls runs at once instead of waiting for connections to open.
func warm(t *testing.T, db *DB, n int) {
	t.Helper()
	db.SetMaxIdleConns(n)
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
}
