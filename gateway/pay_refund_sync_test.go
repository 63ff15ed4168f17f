package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

// TestPayReconcileRefunds: refunds whose notifies the gateway missed
// (the platform made them SUCCESS and gave up on nobody answering) stay
// PROCESSING until a reconciliation asks the platform: then they become
// SUCCESS with the order's refunded amount added once, and no event
// beyond the order's paid event; a refund younger than 5 minutes is left
// alone, and one the platform does not know is closed. The sweep of the
// serving instances does the same once per period in a cluster; the
// platform's late notifies are then repeats.
func TestPayReconcileRefunds(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5"})
			ctx := t.Context()
			auth := "Bearer " + e.bearer(t, e.openID)
			oc := e.createOrder(t, nil, auth, 1000)
			if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateSuccess {
				t.Fatalf("order after its pay notify = %s, want SUCCESS", o.State)
			}

			e.notifyDown.Store(true)
			refund := func(amount int64) string {
				t.Helper()
				status, body := e.do(t, nil, "POST", "/pay/orders/"+oc.OutTradeNo+"/refund", auth, map[string]any{"amount": amount})
				var rc RefundCreated
				if status != http.StatusOK || json.Unmarshal(body, &rc) != nil || rc.State != "PROCESSING" {
					t.Fatalf("POST refund = %d %s, want 200 PROCESSING", status, body)
				}
				return rc.OutRefundNo
			}
			r1 := refund(300)
			// A refund whose request never reached the platform.
			now := e.emu.Now()
			ghost := &store.Refund{MchID: e.mchID, OutRefundNo: "R20250101000000GHOSTghost00001", OutTradeNo: oc.OutTradeNo,
				Amount: 100, State: store.RefundStateProcessing, Created: now, Updated: now}
			if err := e.g.Stores().Orders.CreateRefund(ctx, ghost); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil { // the refund succeeds at the platform; its notify is refused
				t.Fatal(err)
			}
			if info, _ := e.emu.MerchantOrder(e.mchID, oc.OutTradeNo); len(info.Refunds) != 1 || info.Refunds[0].State != "SUCCESS" {
				t.Fatalf("the platform's refunds = %+v, want %s SUCCESS", info.Refunds, r1)
			}

			// Younger than 5 minutes: left to its notify.
			res, err := e.g.Payments().ReconcileRefunds(ctx, store.RefundQuery{})
			if err != nil || len(res) != 0 {
				t.Errorf("ReconcileRefunds of refunds made just now = %+v, %v; want none", res, err)
			}
			if _, err := e.emu.Advance(payRefundMinAge + time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil { // the retries, refused too
				t.Fatal(err)
			}
			r2 := refund(200) // young again
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}

			res, err = e.g.Payments().ReconcileRefunds(ctx, store.RefundQuery{})
			if err != nil {
				t.Fatalf("ReconcileRefunds = %v", err)
			}
			got := map[string]RefundReconcileResult{}
			for _, r := range res {
				got[r.Refund.OutRefundNo] = r
			}
			if len(res) != 2 {
				t.Errorf("ReconcileRefunds = %d results, want 2 (the young refund left alone)", len(res))
			}
			if r := got[r1]; r.Platform != store.RefundStateSuccess || !r.Changed || r.After != store.RefundStateSuccess || r.Err != nil {
				t.Errorf("ReconcileRefunds of the refund = %+v, want SUCCESS, changed", r)
			}
			if r := got[ghost.OutRefundNo]; r.Platform != store.RefundStateClosed || !r.Changed || r.After != store.RefundStateClosed || r.Err != nil {
				t.Errorf("ReconcileRefunds of the refund the platform does not know = %+v, want CLOSED, changed", r)
			}
			checkRefund := func(no string, want store.RefundState) {
				t.Helper()
				rf, err := e.g.Stores().Orders.Refund(ctx, e.mchID, no)
				if err != nil || rf.State != want || (want == store.RefundStateSuccess && rf.RefundID == "") {
					t.Errorf("refund %s = %+v, %v; want %s (with the platform's refund_id when SUCCESS)", no, rf, err, want)
				}
			}
			checkRefund(r1, store.RefundStateSuccess)
			checkRefund(ghost.OutRefundNo, store.RefundStateClosed)
			checkRefund(r2, store.RefundStateProcessing)
			if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateRefund || o.Refunded != 300 {
				t.Errorf("order = %s with %d refunded, want REFUND with 300", o.State, o.Refunded)
			}
			if res, err := e.g.Payments().ReconcileRefunds(ctx, store.RefundQuery{}); err != nil || len(res) != 0 {
				t.Errorf("second ReconcileRefunds = %+v, %v; want none (the young refund still left alone)", res, err)
			}

			// The sweep of the serving instances: nothing while another
			// holds the lease; then r2 settles; then not again within the
			// period.
			if _, err := e.emu.Advance(payRefundMinAge + time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			unlock, err := e.g.Stores().Tokens.Lock(ctx, PayRefundLeaseKey, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := e.g.pay.sweepRefunds(ctx); n != 0 || err != nil {
				t.Errorf("sweepRefunds while another instance holds the lease = %d, %v; want 0, nil", n, err)
			}
			checkRefund(r2, store.RefundStateProcessing)
			unlock(ctx)
			if n, err := e.g.pay.sweepRefunds(ctx); n != 1 || err != nil {
				t.Errorf("sweepRefunds = %d, %v; want 1", n, err)
			}
			checkRefund(r2, store.RefundStateSuccess)
			if o := e.storedOrder(t, oc.OutTradeNo); o.Refunded != 500 {
				t.Errorf("order after the sweep = %d refunded, want 500", o.Refunded)
			}

			// The platform's late notifies are repeats.
			e.notifyDown.Store(false)
			for _, no := range []string{r1, r2} {
				if _, err := e.emu.ResendRefundNotify(ctx, e.mchID, no, 1); err != nil {
					t.Fatal(err)
				}
			}
			labels := map[string]string{"mch_id": e.mchID, "version": version, "outcome": payDuplicate}
			if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != 2 {
				t.Errorf("wxkit_pay_notifies_total{outcome=duplicate} = %v, want 2", got)
			}
			labels["outcome"] = payApplied
			if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != 1 {
				t.Errorf("wxkit_pay_notifies_total{outcome=applied} = %v, want 1 (the pay notify)", got)
			}
			if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateRefund || o.Refunded != 500 {
				t.Errorf("order after the late notifies = %s with %d refunded, want REFUND with 500", o.State, o.Refunded)
			}
			e.paid.wait(t, 1)
			e.g.drain(t.Context())
			if d := e.paid.deliveries(); len(d) != 1 || d[0].Event.OutTradeNo != oc.OutTradeNo {
				t.Errorf("on_paid deliveries = %+v, want the order's paid event only", d)
			}
		})
	}
}

