package gateway

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

func TestOnPaidRetry(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	for n := 1; n <= 12; n++ {
		d, ok := onPaidRetry(n)
		if !ok {
			t.Fatalf("onPaidRetry(%d) gives up; paid events are retried until OnPaidMaxAge", n)
		}
		got = append(got, d)
	}
	s, h := time.Second, time.Hour
	want := []time.Duration{5 * s, 10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 320 * s, 640 * s, 1280 * s, 2560 * s, h, h}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("onPaidRetry pauses (-want +got):\n%s", d)
	}
	if d, _ := onPaidRetry(1000); d != h {
		t.Errorf("onPaidRetry(1000) = %s, want %s", d, h)
	}
}

func TestSignOnPaid(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event":"paid","out_trade_no":"x"}`)
	const key = "on-paid-test-secret-0123456789"
	// printf '%s' BODY | openssl dgst -sha256 -hmac KEY
	const sig = "sha256=5a0d044fdac92dd9b5ae0a9ae5ccf78e660fe928f7f70a853c8daf14e082502b"
	if got := SignOnPaid(key, body); got != sig {
		t.Fatalf("SignOnPaid = %q, want %q", got, sig)
	}
	for _, tc := range []struct {
		name      string
		secret    string
		body      []byte
		signature string
		want      bool
	}{
		{"valid", key, body, sig, true},
		{"valid with spaces", key, body, " " + sig + " ", true},
		{"another secret", "another-secret-0123456789", body, sig, false},
		{"another body", key, append(bytes.Clone(body), ' '), sig, false},
		{"no prefix", key, body, sig[7:], false},
		{"empty", key, body, "", false},
	} {
		if got := VerifyOnPaid(tc.secret, tc.body, tc.signature); got != tc.want {
			t.Errorf("%s: VerifyOnPaid = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOnPaidRetriedUntil2xx: a forward that answers 503 gets the same
// event again (same delivery id, same signed body) after a backoff on the
// gateway's clock, until it answers 2xx; then nothing more.
func TestOnPaidRetriedUntil2xx(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t, payEnvOptions{version: PayV2, signType: "MD5"})
	e.paid.failNext.Store(2)
	oc := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), 321)
	if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
		t.Fatal(err)
	}
	// Move the clock on until the third delivery (the backoff runs on the
	// gateway's clock, here the emulator's).
	deadline := time.Now().Add(30 * time.Second)
	for len(e.paid.deliveries()) < 3 && time.Now().Before(deadline) {
		select {
		case <-e.paid.more:
		case <-time.After(200 * time.Millisecond):
			if _, err := e.emu.Advance(5 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The third attempt is complete once the drainer has recorded it.
	labels := map[string]string{"kind": JobOnPaid, "outcome": "done"}
	for metricValue(t, e.g.MetricsRegistry(), "wxkit_outbox_jobs_total", labels) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	e.g.drain(t.Context())
	got := e.paid.deliveries()
	if len(got) != 3 {
		t.Fatalf("deliveries = %d, want 3 (two refused, then accepted)", len(got))
	}
	for i, d := range got {
		if d.Delivery != got[0].Delivery || !bytes.Equal(d.Body, got[0].Body) || !d.SignatureOK || d.Refused != (i < 2) {
			t.Errorf("delivery %d = %+v, want the first's id and body, signed, refused only twice", i, d)
		}
	}
	for outcome, want := range map[string]float64{"retry": 2, "done": 1, "dead": 0} {
		labels["outcome"] = outcome
		if got := metricValue(t, e.g.MetricsRegistry(), "wxkit_outbox_jobs_total", labels); got != want {
			t.Errorf("wxkit_outbox_jobs_total{kind=on_paid,outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	checkNoPaidJobs(t, e)
}

// TestOnPaidOff: without on_paid.forward, a payment enqueues nothing.
func TestOnPaidOff(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t, payEnvOptions{version: PayV3, noForward: true})
	oc := e.createOrder(t, nil, "Bearer "+e.bearer(t, e.openID), 10)
	if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
		t.Fatal(err)
	}
	if err := e.emu.WaitNotifies(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o := e.storedOrder(t, oc.OutTradeNo); o.State != store.TradeStateSuccess {
		t.Fatalf("order = %s, want SUCCESS", o.State)
	}
	checkNoPaidJobs(t, e)
	if n := len(e.paid.deliveries()); n != 0 {
		t.Errorf("deliveries without a forward = %d", n)
	}
}
