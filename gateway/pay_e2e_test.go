package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

// payStores are the SQL stores every pay end-to-end test runs on
// (PostgreSQL is skipped when the test server is down, unless CI=true).
var payStores = []string{"sqlite", "postgres"}

// TestPayEndToEnd: a user signs in (web login, session cookie), places an
// order, checks the pay parameters as the WeChat client does and pays on
// the emulator's pay sheet; the platform's notify makes the order SUCCESS
// and the paid event reaches the application, signed; a partial refund and
// its notify make the order REFUND. v2 (MD5, HMAC-SHA256) and v3, on
// SQLite and PostgreSQL.
func TestPayEndToEnd(t *testing.T) {
	for _, st := range payStores {
		for _, k := range payTestKinds {
			t.Run(st+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				e := newPayEnv(t, payEnvOptions{version: k.version, signType: k.signType, store: st})
				checkPayFlow(t, e)
			})
		}
	}
}

func checkPayFlow(t *testing.T, e *payEnv) {
	ctx := t.Context()
	c := e.browser(t)
	if status, body := e.do(t, c, "POST", "/pay/orders", "", map[string]any{"amount": 1, "description": "x"}); status != http.StatusUnauthorized {
		t.Fatalf("POST /pay/orders before login = %d %s, want 401", status, body)
	}
	if resp, body := get(t, c, e.url+"/oauth/login?return=/shop"); resp.Request.URL.Path != "/shop" {
		t.Fatalf("login ended at %s (%d %s), want /shop", resp.Request.URL, resp.StatusCode, body)
	}

	const amount = 1999
	oc := e.createOrder(t, c, "", amount)
	if !outNoPattern.MatchString(oc.OutTradeNo) || oc.PrepayID == "" {
		t.Fatalf("order = %+v, want an out_trade_no of [0-9A-Za-z_-]{1,32} and a prepay_id", oc)
	}
	e.checkPayParams(t, oc)
	if got := e.orderStatus(t, c, "", oc.OutTradeNo); got.State != "NOTPAY" || got.PaidAt != nil || got.Amount != amount {
		t.Fatalf("order before paying = %+v, want NOTPAY of %d fen", got, amount)
	}
	emuOrder, err := e.emu.MerchantOrder(e.mchID, oc.OutTradeNo)
	if err != nil {
		t.Fatalf("MerchantOrder = %v", err)
	}
	if emuOrder.Version != e.version || emuOrder.Amount != amount || emuOrder.OpenID != e.openID || emuOrder.Description != "wxkit T恤" {
		t.Errorf("the platform's order = %+v, want a %s order of %d fen for %s", emuOrder, e.version, amount, e.openID)
	}

	// The user pays: the WeChat client checks the parameters first.
	txn, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID, PayParams: payParamsMap(oc.PayParams)})
	if err != nil {
		t.Fatalf("PayOrder = %v", err)
	}
	if err := e.emu.WaitNotifies(ctx); err != nil {
		t.Fatal(err)
	}
	emuOrder, _ = e.emu.MerchantOrder(e.mchID, oc.OutTradeNo)
	if len(emuOrder.Notifies) != 1 || !emuOrder.Notifies[0].Acknowledged {
		t.Fatalf("pay notifies = %+v, want one, acknowledged", emuOrder.Notifies)
	}
	got := e.orderStatus(t, c, "", oc.OutTradeNo)
	if got.State != "SUCCESS" || got.TransactionID != txn || got.PaidAt == nil {
		t.Fatalf("order after paying = %+v, want SUCCESS with transaction_id %s and paid_at", got, txn)
	}
	if !got.PaidAt.Equal(emuOrder.PaidAt.Truncate(time.Second)) {
		t.Errorf("paid_at = %v, want the platform's %v", got.PaidAt, emuOrder.PaidAt)
	}

	d := e.paid.wait(t, 1)[0]
	want := PaidEvent{Event: "paid", OutTradeNo: oc.OutTradeNo, MchID: e.mchID, AppID: e.appID, OpenID: e.openID,
		Amount: amount, TransactionID: txn, PaidAt: *got.PaidAt}
	if diff := cmp.Diff(want, d.Event, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("paid event (-want +got):\n%s", diff)
	}
	if !d.SignatureOK || d.Delivery == "" || d.EventHeader != "paid" {
		t.Errorf("paid event headers: signature ok %v, delivery %q, event %q; want a valid signature, an id and paid",
			d.SignatureOK, d.Delivery, d.EventHeader)
	}
	if !VerifyOnPaid(testPaidSecret, d.Body, SignOnPaid(testPaidSecret, d.Body)) || VerifyOnPaid("another-secret-0123456", d.Body, SignOnPaid(testPaidSecret, d.Body)) {
		t.Errorf("VerifyOnPaid does not tell the secret")
	}

	// A partial refund, then its notify.
	status, body := e.do(t, c, "POST", "/pay/orders/"+oc.OutTradeNo+"/refund", "", map[string]any{"amount": 500, "reason": "尺码不合适"})
	if status != http.StatusOK {
		t.Fatalf("POST refund = %d %s, want 200", status, body)
	}
	var rc RefundCreated
	if err := json.Unmarshal(body, &rc); err != nil || rc.OutRefundNo == "" || rc.State != "PROCESSING" {
		t.Fatalf("POST refund = %s, want an out_refund_no, PROCESSING", body)
	}
	if err := e.emu.WaitNotifies(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.orderStatus(t, c, "", oc.OutTradeNo); got.State != "REFUND" || got.Refunded != 500 {
		t.Errorf("order after the refund notify = %+v, want REFUND with 500 refunded", got)
	}
	rf, err := e.g.Stores().Orders.Refund(ctx, e.mchID, rc.OutRefundNo)
	if err != nil || rf.State != store.RefundStateSuccess || rf.RefundID == "" || rf.Amount != 500 || rf.Reason != "尺码不合适" {
		t.Errorf("stored refund = %+v, %v; want SUCCESS of 500 with the platform's refund_id", rf, err)
	}
	emuOrder, _ = e.emu.MerchantOrder(e.mchID, oc.OutTradeNo)
	if n := len(emuOrder.Notifies); n != 2 || !emuOrder.Notifies[1].Acknowledged || emuOrder.Notifies[1].OutRefundNo != rc.OutRefundNo {
		t.Errorf("notifies after the refund = %+v, want the refund's, acknowledged", emuOrder.Notifies)
	}
	// More than is left is refused before the platform is asked.
	if status, body := e.do(t, c, "POST", "/pay/orders/"+oc.OutTradeNo+"/refund", "", map[string]any{"amount": amount - 500 + 1}); status != http.StatusConflict {
		t.Errorf("refund of more than is left = %d %s, want 409", status, body)
	}
	labels := map[string]string{"mch_id": e.mchID, "version": e.version}
	for outcome, want := range map[string]float64{payApplied: 2, payRejected: 0, payError: 0} {
		labels["outcome"] = outcome
		if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != want {
			t.Errorf("wxkit_pay_notifies_total{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
	// Only one paid event: the refund is not one.
	if got := len(e.paid.deliveries()); got != 1 {
		t.Errorf("on_paid deliveries = %d, want 1", got)
	}
}

// TestPayOrderAccess: the order routes need a session (cookie or bearer),
// show an order to its owner only, and refuse bad bodies with a JSON
// error carrying the request id.
func TestPayOrderAccess(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t, payEnvOptions{version: PayV3})
	users := emulator.DefaultConfig().Apps[0].Users
	alice, bob := "Bearer "+e.bearer(t, users[0].OpenID), "Bearer "+e.bearer(t, users[1].OpenID)
	oc := e.createOrder(t, nil, alice, 100)
	if got := e.orderStatus(t, nil, alice, oc.OutTradeNo); got.State != "NOTPAY" || got.MchID != e.mchID {
		t.Errorf("owner's GET = %+v, want NOTPAY at %s", got, e.mchID)
	}
	expired := e.bearer(t, users[2].OpenID)
	if err := e.g.Stores().Sessions.DeleteSession(t.Context(), expired); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, auth string
		body                     any
		status                   int
	}{
		{"another user's order", "GET", "/pay/orders/" + oc.OutTradeNo, bob, nil, http.StatusNotFound},
		{"another user's refund", "POST", "/pay/orders/" + oc.OutTradeNo + "/refund", bob, map[string]any{"amount": 1}, http.StatusNotFound},
		{"no session", "GET", "/pay/orders/" + oc.OutTradeNo, "", nil, http.StatusUnauthorized},
		{"ended session", "GET", "/pay/orders/" + oc.OutTradeNo, "Bearer " + expired, nil, http.StatusUnauthorized},
		{"not bearer", "GET", "/pay/orders/" + oc.OutTradeNo, "Basic YTpi", nil, http.StatusUnauthorized},
		{"unknown order", "GET", "/pay/orders/20250101000000abcdefABCDEF1234", alice, nil, http.StatusNotFound},
		{"malformed order number", "GET", "/pay/orders/a.b", alice, nil, http.StatusNotFound},
		{"zero amount", "POST", "/pay/orders", alice, map[string]any{"amount": 0, "description": "x"}, http.StatusBadRequest},
		{"fractional amount", "POST", "/pay/orders", alice, map[string]any{"amount": 1.5, "description": "x"}, http.StatusBadRequest},
		{"huge amount", "POST", "/pay/orders", alice, map[string]any{"amount": int64(1) << 40, "description": "x"}, http.StatusBadRequest},
		{"no description", "POST", "/pay/orders", alice, map[string]any{"amount": 1}, http.StatusBadRequest},
		{"long description", "POST", "/pay/orders", alice, map[string]any{"amount": 1, "description": string(bytes.Repeat([]byte("字"), 43))}, http.StatusBadRequest},
		{"control character", "POST", "/pay/orders", alice, map[string]any{"amount": 1, "description": "a\x00b"}, http.StatusBadRequest},
		{"unknown field", "POST", "/pay/orders", alice, map[string]any{"amount": 1, "description": "x", "price": 1}, http.StatusBadRequest},
		{"unknown merchant", "POST", "/pay/orders", alice, map[string]any{"amount": 1, "description": "x", "mch_id": "1900000999"}, http.StatusBadRequest},
		{"refund of an unpaid order", "POST", "/pay/orders/" + oc.OutTradeNo + "/refund", alice, map[string]any{"amount": 1}, http.StatusConflict},
		{"refund without amount", "POST", "/pay/orders/" + oc.OutTradeNo + "/refund", alice, map[string]any{"reason": "x"}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, nil, tc.method, tc.path, tc.auth, tc.body)
			if status != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.status)
			}
			var je jsonError
			if err := json.Unmarshal(body, &je); err != nil || je.Error == "" || je.RequestID == "" {
				t.Errorf("%s %s body = %s, want {\"error\",\"request_id\"}", tc.method, tc.path, body)
			}
		})
	}
	// A body over limits.max_json_body_bytes is refused.
	big := map[string]any{"amount": 1, "description": string(bytes.Repeat([]byte("x"), 70<<10))}
	if status, body := e.do(t, nil, "POST", "/pay/orders", alice, big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /pay/orders with a 70 KiB body = %d %s, want 413", status, body)
	}
}