// TestPayRefundFailed: refunds the platform fails (the emulator's
// control API: CLOSED, ABNORMAL) are applied from their notifies, and,
// when the notifies are lost, by ReconcileRefunds: the refund takes the
// platform's state, the order stays SUCCESS with nothing refunded, and a
// refund of the closed amount can be made again.
func TestPayRefundFailed(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5",
				editEmulator: func(c *emulator.Config) { c.Merchants[0].RefundDelay = 24 * time.Hour }})
			ctx := t.Context()
			auth := "Bearer " + e.bearer(t, e.openID)
			oc := e.createOrder(t, nil, auth, 1000)
			if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			refund := func(amount int64) string {
				t.Helper()
				status, body := e.do(t, nil, "POST", "/pay/orders/"+oc.OutTradeNo+"/refund", auth, map[string]any{"amount": amount})
				var rc RefundCreated
				if status != http.StatusOK || json.Unmarshal(body, &rc) != nil || rc.State != "PROCESSING" {
					t.Fatalf("POST refund = %d %s, want 200 PROCESSING", status, body)
				}
				return rc.OutRefundNo
			}
			fail := func(no string, st store.RefundState) {
				t.Helper()
				resp, err := http.Post(e.emu.URL+"/_emulator/merchants/"+e.mchID+"/refunds/"+no+"/fail", "application/json",
					strings.NewReader(`{"status":"`+string(st)+`"}`))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST fail %s = %d", no, resp.StatusCode)
				}
				if err := e.emu.WaitNotifies(ctx); err != nil {
					t.Fatal(err)
				}
			}
			checkRefund := func(no string, want store.RefundState) {
				t.Helper()
				rf, err := e.g.Stores().Orders.Refund(ctx, e.mchID, no)
				if err != nil || rf.State != want {
					t.Errorf("refund %s = %+v, %v; want %s", no, rf, err, want)
				}
			}
			checkOrder := func() {
				t.Helper()
				if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateSuccess || o.Refunded != 0 {
					t.Errorf("order = %s with %d refunded, want SUCCESS with 0", o.State, o.Refunded)
				}
			}

			// (a) The notifies arrive.
			closed, abnormal := refund(600), refund(300)
			fail(closed, store.RefundStateClosed)
			fail(abnormal, store.RefundStateAbnormal)
			checkRefund(closed, store.RefundStateClosed)
			checkRefund(abnormal, store.RefundStateAbnormal)
			checkOrder()
			labels := map[string]string{"mch_id": e.mchID, "version": version, "outcome": payApplied}
			if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != 3 {
				t.Errorf("wxkit_pay_notifies_total{outcome=applied} = %v, want 3 (pay, closed, abnormal)", got)
			}

			// (b) The notifies are lost; the reconciliation asks.
			e.notifyDown.Store(true)
			lostClosed := refund(600) // the closed refund's amount is refundable again, here and at the platform
			lostAbnormal := refund(100)
			fail(lostClosed, store.RefundStateClosed)
			fail(lostAbnormal, store.RefundStateAbnormal)
			checkRefund(lostClosed, store.RefundStateProcessing)
			checkRefund(lostAbnormal, store.RefundStateProcessing)
			if _, err := e.emu.Advance(payRefundMinAge + time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := e.g.Payments().ReconcileRefunds(ctx, store.RefundQuery{})
			if err != nil {
				t.Fatalf("ReconcileRefunds = %v", err)
			}
			got := map[string]RefundReconcileResult{}
			for _, r := range res {
				got[r.Refund.OutRefundNo] = r
			}
			if len(res) != 2 {
				t.Errorf("ReconcileRefunds = %d results, want 2", len(res))
			}
			for no, want := range map[string]store.RefundState{lostClosed: store.RefundStateClosed, lostAbnormal: store.RefundStateAbnormal} {
				if r := got[no]; r.Platform != want || !r.Changed || r.After != want || r.Err != nil {
					t.Errorf("ReconcileRefunds of %s = %+v, want %s, changed", no, r, want)
				}
				checkRefund(no, want)
			}
			checkOrder()
		})
	}
}
