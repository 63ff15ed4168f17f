package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

const (
	metricsAppID = "wx0123456789abcdef"
	metricsToken = "metrics-t0ken"
)

// metricValue returns the value of the counter, or the sample count of the
// histogram, name{labels} in g; 0 when the series does not exist.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather = %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
			return false
		}
	}
	return true
}

// textPush returns a plain-mode text message with msgID.
func textPush(msgID int64) []byte {
	return fmt.Appendf(nil, `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser_abc]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>%d</MsgId></xml>`, time.Now().Unix(), msgID)
}

// TestPushMetrics: a push, a retry of it and a rejected push each move
// their own counter of wxkit_webhook_pushes_total, and every push is in
// the duration histogram.
func TestPushMetrics(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	srv := &webhook.Server{
		Token: metricsToken,
		Handler: webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
			return &message.Text{Content: "ok"}, nil
		}),
		Dedup:    new(webhook.MemoryDedup),
		Logger:   discardOpsLogger(),
		Observer: m.pushObserver(metricsAppID),
	}
	serve := func(r *http.Request) int {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w.Code
	}
	want := map[string]float64{"replied": 0, "duplicate": 0, "rejected": 0, "error": 0, "late": 0}
	check := func(step string) {
		t.Helper()
		got := map[string]float64{}
		for oc := range want {
			got[oc] = metricValue(t, m.reg, "wxkit_webhook_pushes_total", map[string]string{"appid": metricsAppID, "outcome": oc})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after %s: pushes by outcome (-want +got):\n%s", step, diff)
		}
	}
	check("nothing") // every outcome's series exists at zero

	body := textPush(42)
	if code := serve(webhooktest.NewSignedRequest(metricsToken, body, nil)); code != 200 {
		t.Fatalf("push = %d", code)
	}
	want["replied"]++
	check("a push")

	if code := serve(webhooktest.NewSignedRequest(metricsToken, body, nil)); code != 200 {
		t.Fatalf("retry = %d", code)
	}
	want["duplicate"]++
	check("its retry")

	if code := serve(webhooktest.NewSignedRequest("not-the-token", textPush(43), nil)); code != 403 {
		t.Fatalf("badly signed push = %d", code)
	}
	want["rejected"]++
	check("a badly signed push")

	if n := metricValue(t, m.reg, "wxkit_webhook_duration_seconds", map[string]string{"appid": metricsAppID}); n != 3 {
		t.Errorf("duration histogram holds %v pushes, want 3", n)
	}
}

// TestPushObserverAllocs: observing a push allocates nothing, so that a
// push through a Server with the metrics observer costs the same
// allocations as one without.
func TestPushObserverAllocs(t *testing.T) {
	m := newMetrics()
	o := m.pushObserver(metricsAppID)
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { o.ObservePush(ctx, webhook.OutcomeReplied, time.Millisecond) }); n != 0 {
		t.Errorf("ObservePush allocates %v times, want 0", n)
	}
	perPush := func(obs webhook.Observer) float64 {
		srv := &webhook.Server{Token: metricsToken, Handler: webhook.NotFound, Logger: discardOpsLogger()}
		if obs != nil {
			srv.Observer = obs
		}
		const runs = 50
		reqs := make([]*http.Request, runs+1)
		for i := range reqs {
			reqs[i] = webhooktest.NewSignedRequest(metricsToken, textPush(int64(i)), nil)
		}
		w := httptest.NewRecorder()
		i := 0
		return testing.AllocsPerRun(runs, func() {
			w.Body.Reset()
			srv.ServeHTTP(w, reqs[i])
			i++
		})
	}
	// AllocsPerRun counts the whole process's allocations: a goroutine
	// left by an earlier test (a timer, a drainer stopping) can add some
	// to one measurement. The observer costs nothing only if some
	// measurement shows it; three tries.
	var without, with float64
	for range 3 {
		without, with = perPush(nil), perPush(o)
		if with < without+0.5 {
			return
		}
	}
	t.Errorf("a push allocates %v times with the metrics observer, %v without", with, without)
}