// TestPayMerchantChoice: with two merchants for one app, an order goes to
// the first unless mch_id names the other; a merchant of another app is
// refused.
func TestPayMerchantChoice(t *testing.T) {
	t.Parallel()
	cfg := &Config{Store: "sqlite://" + t.TempDir() + "/m.db", Pay: PayConfig{Merchants: []PayMerchantConfig{
		{MchID: "1900000109", AppIDs: []string{"wx0123456789abcdef"}, APIKey: emulator.DemoAPIKey},
		{MchID: "1900000110", AppIDs: []string{"wx0123456789abcdef", "wx1111111111111111"}, APIKey: emulator.DemoAPIKey},
		{MchID: "1900000111", AppIDs: []string{"wx2222222222222222"}, APIKey: emulator.DemoAPIKey},
	}}}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	p := &Payments{merchants: map[string]*payMerchant{}}
	for i := range cfg.Pay.Merchants {
		m := &payMerchant{cfg: &cfg.Pay.Merchants[i]}
		p.merchants[m.cfg.MchID] = m
		p.list = append(p.list, m)
	}
	for _, tc := range []struct {
		appID, mchID string
		want         string
		status       int
	}{
		{"wx0123456789abcdef", "", "1900000109", 0},
		{"wx0123456789abcdef", "1900000110", "1900000110", 0},
		{"wx1111111111111111", "", "1900000110", 0},
		{"wx0123456789abcdef", "1900000111", "", http.StatusForbidden},
		{"wx3333333333333333", "", "", http.StatusForbidden},
		{"wx0123456789abcdef", "1", "", http.StatusBadRequest},
	} {
		m, status, _ := p.merchantFor(tc.appID, tc.mchID)
		got := ""
		if m != nil {
			got = m.cfg.MchID
		}
		if got != tc.want || status != tc.status {
			t.Errorf("merchantFor(%s, %q) = %q, %d; want %q, %d", tc.appID, tc.mchID, got, status, tc.want, tc.status)
		}
	}
}

