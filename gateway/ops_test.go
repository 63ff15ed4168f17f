package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func discardOpsLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func sha256Sum(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// newOpsGateway builds a gateway with one app (no secret: nothing is
// fetched from WeChat) on a temporary SQLite file, logging to the returned
// buffer; edit adjusts the configuration before Normalize.
func newOpsGateway(t *testing.T, edit func(*Config)) (*Gateway, *logBuffer) {
	t.Helper()
	cfg := &Config{
		Listen: "127.0.0.1:0",
		Store:  "sqlite://" + filepath.Join(t.TempDir(), "ops.db"),
		Apps:   []AppConfig{{AppID: metricsAppID, Token: metricsToken}},
	}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatalf("Normalize = %v", err)
	}
	logs := &logBuffer{}
	g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { g.Close() })
	return g, logs
}

func serveGateway(g *Gateway, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.Handler().ServeHTTP(w, r)
	return w
}

// TestGatewayMetricsOnMainListener: without metrics_listen, GET /metrics
// is a route of the gateway and counts its pushes.
func TestGatewayMetricsOnMainListener(t *testing.T) {
	t.Parallel()
	g, _ := newOpsGateway(t, nil)
	if w := serveGateway(g, webhooktest.NewSignedRequest(metricsToken, textPush(1), &webhooktest.RequestOptions{Target: "/wx/" + metricsAppID})); w.Code != 200 {
		t.Fatalf("push = %d %s", w.Code, w.Body)
	}
	w := serveGateway(g, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("GET /metrics = %d", w.Code)
	}
	if want := `wxkit_webhook_pushes_total{appid="wx0123456789abcdef",outcome="replied"} 1`; !strings.Contains(w.Body.String(), want) {
		t.Errorf("/metrics lacks %q", want)
	}
	if g.MetricsAddr() != "" {
		t.Errorf("MetricsAddr = %q without metrics_listen, want empty", g.MetricsAddr())
	}
	if g.MetricsRegistry() != g.ops.metrics.reg {
		t.Error("MetricsRegistry is not the registry served")
	}
}

// TestGatewayMetricsListen: with metrics_listen, /metrics is served there
// only, from Listen until Run returns.
func TestGatewayMetricsListen(t *testing.T) {
	t.Parallel()
	g, _ := newOpsGateway(t, func(c *Config) { c.MetricsListen = "127.0.0.1:0" })
	if err := g.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := g.MetricsAddr()
	if addr == "" || addr == g.Addr() {
		t.Fatalf("MetricsAddr = %q (main %q), want its own address", addr, g.Addr())
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	// Connecting before Serve starts is fine: the listener is bound and
	// queues the connection.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET metrics_listen/metrics: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "wxkit_webhook_pushes_total") {
		t.Errorf("GET metrics_listen/metrics = %d, want 200 with the metrics", resp.StatusCode)
	}
	if resp.Header.Get(RequestIDHeader) == "" {
		t.Error("metrics listener answered without X-Request-Id")
	}
	resp, err = http.Get(g.URL() + "/metrics")
	if err != nil {
		t.Fatalf("GET listen/metrics: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET listen/metrics = %d, want 404 when metrics_listen is set", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("metrics listener still answers after Run returned")
	}
}

// TestGatewayRequestIDInLogs: the lines the webhook and the gateway log
// while serving a request carry its id, and the response echoes it.
func TestGatewayRequestIDInLogs(t *testing.T) {
	t.Parallel()
	g, logs := newOpsGateway(t, nil)
	for _, tc := range []struct {
		name, path, wantLog string
		wantCode            int
	}{
		{"rejected push", "/wx/" + metricsAppID, "webhook: request rejected", 403},
		{"unknown app", "/wx/wxffffffffffffffff", "webhook: request for an unknown app", 404},
	} {
		r := webhooktest.NewSignedRequest("wrong-token", textPush(7), &webhooktest.RequestOptions{Target: tc.path})
		r.Header.Set(RequestIDHeader, "rid-"+strings.ReplaceAll(tc.name, " ", "-"))
		w := serveGateway(g, r)
		if w.Code != tc.wantCode || w.Header().Get(RequestIDHeader) != r.Header.Get(RequestIDHeader) {
			t.Errorf("%s: %d X-Request-Id %q, want %d and the incoming id", tc.name, w.Code, w.Header().Get(RequestIDHeader), tc.wantCode)
		}
		var found []string
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(l, tc.wantLog) {
				found = append(found, l)
			}
		}
		if len(found) != 1 || !strings.Contains(found[0], "request_id="+r.Header.Get(RequestIDHeader)) {
			t.Errorf("%s: log lines %q, want one carrying request_id=%s", tc.name, found, r.Header.Get(RequestIDHeader))
		}
	}
	if got := metricValue(t, g.MetricsRegistry(), "wxkit_webhook_unknown_path_total", nil); got != 1 {
		t.Errorf("wxkit_webhook_unknown_path_total = %v, want 1", got)
	}
}

