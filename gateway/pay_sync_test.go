package gateway

import (
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

// TestPayCloseExpired: past pay.order_timeout, the closer closes an unpaid
// order at the platform and here; an order the user paid while the
// gateway missed the notify becomes SUCCESS instead (closeorder answers
// ORDERPAID, the query tells the payment) and is announced; an order the
// platform never saw is closed here; a young order is left alone; and
// nothing happens while another instance holds the lease.
func TestPayCloseExpired(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5"})
			ctx := t.Context()
			auth := "Bearer " + e.bearer(t, e.openID)
			unpaid := e.createOrder(t, nil, auth, 100)
			paid := e.createOrder(t, nil, auth, 200)
			e.notifyDown.Store(true)
			txn, err := e.emu.PayOrder(paid.PrepayID, emulator.Payment{OpenID: e.openID})
			if err != nil {
				t.Fatal(err)
			}
			now := e.emu.Now()
			ghost := &store.Order{MchID: e.mchID, OutTradeNo: "20250101000000GHOSTghost000001", AppID: e.appID, OpenID: e.openID,
				Version: version, Description: "never placed", Amount: 300, Created: now, Updated: now}
			if err := e.g.Stores().Orders.CreateOrder(ctx, ghost); err != nil {
				t.Fatal(err)
			}
			if _, err := e.emu.Advance(DefaultOrderTimeout + time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil { // the paid order's retries, still refused
				t.Fatal(err)
			}
			young := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), 400) // the first session has expired

			unlock, err := e.g.Stores().Tokens.Lock(ctx, PayCloseLeaseKey, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := e.g.pay.closeExpired(ctx); n != 0 || err != nil {
				t.Errorf("closeExpired while another instance holds the lease = %d, %v; want 0, nil", n, err)
			}
			if o := e.storedOrder(t, unpaid.OutTradeNo); o.State != store.TradeStateNotPay {
				t.Errorf("order closed while another instance holds the lease: %s", o.State)
			}
			unlock(ctx)

			if n, err := e.g.pay.closeExpired(ctx); n != 3 || err != nil {
				t.Errorf("closeExpired = %d, %v; want 3 orders settled", n, err)
			}
			for _, tc := range []struct {
				no   string
				want store.TradeState
			}{
				{unpaid.OutTradeNo, store.TradeStateClosed},
				{paid.OutTradeNo, store.TradeStateSuccess},
				{ghost.OutTradeNo, store.TradeStateClosed},
				{young.OutTradeNo, store.TradeStateNotPay},
			} {
				if o := e.storedOrder(t, tc.no); o.State != tc.want {
					t.Errorf("order %s = %s, want %s", tc.no, o.State, tc.want)
				}
			}
			if info, _ := e.emu.MerchantOrder(e.mchID, unpaid.OutTradeNo); info.State != "CLOSED" {
				t.Errorf("the platform's unpaid order = %s, want CLOSED", info.State)
			}
			if o := e.storedOrder(t, paid.OutTradeNo); o.TransactionID != txn || o.PaidAt.IsZero() {
				t.Errorf("paid order = %+v, want transaction %s and paid_at", o, txn)
			}
			if d := e.paid.wait(t, 1); d[0].Event.OutTradeNo != paid.OutTradeNo || d[0].Event.TransactionID != txn {
				t.Errorf("paid event = %+v, want %s's", d[0].Event, paid.OutTradeNo)
			}
			if n, err := e.g.pay.closeExpired(ctx); n != 0 || err != nil {
				t.Errorf("second closeExpired = %d, %v; want 0", n, err)
			}
		})
	}
}

// TestPayReconcile: an order paid while the gateway missed every notify is
// found SUCCESS by a reconciliation, applied and announced once; an unpaid
// one is reported NOTPAY and left; a second reconciliation changes
// nothing.
func TestPayReconcile(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "HMAC-SHA256"})
			ctx := t.Context()
			auth := "Bearer " + e.bearer(t, e.openID)
			unpaid := e.createOrder(t, nil, auth, 100)
			paid := e.createOrder(t, nil, auth, 200)
			e.notifyDown.Store(true)
			txn, err := e.emu.PayOrder(paid.PrepayID, emulator.Payment{OpenID: e.openID})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := e.g.Payments().Reconcile(ctx, store.OrderQuery{})
			if err != nil {
				t.Fatalf("Reconcile = %v", err)
			}
			got := map[string]ReconcileResult{}
			for _, r := range res {
				got[r.Order.OutTradeNo] = r
			}
			if r := got[paid.OutTradeNo]; r.Platform != store.TradeStateSuccess || !r.Changed || r.After != store.TradeStateSuccess || r.Err != nil {
				t.Errorf("Reconcile of the paid order = %+v, want SUCCESS, changed", r)
			}
			if r := got[unpaid.OutTradeNo]; r.Platform != store.TradeStateNotPay || r.Changed || r.After != store.TradeStateNotPay || r.Err != nil {
				t.Errorf("Reconcile of the unpaid order = %+v, want NOTPAY, unchanged", r)
			}
			if len(res) != 2 {
				t.Errorf("Reconcile = %d results, want 2", len(res))
			}
			if o := e.storedOrder(t, paid.OutTradeNo); o.State != store.TradeStateSuccess || o.TransactionID != txn {
				t.Errorf("paid order after Reconcile = %+v, want SUCCESS with %s", o, txn)
			}
			e.paid.wait(t, 1)
			res, err = e.g.Payments().Reconcile(ctx, store.OrderQuery{})
			if err != nil || len(res) != 1 || res[0].Changed {
				t.Errorf("second Reconcile = %+v, %v; want the unpaid order only, unchanged", res, err)
			}
			// The platform's late notify is then a repeat.
			e.notifyDown.Store(false)
			if _, err := e.emu.ResendNotify(ctx, e.mchID, paid.OutTradeNo, 1); err != nil {
				t.Fatal(err)
			}
			labels := map[string]string{"mch_id": e.mchID, "version": version, "outcome": payDuplicate}
			if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != 1 {
				t.Errorf("wxkit_pay_notifies_total{outcome=duplicate} = %v, want 1", got)
			}
			e.g.drain(t.Context())
			if n := len(e.paid.deliveries()); n != 1 {
				t.Errorf("on_paid deliveries = %d, want 1", n)
			}
		})
	}
}
