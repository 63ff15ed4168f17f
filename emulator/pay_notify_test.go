package emulator

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// attemptTimes returns the At of the order's notify deliveries, as offsets
// from t0.
func attemptTimes(t *testing.T, e *Emulator, outTradeNo string) []time.Duration {
	t.Helper()
	o, err := e.MerchantOrder(testMchID, outTradeNo)
	if err != nil {
		t.Fatal(err)
	}
	out := []time.Duration{}
	for _, a := range o.Notifies {
		out = append(out, a.At.Sub(t0))
	}
	return out
}

func TestPayNotifyRetrySchedule(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	f.srv.setAnswer(func(int, received) (int, string) { return 200, v2FailAns })
	prepay := f.unifiedOrder("RETRY00001", 1, nil)
	f.pay(prepay, Payment{})
	steps := []struct {
		advance time.Duration
		want    []time.Duration
	}{
		{0, []time.Duration{0}},
		{15 * time.Second, []time.Duration{0, 15 * time.Second}},
		{15 * time.Second, []time.Duration{0, 15 * time.Second, 30 * time.Second}},
		// A merchant answering FAIL three times gets the 4th delivery 15+15+30 s after the first.
		{29 * time.Second, []time.Duration{0, 15 * time.Second, 30 * time.Second}},
		{time.Second, []time.Duration{0, 15 * time.Second, 30 * time.Second, 60 * time.Second}},
	}
	for i, s := range steps {
		f.advance(s.advance)
		if diff := cmp.Diff(s.want, attemptTimes(t, f.e, "RETRY00001")); diff != "" {
			t.Fatalf("step %d (+%s): deliveries (-want +got):\n%s", i, s.advance, diff)
		}
	}
	// A jump of a day plays out the rest of the schedule in order: 16 deliveries in all.
	f.advance(25 * time.Hour)
	var want []time.Duration
	var at time.Duration
	want = append(want, 0)
	for _, d := range DefaultNotifySchedule() {
		at += d
		want = append(want, at)
	}
	if at != 24*time.Hour+4*time.Minute {
		t.Fatalf("the schedule sums to %s, want 24h4m", at)
	}
	if diff := cmp.Diff(want, attemptTimes(t, f.e, "RETRY00001")); diff != "" {
		t.Fatalf("deliveries after a day (-want +got):\n%s", diff)
	}
	f.advance(48 * time.Hour)
	if n := len(f.srv.received()); n != 16 {
		t.Errorf("deliveries after the schedule = %d, want 16", n)
	}
	o, _ := f.e.MerchantOrder(testMchID, "RETRY00001")
	for i, a := range o.Notifies {
		if a.Attempt != i+1 || a.Acknowledged || a.HTTPStatus != 200 || a.Body != v2FailAns || a.Error != `return_code "FAIL"` {
			t.Errorf("delivery %d = %+v", i, a)
		}
	}
	// Every delivery carries the same notify.
	got := f.srv.received()
	for i := range got {
		if string(got[i].Body) != string(got[0].Body) {
			t.Errorf("delivery %d differs from the first", i)
		}
	}
	if st := f.e.Stats().Pay[testMchID]; st.NotifyDeliveries != 16 || st.Acknowledged != 0 || st.Paid != 1 || st.Orders != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPayNotifyStopsWhenAcknowledged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v3      bool
		answers []string // "status body"
		want    int      // deliveries until acknowledged
	}{
		{"v2 FAIL, non-XML, then SUCCESS", false, []string{"200 " + v2FailAns, "200 success", "200 " + v2Success}, 3},
		{"v2 500 with SUCCESS body, then SUCCESS", false, []string{"500 " + v2Success, "200 " + v2Success}, 2},
		{"v2 SUCCESS at once", false, []string{"200 " + v2Success}, 1},
		{"v3 500, 404, then 204", true, []string{`500 {"code":"FAIL","message":"失败"}`, "404 ", "204 "}, 3},
		{"v3 200 with any body", true, []string{`200 {"code":"FAIL"}`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newPayFixture(t, nil)
			f.srv.setAnswer(func(n int, _ received) (int, string) {
				a := tt.answers[min(n, len(tt.answers))-1]
				status, body, _ := strings.Cut(a, " ")
				code := map[string]int{"200": 200, "204": 204, "404": 404, "500": 500}[status]
				return code, body
			})
			var prepay string
			if tt.v3 {
				prepay = f.prepayV3("ACK0000001", 1)
			} else {
				prepay = f.unifiedOrder("ACK0000001", 1, nil)
			}
			f.pay(prepay, Payment{})
			f.advance(24 * time.Hour)
			f.advance(24 * time.Hour)
			o, _ := f.e.MerchantOrder(testMchID, "ACK0000001")
			if len(o.Notifies) != tt.want {
				t.Fatalf("deliveries = %d, want %d: %+v", len(o.Notifies), tt.want, o.Notifies)
			}
			for i, a := range o.Notifies {
				if a.Acknowledged != (i == tt.want-1) {
					t.Errorf("delivery %d acknowledged = %v (%+v)", i, a.Acknowledged, a)
				}
			}
		})
	}
}