// TestGatewayOAuthRateLimit: /oauth/login and /oauth/callback share each
// client's bucket; a client over it gets 429, others do not; refusals are
// counted by route.
func TestGatewayOAuthRateLimit(t *testing.T) {
	t.Parallel()
	g, _ := newOpsGateway(t, func(c *Config) {
		c.Limits = LimitsConfig{OAuthPerMinute: 1, OAuthBurst: 3, TrustedProxies: []string{"10.0.0.0/8"}}
	})
	get := func(path, remote, xff string) int {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return serveGateway(g, r).Code
	}
	var got []int
	for _, c := range []struct{ path, remote, xff string }{
		{"/oauth/login", "198.51.100.1:1", ""},
		{"/oauth/callback", "198.51.100.1:2", ""},
		{"/oauth/login", "10.0.0.5:3", "198.51.100.1"}, // the same client through the proxy
		{"/oauth/callback", "10.0.0.5:4", "198.51.100.1"},
		{"/oauth/login", "198.51.100.2:1", ""}, // another client
		{"/healthz", "198.51.100.1:5", ""},     // not limited
	} {
		got = append(got, get(c.path, c.remote, c.xff))
	}
	// The app has no secret: login answers 404, the callback 400.
	if diff := cmp.Diff([]int{404, 400, 404, 429, 404, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := metricValue(t, g.MetricsRegistry(), "wxkit_http_rate_limited_total", map[string]string{"route": "/oauth/callback"}); n != 1 {
		t.Errorf("wxkit_http_rate_limited_total{route=/oauth/callback} = %v, want 1", n)
	}
}

// TestGatewayPushCounters: through the whole gateway, a push, a retry of it
// and a rejected push each move their own wxkit_webhook_pushes_total
// counter, as served at /metrics.
func TestGatewayPushCounters(t *testing.T) {
	t.Parallel()
	g, _ := newOpsGateway(t, nil)
	push := webhooktest.NewSignedRequest(metricsToken, textPush(42), &webhooktest.RequestOptions{Target: "/wx/" + metricsAppID, Nonce: "n42"})
	body, _ := io.ReadAll(push.Body)
	again := func() *http.Request {
		r := push.Clone(t.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r
	}
	for i, want := range []int{200, 200} { // the push, then WeChat's retry
		if w := serveGateway(g, again()); w.Code != want {
			t.Fatalf("delivery %d = %d %s", i, w.Code, w.Body)
		}
	}
	bad := webhooktest.NewSignedRequest("not-the-token", textPush(43), &webhooktest.RequestOptions{Target: "/wx/" + metricsAppID})
	if w := serveGateway(g, bad); w.Code != http.StatusForbidden {
		t.Fatalf("forged push = %d, want 403", w.Code)
	}
	metrics := serveGateway(g, httptest.NewRequest("GET", "/metrics", nil)).Body.String()
	for _, outcome := range []string{"replied", "duplicate", "rejected"} {
		want := `wxkit_webhook_pushes_total{appid="` + metricsAppID + `",outcome="` + outcome + `"} 1`
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