// waitStored polls the store until f accepts order no (failing after 20
// s): for effects of notifies delivered in the background.
func (e *payEnv) waitStored(t *testing.T, no string, f func(o *store.Order) bool) *store.Order {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		o := e.storedOrder(t, no)
		if f(o) {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s = %+v after 20 s", no, o)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(context.Cause(t.Context()))
		}
	}
}

// TestPayPlatformModes: a v3 merchant whose platform signs with
// certificates only (the gateway downloads them), or with both its
// certificate and its public key in turn (a merchant switching; the
// gateway holds the public key and downloads the certificate as well):
// prepay replies and notifies verify whichever key signed them, and the
// orders are paid.
func TestPayPlatformModes(t *testing.T) {
	for _, mode := range []emulator.PlatformMode{emulator.PlatformModeCertificate, emulator.PlatformModeBoth} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: PayV3, platformMode: mode})
			auth := "Bearer " + e.bearer(t, e.openID)
			const n = 4 // in both mode, replies and notifies alternate between the two keys
			for i := range n {
				oc := e.createOrder(t, nil, auth, int64(10+i))
				e.checkPayParams(t, oc)
				if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
					t.Fatal(err)
				}
				if err := e.emu.WaitNotifies(t.Context()); err != nil {
					t.Fatal(err)
				}
				if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateSuccess {
					info, _ := e.emu.MerchantOrder(e.mchID, oc.OutTradeNo)
					t.Fatalf("order %d = %s, want SUCCESS; notifies %+v", i, o.State, info.Notifies)
				}
			}
			serials := map[string]bool{}
			for _, s := range e.g.pay.merchants[e.mchID].v3.Verifier().Serials() {
				serials[s] = true
			}
			want := 1
			if mode == emulator.PlatformModeBoth {
				want = 2
			}
			if len(serials) != want {
				t.Errorf("the gateway trusts %d platform keys (%v), want %d", len(serials), serials, want)
			}
			e.paid.wait(t, n)
		})
	}
}
