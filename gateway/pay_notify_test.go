package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

// TestPayNotifyCopiesApplyOnce: the platform's first notify finds the
// gateway down; then 200 copies of it arrive at once (the control API's
// copies:200, as several of the platform's servers do). Exactly one makes
// the order SUCCESS, the other 199 are acknowledged as repeats, and the
// paid event is delivered once. v2 and v3, on SQLite and PostgreSQL.
func TestPayNotifyCopiesApplyOnce(t *testing.T) {
	for _, st := range payStores {
		for _, version := range []string{PayV2, PayV3} {
			t.Run(st+"/"+version, func(t *testing.T) {
				t.Parallel()
				e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5", store: st})
				auth := "Bearer " + e.bearer(t, e.openID)
				oc := e.createOrder(t, nil, auth, 888)
				e.notifyDown.Store(true)
				if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
					t.Fatal(err)
				}
				if err := e.emu.WaitNotifies(t.Context()); err != nil {
					t.Fatal(err)
				}
				if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateNotPay {
					t.Fatalf("order with the gateway down = %s, want NOTPAY", o.State)
				}
				e.notifyDown.Store(false)

				body := bytes.NewReader([]byte(`{"copies":200}`))
				resp, err := http.Post(e.emu.URL+"/_emulator/merchants/"+e.mchID+"/orders/"+oc.OutTradeNo+"/notify", "application/json", body)
				if err != nil {
					t.Fatal(err)
				}
				var out struct {
					Notifies []emulator.NotifyAttempt `json:"notifies"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("control API notify copies:200 = %d, %v", resp.StatusCode, err)
				}
				acked := 0
				for _, a := range out.Notifies {
					if a.Acknowledged {
						acked++
					}
				}
				if len(out.Notifies) != 200 || acked != 200 {
					t.Fatalf("copies: %d sent, %d acknowledged; want 200, 200 (first error: %s)", len(out.Notifies), acked, firstNotifyError(out.Notifies))
				}
				o := e.storedOrder(t, oc.OutTradeNo)
				if o.State != store.TradeStateSuccess || o.TransactionID == "" {
					t.Fatalf("order = %+v, want SUCCESS", o)
				}
				labels := map[string]string{"mch_id": e.mchID, "version": version}
				for outcome, want := range map[string]float64{payApplied: 1, payDuplicate: 199, payRejected: 0, payError: 0} {
					labels["outcome"] = outcome
					if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != want {
						t.Errorf("wxkit_pay_notifies_total{outcome=%q} = %v, want %v", outcome, got, want)
					}
				}
				e.paid.wait(t, 1)
				// Stop the drainers (a second delivery would have to be in
				// the outbox), then count.
				e.g.drain(context.Background())
				if got := e.paid.deliveries(); len(got) != 1 || got[0].Event.OutTradeNo != oc.OutTradeNo {
					t.Errorf("on_paid deliveries = %d, want 1 for %s", len(got), oc.OutTradeNo)
				}
				checkNoPaidJobs(t, e)
			})
		}
	}
}

func firstNotifyError(as []emulator.NotifyAttempt) string {
	for _, a := range as {
		if !a.Acknowledged {
			return fmt.Sprintf("HTTP %d %s %s", a.HTTPStatus, a.Error, a.Body)
		}
	}
	return "none"
}

// checkNoPaidJobs fails when the outbox holds an on_paid job, due or not,
// alive or dead.
func checkNoPaidJobs(t *testing.T, e *payEnv) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	ob := e.g.Stores().Outbox
	if jobs, err := ob.ClaimJobs(ctx, JobOnPaid, e.emu.Now().Add(365*24*time.Hour), time.Minute, 10); err != nil || len(jobs) != 0 {
		t.Errorf("on_paid jobs left in the outbox: %d (%v)", len(jobs), err)
	}
	if dead, err := ob.DeadJobs(ctx, JobOnPaid, 10); err != nil || len(dead) != 0 {
		t.Errorf("dead on_paid jobs: %d (%v)", len(dead), err)
	}
}

// TestPayNotifyRejected: notifies that are forged, or verified but not
// matching the order (another amount, merchant, app or payer, an unknown
// order), or (v3) signed outside the timestamp tolerance, by an unknown
// key or encrypted with another key, are refused (v2 FAIL, v3 4xx) and
// change nothing: the order stays NOTPAY and no paid event is made; each
// is logged as an alert. The same notify, correct, is then applied. On
// SQLite and PostgreSQL.
func TestPayNotifyRejected(t *testing.T) {
	for _, st := range payStores {
		t.Run(st+"/v2", func(t *testing.T) {
			t.Parallel()
			checkV2Rejections(t, newPayEnv(t, payEnvOptions{version: PayV2, signType: "HMAC-SHA256", store: st}))
		})
		t.Run(st+"/v3", func(t *testing.T) {
			t.Parallel()
			checkV3Rejections(t, newPayEnv(t, payEnvOptions{version: PayV3, store: st}))
		})
	}
}

// rejectedCase is one notify that must be refused.
type rejectedCase struct {
	name   string
	status int // the HTTP status of the refusal
	post   func(t *testing.T) (int, string)
}

// checkRejections posts every case, checks each is refused and changes
// nothing, then posts valid and checks it is applied.
func checkRejections(t *testing.T, e *payEnv, no string, cases []rejectedCase, failBody string, valid func(t *testing.T) (int, string)) {
	t.Helper()
	// (mch_id is not a label here: a notify for a merchant of another
	// gateway counts as mch_id "unknown".)
	labels := map[string]string{"version": e.version, "outcome": payRejected}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.post(t)
			if status != tc.status || !strings.Contains(body, failBody) {
				t.Errorf("answer = %d %s, want %d with %s", status, body, tc.status, failBody)
			}
			if o := e.storedOrder(t, no); o.State != store.TradeStateNotPay || o.TransactionID != "" || !o.PaidAt.IsZero() {
				t.Errorf("order after a refused notify = %+v, want it unchanged (NOTPAY)", o)
			}
			if got := metricSum(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != float64(i+1) {
				t.Errorf("wxkit_pay_notifies_total{outcome=rejected} = %v, want %d", got, i+1)
			}
		})
	}
	if n := strings.Count(e.logs.String(), "alert=true"); n != len(cases) {
		t.Errorf("alerts logged = %d, want %d", n, len(cases))
	}
	checkNoPaidJobs(t, e)
	if got := len(e.paid.deliveries()); got != 0 {
		t.Errorf("on_paid deliveries after refused notifies = %d, want 0", got)
	}
	// The control: the same notify, correct, is applied.
	if status, body := valid(t); status/100 != 2 || strings.Contains(body, "FAIL") {
		t.Fatalf("valid notify = %d %s, want it acknowledged", status, body)
	}
	if o := e.storedOrder(t, no); o.State != store.TradeStateSuccess {
		t.Errorf("order after the valid notify = %s, want SUCCESS", o.State)
	}
	e.paid.wait(t, 1)
}

func checkV2Rejections(t *testing.T, e *payEnv) {
	const amount = 1234
	oc := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), amount)
	path := "/pay/notify/" + e.mchID
	signed := func(edit func(f map[string]string)) func(t *testing.T) (int, string) {
		return func(t *testing.T) (int, string) {
			f := e.v2PayNotify(oc.OutTradeNo, amount, e.openID)
			edit(f)
			f["sign"] = testV2Sign(f, e.apiKey, e.signType)
			return e.postV2(t, path, testV2XML(f))
		}
	}
	cases := []rejectedCase{
		{"signed with another key", http.StatusBadRequest, func(t *testing.T) (int, string) {
			f := e.v2PayNotify(oc.OutTradeNo, amount, e.openID)
			f["sign"] = testV2Sign(f, strings.Repeat("k", 32), e.signType)
			return e.postV2(t, path, testV2XML(f))
		}},
		{"a field added after signing", http.StatusBadRequest, func(t *testing.T) (int, string) {
			f := e.v2PayNotify(oc.OutTradeNo, amount, e.openID)
			f["sign"] = testV2Sign(f, e.apiKey, e.signType)
			f["coupon_fee"] = "1000"
			return e.postV2(t, path, testV2XML(f))
		}},
		{"no sign", http.StatusBadRequest, func(t *testing.T) (int, string) {
			return e.postV2(t, path, testV2XML(e.v2PayNotify(oc.OutTradeNo, amount, e.openID)))
		}},
		{"not XML", http.StatusBadRequest, func(t *testing.T) (int, string) { return e.postV2(t, path, []byte("{}")) }},
		{"wrong amount", http.StatusBadRequest, signed(func(f map[string]string) { f["total_fee"], f["cash_fee"] = "1", "1" })},
		{"wrong mch_id", http.StatusBadRequest, signed(func(f map[string]string) { f["mch_id"] = "1900000110" })},
		{"wrong appid", http.StatusBadRequest, signed(func(f map[string]string) { f["appid"] = "wx1111111111111111" })},
		{"another payer", http.StatusBadRequest, signed(func(f map[string]string) { f["openid"] = "oWxkt1Vd8Jm5Gz1Nw6Hq0Ye7Uk2B" })},
		{"unknown order", http.StatusBadRequest, signed(func(f map[string]string) { f["out_trade_no"] = "20250101000000AAAAAAAAAAAAAAAA" })},
		{"another merchant's URL", http.StatusNotFound, func(t *testing.T) (int, string) {
			f := e.v2PayNotify(oc.OutTradeNo, amount, e.openID)
			f["sign"] = testV2Sign(f, e.apiKey, e.signType)
			return e.postV2(t, "/pay/notify/1900000110", testV2XML(f))
		}},
	}
	checkRejections(t, e, oc.OutTradeNo, cases, "<return_code><![CDATA[FAIL]]></return_code>", signed(func(map[string]string) {}))
}

func checkV3Rejections(t *testing.T, e *payEnv) {
	const amount = 4321
	oc := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), amount)
	path := "/pay/v3/notify/" + e.mchID
	send := func(edit func(tx *v3Transaction), ts time.Duration, key *rsa.PrivateKey, serial, apiV3Key string) func(t *testing.T) (int, string) {
		return func(t *testing.T) (int, string) {
			tx := e.v3PayNotify(oc.OutTradeNo, amount, e.openID)
			edit(tx)
			n := signV3Notify(t, "TRANSACTION.SUCCESS", "transaction", tx, apiV3Key, e.emu.Now().Add(ts), key, serial)
			return e.postV3(t, path, n)
		}
	}
	same := func(*v3Transaction) {}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []rejectedCase{
		{"signed by another key", http.StatusUnauthorized, send(same, 0, otherKey, e.pubKeyID, e.v3Key)},
		{"unknown serial", http.StatusUnauthorized, send(same, 0, otherKey, "PUB_KEY_ID_0119000001092024010100000000000099", e.v3Key)},
		{"timestamp 6 minutes old", http.StatusUnauthorized, send(same, -6*time.Minute, e.platformKey, e.pubKeyID, e.v3Key)},
		{"timestamp 6 minutes ahead", http.StatusUnauthorized, send(same, 6*time.Minute, e.platformKey, e.pubKeyID, e.v3Key)},
		{"encrypted with another APIv3 key", http.StatusBadRequest, send(same, 0, e.platformKey, e.pubKeyID, strings.Repeat("k", 32))},
		{"body changed after signing", http.StatusUnauthorized, func(t *testing.T) (int, string) {
			n := signV3Notify(t, "TRANSACTION.SUCCESS", "transaction", e.v3PayNotify(oc.OutTradeNo, amount, e.openID), e.v3Key, e.emu.Now(), e.platformKey, e.pubKeyID)
			n.body = bytes.Replace(n.body, []byte(`"summary":"支付成功"`), []byte(`"summary":"支付成功 "`), 1)
			return e.postV3(t, path, n)
		}},
		{"wrong amount", http.StatusBadRequest, send(func(tx *v3Transaction) { tx.Amount.Total, tx.Amount.PayerTotal = 1, 1 }, 0, e.platformKey, e.pubKeyID, e.v3Key)},
		{"wrong mch_id", http.StatusBadRequest, send(func(tx *v3Transaction) { tx.MchID = "1900000110" }, 0, e.platformKey, e.pubKeyID, e.v3Key)},
		{"wrong appid", http.StatusBadRequest, send(func(tx *v3Transaction) { tx.AppID = "wx1111111111111111" }, 0, e.platformKey, e.pubKeyID, e.v3Key)},
		{"another payer", http.StatusBadRequest, send(func(tx *v3Transaction) { tx.Payer.OpenID = "oWxkt1Vd8Jm5Gz1Nw6Hq0Ye7Uk2B" }, 0, e.platformKey, e.pubKeyID, e.v3Key)},
		{"unknown order", http.StatusBadRequest, send(func(tx *v3Transaction) { tx.OutTradeNo = "20250101000000AAAAAAAAAAAAAAAA" }, 0, e.platformKey, e.pubKeyID, e.v3Key)},
	}
	checkRejections(t, e, oc.OutTradeNo, cases, `"code":"FAIL"`, send(same, 0, e.platformKey, e.pubKeyID, e.v3Key))
}

// TestPayNotifyStoreDown: a notify that arrives while the order store
// fails is answered FAIL (v2) / 500 (v3), so the platform sends it again;
// its next delivery applies it.
func TestPayNotifyStoreDown(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5"})
			oc := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), 50)
			down := &failingOrders{orderStore: e.g.Stores().Orders}
			down.fail.Store(true)
			e.g.pay.orders = down
			if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(t.Context()); err != nil {
				t.Fatal(err)
			}
			info, _ := e.emu.MerchantOrder(e.mchID, oc.OutTradeNo)
			if len(info.Notifies) != 1 || info.Notifies[0].Acknowledged || info.Notifies[0].HTTPStatus != http.StatusInternalServerError {
				t.Fatalf("notify with the store down = %+v, want one answered 500, not acknowledged", info.Notifies)
			}
			labels := map[string]string{"mch_id": e.mchID, "version": version, "outcome": payError}
			if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_pay_notifies_total", labels); got != 1 {
				t.Errorf("wxkit_pay_notifies_total{outcome=error} = %v, want 1", got)
			}
			down.fail.Store(false)
			if _, err := e.emu.Advance(15 * time.Second); err != nil { // the platform's first retry
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(t.Context()); err != nil {
				t.Fatal(err)
			}
			if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateSuccess {
				t.Errorf("order after the retry = %s, want SUCCESS", o.State)
			}
			e.paid.wait(t, 1)
		})
	}
}

// failingOrders is an order store whose reads and transitions fail while
// fail is set (a database that is down).
type failingOrders struct {
	orderStore
	fail atomic.Bool
}

// orderStore lets failingOrders embed a store.Orders (whose method Orders
// would clash with a field of that name).
type orderStore interface{ store.Orders }

var errStoreDown = errors.New("test: the order store is down")

func (f *failingOrders) Order(ctx context.Context, mchID, outTradeNo string) (*store.Order, error) {
	if f.fail.Load() {
		return nil, errStoreDown
	}
	return f.orderStore.Order(ctx, mchID, outTradeNo)
}

func (f *failingOrders) ApplyPayment(ctx context.Context, p *store.Payment, announce *store.Job) (bool, error) {
	if f.fail.Load() {
		return false, errStoreDown
	}
	return f.orderStore.ApplyPayment(ctx, p, announce)
}

// metricSum sums the counters of name whose labels include labels.
func metricSum(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather = %v", err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			n := 0
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok {
					if v != lp.GetValue() {
						continue series
					}
					n++
				}
			}
			if n == len(labels) {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