func TestPayNotifyTimeoutAndRefused(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, func(m *MerchantConfig) { m.NotifyTimeout = 50 * time.Millisecond })
	f.srv.setAnswer(func(n int, r received) (int, string) { return 200, v2Success })
	block := make(chan struct{})
	slow := httptest.NewServer(handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // so that the server sees the platform hang up
		select {                  // answer only once the platform gave up
		case <-r.Context().Done():
		case <-block:
		}
	}))
	defer slow.Close()
	defer close(block)
	prepay := f.unifiedOrder("SLOW000001", 1, map[string]string{"notify_url": slow.URL + "/notify"})
	f.pay(prepay, Payment{})
	o, _ := f.e.MerchantOrder(testMchID, "SLOW000001")
	if len(o.Notifies) != 1 || o.Notifies[0].HTTPStatus != 0 || o.Notifies[0].Error != "timeout: no answer within 50ms" {
		t.Errorf("deliveries = %+v", o.Notifies)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	prepay = f.unifiedOrder("DOWN000001", 1, map[string]string{"notify_url": url + "/notify"})
	f.pay(prepay, Payment{})
	o, _ = f.e.MerchantOrder(testMchID, "DOWN000001")
	if len(o.Notifies) != 1 || !strings.HasPrefix(o.Notifies[0].Error, "connection error: ") {
		t.Errorf("deliveries = %+v", o.Notifies)
	}
}

func TestPayNotifyCopiesAtOnce(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, func(m *MerchantConfig) { m.NotifyTimeout = 30 * time.Second })
	const copies = 20
	var arrived atomic.Int32
	all := make(chan struct{})
	var together atomic.Int32
	f.srv.setAnswer(func(n int, r received) (int, string) {
		if n == 1 { // the first delivery, right after the payment
			return 200, v2FailAns
		}
		if arrived.Add(1) == copies {
			close(all)
		}
		select { // every copy is answered only once all have arrived: they are sent at once
		case <-all:
			together.Add(1)
		case <-time.After(10 * time.Second):
		}
		return 200, v2Success
	})
	prepay := f.unifiedOrder("COPY000001", 1, nil)
	f.pay(prepay, Payment{})
	var res struct {
		Notifies []NotifyAttempt `json:"notifies"`
	}
	if code := control(t, f.e, "POST", "/_emulator/merchants/"+testMchID+"/orders/COPY000001/notify", `{"copies":20}`, &res); code != 200 {
		t.Fatalf("POST notify = %d", code)
	}
	if len(res.Notifies) != copies || together.Load() != copies {
		t.Fatalf("copies answered = %d, together = %d, want %d", len(res.Notifies), together.Load(), copies)
	}
	body := f.srv.received()[0].Body
	for i, a := range res.Notifies {
		if !a.Acknowledged || a.Attempt != 0 || a.Request != string(body) {
			t.Errorf("copy %d = %+v", i, a)
		}
	}
	// An acknowledged copy ends the retries.
	f.advance(24 * time.Hour)
	if n := len(f.srv.received()); n != 1+copies {
		t.Errorf("deliveries = %d, want %d (no retry after an acknowledged copy)", n, 1+copies)
	}
	if o, _ := f.e.MerchantOrder(testMchID, "COPY000001"); len(o.Notifies) != 1+copies {
		t.Errorf("recorded deliveries = %d", len(o.Notifies))
	}
	tests := []struct {
		target, body string
		status       int
	}{
		{"/_emulator/merchants/" + testMchID + "/orders/COPY000001/notify", `{"copies":0}`, 400},
		{"/_emulator/merchants/" + testMchID + "/orders/COPY000001/notify", `{"copies":1001}`, 400},
		{"/_emulator/merchants/" + testMchID + "/orders/COPY000001/notify", `{"copy":1}`, 400},
		{"/_emulator/merchants/" + testMchID + "/orders/NOPE/notify", `{"copies":1}`, 404},
		{"/_emulator/merchants/1/orders/COPY000001/notify", `{"copies":1}`, 404},
	}
	for _, tt := range tests {
		if code := control(t, f.e, "POST", tt.target, tt.body, nil); code != tt.status {
			t.Errorf("POST %s %s = %d, want %d", tt.target, tt.body, code, tt.status)
		}
	}
	f.unifiedOrder("UNPAID0001", 1, nil)
	if code := control(t, f.e, "POST", "/_emulator/merchants/"+testMchID+"/orders/UNPAID0001/notify", "", nil); code != 409 {
		t.Errorf("notify of an unpaid order = %d, want 409", code)
	}
}

