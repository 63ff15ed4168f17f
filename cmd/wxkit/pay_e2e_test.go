package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/postgres/pgtest"
)

// startServeAt starts `wxkit serve --config cfg` (which listens on addr)
// and waits until /healthz answers. Unlike startServe the address is the
// configuration's, so that a restarted process keeps the notify URLs of
// the orders its predecessor placed.
func startServeAt(t *testing.T, bin, cfg, addr string) *serveProc {
	t.Helper()
	p := &serveProc{url: "http://" + addr, output: new(syncBuffer), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--config", cfg)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting wxkit serve: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	if !p.waitHealthy(t) {
		t.Fatalf("wxkit serve exited before it was healthy; output:\n%s", p.output)
	}
	return p
}

// TestPayKilledGatewayLosesNothing: a `wxkit serve` process is killed with
// SIGKILL while the notifies of 40 payments are arriving and while it
// delivers a paid event (the on_paid target holds that delivery open).
// Restarted on the same database, with the emulator's clock moved past the
// platform's next retries, every paid order ends SUCCESS, and each is
// announced with exactly one delivery id (the event in flight at the kill
// is delivered again, with the same id, after the outbox lease). SQLite
// with v3, PostgreSQL with v2.
func TestPayKilledGatewayLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts and kills wxkit serve processes (-short)")
	}
	bin := buildWxkit(t)
	for _, tc := range []struct{ store, version string }{{"sqlite", gateway.PayV3}, {"postgres", gateway.PayV2}} {
		t.Run(tc.store+"/"+tc.version, func(t *testing.T) {
			t.Parallel()
			storeURL := "sqlite://" + filepath.Join(t.TempDir(), "pay.db")
			if tc.store == "postgres" {
				storeURL = pgtest.SchemaURL(t)
			}
			addr := freeAddr(t)
			f := newPayFixture(t, tc.version, storeURL, addr, "")
			user := emulator.DefaultConfig().Apps[0].Users[0].OpenID
			tok := f.session(t, user)
			proc := startServeAt(t, bin, f.cfgPath, addr)

			const n = 40
			orders := make([]*gateway.OrderCreated, n)
			for i := range orders {
				orders[i] = placeOrder(t, f.url, tok, int64(100+i))
			}
			f.sink.mu.Lock()
			f.sink.hold = true
			f.sink.mu.Unlock()

			// Wave 1: half the orders are paid; once the gateway delivers
			// its first paid event (held open), wave 2 is paid and the
			// gateway killed while those notifies arrive.
			pay := func(os []*gateway.OrderCreated) {
				var wg sync.WaitGroup
				for _, o := range os {
					wg.Go(func() {
						if _, err := f.emu.PayOrder(o.PrepayID, emulator.Payment{OpenID: user}); err != nil {
							t.Errorf("PayOrder: %v", err)
						}
					})
				}
				wg.Wait()
			}
			pay(orders[:n/2])
			select {
			case <-f.sink.held:
			case <-time.After(30 * time.Second):
				t.Fatalf("no paid event within 30 s; output:\n%s", proc.output)
			}
			done := make(chan struct{})
			go func() { pay(orders[n/2:]); close(done) }()
			// Let some of wave 2's notifies reach the gateway (how many does
			// not matter: the figures are logged below).
			time.Sleep(5 * time.Millisecond)
			if err := proc.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-proc.exited
			<-done
			close(f.sink.release)
			if err := f.emu.WaitNotifies(t.Context()); err != nil {
				t.Fatal(err)
			}
			before := countStates(t, f.storeURL)
			t.Logf("at the kill: %v of %d paid orders applied; the rest refused or cut off", before, n)

			startServeAt(t, bin, f.cfgPath, addr)
			// The platform retries on its schedule: 15 s, 15 s, 30 s, ...
			for _, step := range []time.Duration{15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute} {
				if st := countStates(t, f.storeURL); st[store.TradeStateSuccess] == n {
					break
				}
				if _, err := f.emu.Advance(step); err != nil {
					t.Fatal(err)
				}
				if err := f.emu.WaitNotifies(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if st := countStates(t, f.storeURL); st[store.TradeStateSuccess] != n {
				t.Fatalf("orders after the restart and the platform's retries: %v, want %d SUCCESS", st, n)
			}
			for _, o := range orders {
				info, err := f.emu.MerchantOrder(emulator.DemoMchID, o.OutTradeNo)
				if err != nil || info.State != "SUCCESS" || !acknowledged(info.Notifies) {
					t.Errorf("the platform's order %s = %s, notifies acknowledged %v (%v)", o.OutTradeNo, info.State, acknowledged(info.Notifies), err)
				}
			}
			// Every order's paid event arrives, and the one held at the
			// kill again, after the outbox lease (a minute) ends.
			f.sink.mu.Lock()
			heldNo := f.sink.heldNo
			f.sink.mu.Unlock()
			deadline := time.After(3 * time.Minute)
			for {
				ids, requests, _ := f.sink.counts()
				if len(ids) == n && requests[heldNo] >= 2 {
					break
				}
				select {
				case <-f.sink.received:
				case <-deadline:
					t.Fatalf("paid events for %d orders after 3 minutes, want %d; the held one delivered %d times, want 2",
						len(ids), n, requests[heldNo])
				}
			}
			ids, requests, bad := f.sink.counts()
			redelivered := 0
			for _, o := range orders {
				if ids[o.OutTradeNo] != 1 {
					t.Errorf("order %s announced with %d delivery ids, want 1", o.OutTradeNo, ids[o.OutTradeNo])
				}
				redelivered += requests[o.OutTradeNo] - 1
			}
			if bad != 0 {
				t.Errorf("%d paid events with a bad signature", bad)
			}
			t.Logf("%d orders SUCCESS, %d delivery ids, %d deliveries repeated with the same id", n, len(ids), redelivered)
		})
	}
}

// acknowledged reports whether some pay notify of as was acknowledged.
func acknowledged(as []emulator.NotifyAttempt) bool {
	for _, a := range as {
		if a.Event == emulator.EventTransactionSuccess && a.Acknowledged {
			return true
		}
	}
	return false
}

// countStates counts the orders of storeURL by state.
func countStates(t *testing.T, storeURL string) map[store.TradeState]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
	defer cancel()
	st, err := gateway.OpenStores(ctx, storeURL, "", gateway.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.Orders.Orders(ctx, store.OrderQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.TradeState]int{}
	for _, o := range list {
		out[o.State]++
	}
	return out
}
