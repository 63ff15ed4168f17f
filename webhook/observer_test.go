package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// observed is one ObservePush call.
type observed struct {
	outcome webhook.Outcome
	d       time.Duration
}

// observerLog is an Observer keeping its calls.
type observerLog struct {
	mu    sync.Mutex
	calls []observed
	ctxOK bool // every call got the request's context
}

var ctxMarkKey = new(int)

func (l *observerLog) ObservePush(ctx context.Context, o webhook.Outcome, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, observed{o, d})
	l.ctxOK = (len(l.calls) == 1 || l.ctxOK) && ctx.Value(ctxMarkKey) == "mark"
}

func (l *observerLog) outcomes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		out = append(out, c.outcome.String())
	}
	return out
}

// marked returns r with a context value the observer checks for.
func marked(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxMarkKey, "mark"))
}

// TestObserverOutcomes: every POST is observed once with the outcome of
// its answer; GET handshakes are not observed.
func TestObserverOutcomes(t *testing.T) {
	xml := corpusMessages(t)["text"]
	m := mustParse(t, xml)
	stored, err := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1_700_000_000, &message.Text{Content: "first"})
	if err != nil {
		t.Fatal(err)
	}
	safe := func() *http.Request {
		return webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil)
	}
	for _, tc := range []struct {
		name       string
		server     func(*webhook.Server)
		reqs       []func() *http.Request
		wantStatus []int
		want       []string
	}{
		{
			name:       "replied",
			reqs:       []func() *http.Request{safe},
			wantStatus: []int{200},
			want:       []string{"replied"},
		},
		{
			name: "handler error answered success is replied",
			server: func(s *webhook.Server) {
				s.Handler = webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
					return nil, errors.New("boom")
				})
			},
			reqs:       []func() *http.Request{safe},
			wantStatus: []int{200},
			want:       []string{"replied"},
		},
		{
			name:       "retry answered from dedup",
			server:     func(s *webhook.Server) { s.Dedup = new(webhook.MemoryDedup) },
			reqs:       []func() *http.Request{safe, safe},
			wantStatus: []int{200, 200},
			want:       []string{"replied", "duplicate"},
		},
		{
			name:       "retry answered from the OnceRecorder",
			server:     func(s *webhook.Server) { s.Recorder = &onceRecorder{stored: stored} },
			reqs:       []func() *http.Request{safe},
			wantStatus: []int{200},
			want:       []string{"duplicate"},
		},
		{
			name: "bad signature, plaintext in safe mode",
			reqs: []func() *http.Request{
				func() *http.Request {
					return webhooktest.NewEncryptedRequest("wrong-token", testAESKey, testAppID, xml, webhook.ModeSafe, nil)
				},
				func() *http.Request { return webhooktest.NewSignedRequest(testToken, xml, nil) },
			},
			wantStatus: []int{403, 403},
			want:       []string{"rejected", "rejected"},
		},
		{
			name:       "body too large",
			server:     func(s *webhook.Server) { s.MaxBodyBytes = 64 },
			reqs:       []func() *http.Request{safe},
			wantStatus: []int{413},
			want:       []string{"rejected"},
		},
		{
			name:       "recorder failure",
			server:     func(s *webhook.Server) { s.Recorder = &recorder{fail: errors.New("disk full")} },
			reqs:       []func() *http.Request{safe, safe},
			wantStatus: []int{500, 200},
			want:       []string{"error", "replied"},
		},
		{
			name:       "dedup store down",
			server:     func(s *webhook.Server) { s.Dedup = new(failingDedup) },
			reqs:       []func() *http.Request{safe},
			wantStatus: []int{500},
			want:       []string{"error"},
		},
		{
			name: "handshake is not observed",
			reqs: []func() *http.Request{func() *http.Request {
				return webhooktest.NewHandshakeRequest(testToken, "echo123", nil)
			}},
			wantStatus: []int{200},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := new(observerLog)
			s := &webhook.Server{
				Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey,
				Handler: webhook.HandlerFunc(echo), Logger: discardLogger(), Observer: obs,
			}
			if tc.server != nil {
				tc.server(s)
			}
			var status []int
			for _, req := range tc.reqs {
				status = append(status, serve(s, marked(req())).Code)
			}
			if diff := cmp.Diff(tc.wantStatus, status); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, obs.outcomes()); diff != "" {
				t.Errorf("observed outcomes (-want +got):\n%s", diff)
			}
			if len(tc.want) > 0 && !obs.ctxOK {
				t.Error("ObservePush did not get the request's context")
			}
		})
	}
}

// TestObserverLate: a Handler that misses the deadline is observed once as
// late, with the time until the "success" answer, not until the Handler
// returned.
func TestObserverLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := new(observerLog)
		lateDone := make(chan struct{})
		s := &webhook.Server{
			Token: testToken, Timeout: time.Second, Logger: discardLogger(), Observer: obs,
			Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
				time.Sleep(3 * time.Second)
				return &message.Text{Content: "slow"}, nil
			}),
			LateReply: func(context.Context, *message.Message, message.Reply) error {
				close(lateDone)
				return nil
			},
		}
		w := serve(s, marked(webhooktest.NewSignedRequest(testToken, corpusMessages(t)["text"], nil)))
		if w.Code != 200 || w.Body.String() != "success" {
			t.Fatalf("got %d %q, want 200 success", w.Code, w.Body)
		}
		<-lateDone
		want := []observed{{webhook.OutcomeLate, time.Second}}
		if diff := cmp.Diff(want, obs.calls, cmp.AllowUnexported(observed{})); diff != "" {
			t.Errorf("observed (-want +got):\n%s", diff)
		}
	})
}

func TestOutcomeString(t *testing.T) {
	var got []string
	for _, o := range webhook.Outcomes {
		got = append(got, o.String())
	}
	got = append(got, webhook.Outcome(0).String())
	want := []string{"replied", "duplicate", "rejected", "error", "late", "invalid"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outcome.String (-want +got):\n%s", diff)
	}
}

// countingObserver is the kind of Observer metrics use: a few atomic adds.
type countingObserver struct {
	n     [8]atomic.Uint64
	total atomic.Int64
}

func (c *countingObserver) ObservePush(_ context.Context, o webhook.Outcome, d time.Duration) {
	c.n[o].Add(1)
	c.total.Add(int64(d))
}

// BenchmarkServerObserved is BenchmarkServerSafeEchoImmediate and
// BenchmarkServerSafeEcho with an Observer: the hook must add no
// allocation and little time (compare with those benchmarks).
func BenchmarkServerObserved(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    webhook.Handler
	}{
		{"SafeEchoImmediate", immediateEcho{}},
		{"SafeEcho", webhook.HandlerFunc(echoReply)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			obs := new(countingObserver)
			s := &webhook.Server{
				Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey,
				Handler:  bc.h,
				Dedup:    &webhook.MemoryDedup{MaxEntries: 1024},
				Logger:   discardLogger(),
				Observer: obs,
			}
			br := newBenchRequests(b, 4096, webhook.ModeSafe)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, br.get(0))
			if _, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes()); err != nil {
				b.Fatalf("reply: %v (%q)", err, w.Body)
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			i := 1
			for b.Loop() {
				w.Body.Reset()
				s.ServeHTTP(w, br.get(i))
				i++
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			if got := obs.n[webhook.OutcomeReplied].Load(); got != uint64(b.N)+1 {
				b.Errorf("observed %d replied pushes, want %d", got, b.N+1)
			}
		})
	}
}