// handlerTransport delivers requests to a handler in-process (no network),
// honouring the request's context.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.h.ServeHTTP(w, r)
	}()
	select {
	case <-done:
		return w.Result(), nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

func TestPayNotifyWallClock(t *testing.T) {
	t.Parallel()
	// With a clock that moves by itself, retries fire on their own time.
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Time
		start := time.Now()
		merchant := handlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
			_, _ = w.Write([]byte(v2FailAns))
		})
		cfg := testConfig()
		cfg.Apps[0].Users[0].OpenID = testOpenID
		cfg.Merchants = []MerchantConfig{{MchID: testMchID, AppIDs: []string{testAppID}, APIKey: testAPIKey}}
		e, err := New(cfg, WithClock(ClockFunc(time.Now)), WithHTTPClient(&http.Client{Transport: handlerTransport{merchant}}))
		if err != nil {
			t.Fatal(err)
		}
		o, perr := e.pay.prepay(e.pay.merchant(testMchID), "v2", prepayParams{AppID: testAppID, Description: "b",
			OutTradeNo: "WALL000001", NotifyURL: "http://merchant.test/notify", TradeType: "JSAPI", OpenID: testOpenID, Amount: 1})
		if perr != nil {
			t.Fatal(perr)
		}
		if _, err := e.PayOrder(o.prepayID, Payment{}); err != nil {
			t.Fatal(err)
		}
		deliveries := func() []time.Duration {
			mu.Lock()
			defer mu.Unlock()
			var got []time.Duration
			for _, a := range at {
				got = append(got, a.Sub(start))
			}
			return got
		}
		time.Sleep(time.Minute + time.Millisecond)
		synctest.Wait()
		if diff := cmp.Diff([]time.Duration{0, 15 * time.Second, 30 * time.Second, 60 * time.Second}, deliveries()); diff != "" {
			t.Errorf("deliveries (-want +got):\n%s", diff)
		}
		if err := e.WaitNotifies(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Leave no timer behind the bubble's end: let the schedule run out.
		time.Sleep(25 * time.Hour)
		synctest.Wait()
		if n := len(deliveries()); n != 16 {
			t.Errorf("deliveries = %d, want 16", n)
		}
	})
}

func TestPayRefundDelay(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, func(m *MerchantConfig) {
		m.RefundDelay = time.Minute
		m.RefundNotifyURL = "" // set per refund below
	})
	prepay := f.unifiedOrder("RD00000001", 10, nil)
	f.pay(prepay, Payment{})
	r := f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "RD00000001", "out_refund_no": "RD1",
		"total_fee": "10", "refund_fee": "10"}) // no notify_url and none configured: no refund notify
	if r["result_code"] != "SUCCESS" {
		t.Fatal(r)
	}
	f.settle()
	q := f.v2("/pay/refundquery", map[string]string{"out_refund_no": "RD1"})
	if q["refund_status_0"] != "PROCESSING" {
		t.Errorf("refund_status before the delay = %q", q["refund_status_0"])
	}
	f.advance(time.Minute)
	q = f.v2("/pay/refundquery", map[string]string{"out_refund_no": "RD1"})
	if q["refund_status_0"] != "SUCCESS" || q["refund_success_time_0"] != "2025-03-01 10:01:00" {
		t.Errorf("refund after the delay = %v", q)
	}
	if n := len(f.srv.received()); n != 1 {
		t.Errorf("notifies = %d, want 1 (the payment's only)", n)
	}
}

