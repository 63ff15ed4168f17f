package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ops holds the operational parts of a Gateway: Prometheus metrics
// (metrics.go), request ids (requestid.go) and rate limits (ratelimit.go),
// configured by OpsConfig (config_ops.go).
type ops struct {
	cfg     *Config
	logger  *slog.Logger
	metrics *metrics
	clients clientIPs
	// oauth limits /oauth/login and /oauth/callback per client; nil when
	// limits.oauth_per_minute is -1.
	oauth *limiter
	// invalidations limits token refreshes caused by invalidation reports;
	// nil when limits.token_invalidate_interval is 0.
	invalidations *invalidateGate

	mu        sync.Mutex
	metricsLn net.Listener // on metrics_listen, once bound
	metricsOn bool         // metricsLn is being served
}

// newOps builds the operational state of cfg (normalized). logger should
// already carry request ids (newRequestIDHandler); now is the gateway's
// clock (WithClock), used by the rate limits.
func newOps(cfg *Config, logger *slog.Logger, now func() time.Time) *ops {
	l := cfg.Limits
	o := &ops{
		cfg:     cfg,
		logger:  logger,
		metrics: newMetrics(),
		clients: clientIPs{trusted: l.trusted},
	}
	if l.OAuthPerMinute > 0 {
		o.oauth = newLimiter(float64(l.OAuthPerMinute)/60, l.OAuthBurst, defaultMaxKeys, now)
	}
	if l.TokenInvalidateInterval != nil {
		o.invalidations = newInvalidateGate(time.Duration(*l.TokenInvalidateInterval), now)
	}
	return o
}

// handler wraps the gateway's routes with what every request gets: an
// X-Request-Id (withRequestID).
func (o *ops) handler(routes http.Handler) http.Handler {
	return withRequestID(routes)
}

// registerRoutes registers GET /metrics on mux (unless metrics_listen
// moves it to its own listener) and the catch-all /wx/{appid} that counts
// and refuses requests for unknown apps.
func (o *ops) registerRoutes(mux *http.ServeMux) {
	if o.cfg.MetricsListen == "" {
		mux.Handle("GET /metrics", o.metrics.handler(o.logger))
	}
	mux.Handle("/wx/{appid}", o.metrics.unknownApp(o.logger))
}

// limitOAuth wraps the handler of an OAuth route (route names it in
// wxkit_http_rate_limited_total) with the per-client rate limit of
// limits.oauth_per_minute and limits.oauth_burst; all OAuth routes share
// each client's bucket.
func (o *ops) limitOAuth(route string, h http.HandlerFunc) http.Handler {
	if o.oauth == nil {
		return h
	}
	limited := o.metrics.rateLimited.WithLabelValues(route)
	return rateLimit(h, o.oauth, o.clients.key, func(*http.Request) { limited.Inc() })
}

// limitJSON wraps the handler of a JSON endpoint with
// limits.max_json_body_bytes (limitJSONBody).
func (o *ops) limitJSON(h http.HandlerFunc) http.Handler {
	return limitJSONBody(h, o.cfg.Limits.MaxJSONBodyBytes)
}

// listenMetrics binds metrics_listen, when set. Gateway.Listen calls it.
func (o *ops) listenMetrics() error {
	if o.cfg.MetricsListen == "" {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.metricsLn != nil {
		return nil
	}
	ln, err := net.Listen("tcp", o.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics_listen: %w", err)
	}
	o.metricsLn = ln
	return nil
}

// serveMetrics serves GET /metrics on the listener of metrics_listen (bound
// by listenMetrics) until the returned stop is called, which shuts it down
// (waiting at most 5 s for scrapes in flight). Without metrics_listen it
// does nothing. Gateway.Run calls it: defer g.ops.serveMetrics()().
func (o *ops) serveMetrics() (stop func()) {
	o.mu.Lock()
	ln := o.metricsLn
	if ln == nil || o.metricsOn {
		o.mu.Unlock()
		return func() {}
	}
	o.metricsOn = true
	o.mu.Unlock()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.metrics.handler(o.logger))
	srv := &http.Server{
		Handler:           withRequestID(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(o.logger.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.logger.Error("gateway: metrics listener failed", slog.String("addr", ln.Addr().String()), slog.String("error", err.Error()))
		}
	}()
	o.logger.Info("gateway: serving metrics", slog.String("addr", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		o.mu.Lock()
		o.metricsLn = nil
		o.mu.Unlock()
	}
}

// close releases a metrics listener that was bound but never served.
// Gateway.Close calls it.
func (o *ops) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.metricsLn != nil && !o.metricsOn {
		o.metricsLn.Close()
	}
	o.metricsLn = nil
}

// metricsAddr returns the bound address of metrics_listen, or "".
func (o *ops) metricsAddr() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.metricsLn == nil {
		return ""
	}
	return o.metricsLn.Addr().String()
}

// MetricsAddr returns the address /metrics is served on when
// metrics_listen is set ("127.0.0.1:9090"; port 0 picks a free one), once
// Listen has bound it; "" otherwise (then /metrics is on Addr).
func (g *Gateway) MetricsAddr() string { return g.ops.metricsAddr() }

// MetricsRegistry returns the registry behind the gateway's /metrics, its
// own (not prometheus.DefaultRegisterer): an application embedding the
// gateway may register its own collectors on it.
func (g *Gateway) MetricsRegistry() *prometheus.Registry { return g.ops.metrics.reg }