// TestMetricsRegistriesIndependent: two gateways in one process count
// separately (each has its own registry).
func TestMetricsRegistriesIndependent(t *testing.T) {
	t.Parallel()
	a, b := newMetrics(), newMetrics()
	a.pushObserver(metricsAppID).ObservePush(t.Context(), webhook.OutcomeReplied, time.Millisecond)
	b.pushObserver(metricsAppID)
	labels := map[string]string{"appid": metricsAppID, "outcome": "replied"}
	if got := []float64{metricValue(t, a.reg, "wxkit_webhook_pushes_total", labels), metricValue(t, b.reg, "wxkit_webhook_pushes_total", labels)}; !cmp.Equal(got, []float64{1, 0}) {
		t.Errorf("replied in a, b = %v, want [1 0]", got)
	}
}

// TestMetricsExposition: /metrics serves every metric of the contract,
// and the Go runtime and process collectors.
func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	m.pushObserver(metricsAppID)
	m.countFetches(metricsAppID, token.KindAccessToken, token.SourceFunc(func(context.Context) (*token.Token, error) { return nil, nil }))
	m.apiError(40001)
	m.storeError(storeTokens, "get")
	m.unknownPath.Add(0)
	m.rateLimited.WithLabelValues("/oauth/login")
	m.messageLogHooks().dropped(3)
	m.drainHooks().outcome(JobLateReply, "dead")
	w := httptest.NewRecorder()
	m.handler(discardOpsLogger()).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("GET /metrics = %d", w.Code)
	}
	text := w.Body.String()
	for _, want := range []string{
		`wxkit_webhook_pushes_total{appid="wx0123456789abcdef",outcome="late"} 0`,
		`wxkit_webhook_duration_seconds_bucket{appid="wx0123456789abcdef",le="0.0001"} 0`,
		`wxkit_webhook_duration_seconds_bucket{appid="wx0123456789abcdef",le="5"} 0`,
		`wxkit_webhook_unknown_path_total 0`,
		`wxkit_token_fetches_total{appid="wx0123456789abcdef",kind="access_token"} 0`,
		`wxkit_token_fetch_errors_total{appid="wx0123456789abcdef",kind="access_token"} 0`,
		`wxkit_api_errors_total{errcode="40001"} 1`,
		`wxkit_store_errors_total{op="get",store="tokens"} 1`,
		`wxkit_http_rate_limited_total{route="/oauth/login"} 0`,
		`wxkit_message_log_dropped_total 3`,
		`wxkit_outbox_jobs_total{kind="` + JobLateReply + `",outcome="dead"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestCountFetches: one count per upstream fetch, not per Token call, and
// failures counted apart.
func TestCountFetches(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	var fail atomic.Bool
	var n atomic.Int32
	up := token.SourceFunc(func(context.Context) (*token.Token, error) {
		if fail.Load() {
			return nil, errors.New("upstream down")
		}
		return &token.Token{Value: fmt.Sprint("tok-", n.Add(1)), Expiry: time.Now().Add(time.Hour)}, nil
	})
	src := token.NewCachedSource(&token.MemoryStore{}, token.JSAPITicketKey(metricsAppID), m.countFetches(metricsAppID, token.KindJSAPITicket, up))
	ctx := t.Context()
	for range 10 {
		if _, err := src.Token(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tok, _ := src.Token(ctx)
	src.Invalidate(ctx, tok)
	fail.Store(true)
	src.Token(ctx)
	labels := map[string]string{"appid": metricsAppID, "kind": "jsapi_ticket"}
	got := []float64{metricValue(t, m.reg, "wxkit_token_fetches_total", labels), metricValue(t, m.reg, "wxkit_token_fetch_errors_total", labels)}
	if diff := cmp.Diff([]float64{2, 1}, got); diff != "" {
		t.Errorf("[fetches, failures] (-want +got):\n%s", diff)
	}
}

// TestAPIErrorMetric: an mp.Client with the hook counts the errcodes of
// its failed calls.
func TestAPIErrorMetric(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"errcode":40003,"errmsg":"invalid openid"}`)
	}))
	t.Cleanup(api.Close)
	c, err := mp.NewClient(metricsAppID, "",
		mp.WithTokenSource(token.SourceFunc(func(context.Context) (*token.Token, error) { return &token.Token{Value: "t"}, nil })),
		mp.WithBaseURL(api.URL), mp.WithHTTPClient(api.Client()), mp.WithAPIErrorHook(m.apiError))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		req, _ := c.NewRequest(t.Context(), "GET", "cgi-bin/user/info?openid=x", nil)
		if err := c.Do(req, nil); err == nil {
			t.Fatal("Do = nil error, want errcode 40003")
		}
	}
	if got := metricValue(t, m.reg, "wxkit_api_errors_total", map[string]string{"errcode": "40003"}); got != 2 {
		t.Errorf("wxkit_api_errors_total{errcode=40003} = %v, want 2", got)
	}
}