func TestPayRefundNotifyURLFromConfig(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	f2 := newPayFixture(t, func(m *MerchantConfig) { m.RefundNotifyURL = f.srv.URL + "/refund" })
	prepay := f2.unifiedOrder("RC00000001", 10, nil)
	f2.pay(prepay, Payment{})
	f2.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "RC00000001", "out_refund_no": "RC1", "total_fee": "10", "refund_fee": "1"})
	f2.settle()
	got := f.srv.received()
	if len(got) != 1 || !strings.Contains(string(got[0].Body), "<req_info>") {
		t.Errorf("refund notifies at refund_notify_url = %d", len(got))
	}
}

func TestPayRefundNotifyCopies(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	f.srv.setAnswer(func(int, received) (int, string) { return 204, "" })
	prepay := f.prepayV3("RNC0000001", 10)
	f.pay(prepay, Payment{})
	r := f.v3("POST", "/v3/refund/domestic/refunds", map[string]any{"out_trade_no": "RNC0000001", "out_refund_no": "RNC1",
		"notify_url": f.notify, "amount": map[string]any{"refund": 10, "total": 10, "currency": "CNY"}})
	if r.Status != 200 {
		t.Fatalf("refund = %d %s", r.Status, r.Body)
	}
	f.settle()
	var res struct {
		Notifies []NotifyAttempt `json:"notifies"`
	}
	target := "/_emulator/merchants/" + testMchID + "/orders/RNC0000001/notify"
	if code := control(t, f.e, "POST", target, `{"copies":2,"out_refund_no":"RNC1"}`, &res); code != 200 || len(res.Notifies) != 2 {
		t.Fatalf("POST notify = %d %+v", code, res)
	}
	for _, a := range res.Notifies {
		if a.Event != EventRefundSuccess || a.OutRefundNo != "RNC1" || !a.Acknowledged {
			t.Errorf("copy = %+v", a)
		}
	}
	got := f.srv.received()
	if len(got) != 4 || string(got[2].Body) != string(got[1].Body) {
		t.Fatalf("deliveries = %d, want 4 (pay, refund, 2 copies of the refund's)", len(got))
	}
	if n, _ := f.openNotify(got[3]); n.EventType != EventRefundSuccess {
		t.Errorf("copy event = %s", n.EventType)
	}
	if code := control(t, f.e, "POST", target, `{"out_refund_no":"NOPE"}`, nil); code != 404 {
		t.Errorf("unknown refund = %d, want 404", code)
	}
}

func TestPayAdvanceZeroAfterOwnClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := t0
	clock := ClockFunc(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	})
	srv := newMerchantServer(t)
	srv.setAnswer(func(int, received) (int, string) { return 200, v2FailAns })
	cfg := testConfig()
	cfg.Apps[0].Users[0].OpenID = testOpenID
	cfg.Merchants = []MerchantConfig{{MchID: testMchID, AppIDs: []string{testAppID}, APIKey: testAPIKey}}
	e, err := New(cfg, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	o, perr := e.pay.prepay(e.pay.merchant(testMchID), "v2", prepayParams{AppID: testAppID, Description: "b",
		OutTradeNo: "OWN0000001", NotifyURL: srv.URL + "/n", TradeType: "JSAPI", OpenID: testOpenID, Amount: 1})
	if perr != nil {
		t.Fatal(perr)
	}
	if _, err := e.PayOrder(o.prepayID, Payment{}); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitNotifies(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(15 * time.Second) // the test moves its own clock
	mu.Unlock()
	advance(t, e, 0)
	if err := e.WaitNotifies(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.received()); n != 2 {
		t.Errorf("deliveries = %d, want 2 (the retry due after the clock moved)", n)
	}
}