// fakeTokenStore is a token.Store whose methods return err.
type fakeTokenStore struct{ err error }

func (f fakeTokenStore) Get(context.Context, string) (*token.Token, error) { return nil, f.err }
func (f fakeTokenStore) Set(context.Context, string, *token.Token) error   { return f.err }
func (f fakeTokenStore) Delete(context.Context, string) error              { return f.err }
func (f fakeTokenStore) Lock(context.Context, string, time.Duration) (func(context.Context) error, error) {
	if f.err != nil {
		return nil, f.err
	}
	return func(context.Context) error { return errors.New("unlock failed") }, nil
}

// fakeValueDeleter adds DeleteValue.
type fakeValueDeleter struct{ fakeTokenStore }

func (f fakeValueDeleter) DeleteValue(context.Context, string, string) (bool, error) {
	return false, f.err
}

func TestTokenStoreErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		err     error
		counted bool
	}{
		{"failure", errors.New("connection refused"), true},
		{"not found", fmt.Errorf("get: %w", token.ErrNotFound), false},
		{"locked", token.ErrLocked, false},
		{"caller gone", context.Canceled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMetrics()
			s := m.tokenStore(storeTokens, fakeValueDeleter{fakeTokenStore{tc.err}})
			vd, ok := s.(token.ValueDeleter)
			if !ok {
				t.Fatal("wrapper of a ValueDeleter is not one")
			}
			ctx := t.Context()
			if _, err := s.Get(ctx, "k"); !errors.Is(err, tc.err) {
				t.Errorf("Get error = %v, want %v unchanged", err, tc.err)
			}
			s.Set(ctx, "k", &token.Token{Value: "v"})
			s.Delete(ctx, "k")
			s.Lock(ctx, "k", time.Second)
			vd.DeleteValue(ctx, "k", "v")
			want := map[string]float64{"get": 0, "set": 0, "delete": 0, "lock": 0, "delete_value": 0}
			if tc.counted {
				for op := range want {
					want[op] = 1
				}
			}
			got := map[string]float64{}
			for op := range want {
				got[op] = metricValue(t, m.reg, "wxkit_store_errors_total", map[string]string{"store": "tokens", "op": op})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("store errors by op (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("unlock", func(t *testing.T) {
		t.Parallel()
		m := newMetrics()
		s := m.tokenStore(storeTokens, fakeTokenStore{})
		if _, ok := s.(token.ValueDeleter); ok {
			t.Error("wrapper of a plain Store is a ValueDeleter")
		}
		unlock, err := s.Lock(t.Context(), "k", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		unlock(t.Context())
		if got := metricValue(t, m.reg, "wxkit_store_errors_total", map[string]string{"store": "tokens", "op": "unlock"}); got != 1 {
			t.Errorf("unlock errors = %v, want 1", got)
		}
	})
}

// failingDedupStore fails Claim, Complete and Release.
type failingDedupStore struct{}

func (failingDedupStore) Claim(context.Context, string, time.Duration) (webhook.Claim, error) {
	return webhook.Claim{}, errors.New("down")
}
func (failingDedupStore) Complete(context.Context, string, []byte, time.Duration) error {
	return errors.New("down")
}
func (failingDedupStore) Release(context.Context, string) error { return errors.New("down") }

func TestDedupErrors(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	ctx := t.Context()

	d := m.dedupStore(storeDedup, failingDedupStore{})
	if _, ok := d.(webhook.DedupWaiter); ok {
		t.Error("wrapper of a plain DedupStore is a DedupWaiter")
	}
	d.Claim(ctx, "k", time.Second)
	d.Complete(ctx, "k", nil, time.Second)
	d.Release(ctx, "k")

	w, ok := m.dedupStore(storeDedup, new(webhook.MemoryDedup)).(webhook.DedupWaiter)
	if !ok {
		t.Fatal("wrapper of a DedupWaiter is not one")
	}
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	w.Wait(wctx, "k", time.Second) // the caller giving up is not a store error

	got := map[string]float64{}
	for _, sk := range [][2]string{{"dedup", "claim"}, {"dedup", "complete"}, {"dedup", "release"}, {"dedup", "wait"}} {
		got[sk[0]+"."+sk[1]] = metricValue(t, m.reg, "wxkit_store_errors_total", map[string]string{"store": sk[0], "op": sk[1]})
	}
	want := map[string]float64{"dedup.claim": 1, "dedup.complete": 1, "dedup.release": 1, "dedup.wait": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store errors (-want +got):\n%s", diff)
	}
}

// TestWriterHooks: the hooks given to the message log and the outbox
// drainer count store failures, dropped rows and job outcomes.
func TestWriterHooks(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	lh, dh := m.messageLogHooks(), m.drainHooks()
	lh.storeError("append_messages")
	lh.dropped(5)
	lh.dropped(2)
	dh.storeError("claim_jobs")
	dh.outcome(JobLateReply, "done")
	dh.outcome(JobLateReply, "done")
	dh.outcome(JobLateReply, "retry")
	m.storeErrorFunc(storeDedup)("claim")
	got := []float64{
		metricValue(t, m.reg, "wxkit_store_errors_total", map[string]string{"store": "message_log", "op": "append_messages"}),
		metricValue(t, m.reg, "wxkit_message_log_dropped_total", nil),
		metricValue(t, m.reg, "wxkit_store_errors_total", map[string]string{"store": "outbox", "op": "claim_jobs"}),
		metricValue(t, m.reg, "wxkit_outbox_jobs_total", map[string]string{"kind": JobLateReply, "outcome": "done"}),
		metricValue(t, m.reg, "wxkit_outbox_jobs_total", map[string]string{"kind": JobLateReply, "outcome": "retry"}),
		metricValue(t, m.reg, "wxkit_store_errors_total", map[string]string{"store": "dedup", "op": "claim"}),
	}
	if diff := cmp.Diff([]float64{1, 7, 1, 2, 1, 1}, got); diff != "" {
		t.Errorf("[log store errors, dropped, outbox store errors, done, retry, dedup claim errors] (-want +got):\n%s", diff)
	}
}

// TestUnknownApp: /wx/<unknown> is answered 404 and counted; a known
// app's path is not.
func TestUnknownApp(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("/wx/"+metricsAppID, func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("/wx/{appid}", m.unknownApp(discardOpsLogger()))
	var codes []int
	for _, p := range []string{"/wx/wxffffffffffffffff", "/wx/" + metricsAppID, "/wx/anything"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("POST", p, nil))
		codes = append(codes, w.Code)
	}
	if diff := cmp.Diff([]int{404, 200, 404}, codes); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got := metricValue(t, m.reg, "wxkit_webhook_unknown_path_total", nil); got != 2 {
		t.Errorf("wxkit_webhook_unknown_path_total = %v, want 2", got)
	}
}

// BenchmarkPushObserver is the cost of the metrics observer per push.
func BenchmarkPushObserver(b *testing.B) {
	o := newMetrics().pushObserver(metricsAppID)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		o.ObservePush(ctx, webhook.OutcomeReplied, 1500*time.Microsecond)
	}
}
