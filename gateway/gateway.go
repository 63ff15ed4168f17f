package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// Gateway is the application behind `wxkit serve`: one HTTP server with
//
//	POST|GET /wx/{appid}      the app's webhook (webhook.Server) with the
//	                          configured auto-replies, dedup and message log
//	GET      /token/{appid}   the central token service (404 when
//	                          token_service.secret is empty); with
//	                          ?component=, an Open Platform authorizer's token
//	POST     /token/{appid}/invalidate
//	                          reports a token WeChat rejected (token.Remote)
//	GET      /healthz         200 "ok" while the process serves (liveness)
//	GET      /readyz          200 when every store answers and the schema is
//	                          migrated, else 503 naming what is not ready
//	GET      /oauth/login     web login: redirect to WeChat's authorize page with
//	                          a signed, expiring, single-use state (?return=/path)
//	GET      /oauth/callback  verify state, exchange the code, upsert the user,
//	                          set the session cookie, redirect to the return path
//	POST     /oauth/logout    end the session (204)
//	GET      /api/me          the session's user as JSON (401 without a session:
//	                          the cookie, or Authorization: Bearer of /wxa login)
//	POST     /wxa/{appid}/login    Mini Program login (apps[].type miniprogram; see
//	                          wxa.go): {"code"} of wx.login → {"token","openid",
//	                          "unionid","expires_in","is_new"}
//	POST     /wxa/{appid}/profile  (Bearer) wx.getUserInfo's {"encrypted_data","iv",
//	                          "raw_data","signature"} → the user
//	POST     /wxa/{appid}/phone    (Bearer) {"code"} of getPhoneNumber → the number
//	GET      /jssdk/config    wx.config for a page on the app's jssdk.domains
//	GET      /MP_verify_*.txt the domain-verification files of verify_files
//	GET      /demo/           the demo page, when web.demo is true (demo.go):
//	                          sign-in, wx.config and a ¥0.01 payment in WeChat's web view
//	POST     /pay/orders      WeChat Pay (pay.merchants; see Payments): a JSAPI
//	                          order for the signed-in user (cookie or Bearer)
//	GET      /pay/orders/{out_trade_no}          the caller's order
//	POST     /pay/orders/{out_trade_no}/refund   a refund of it
//	POST     /pay/notify/{mch_id}, /pay/refund/notify/{mch_id}, /pay/v3/notify/{mch_id}
//	                          the platform's pay and refund notifies
//	POST     /component/{component_appid}/notify
//	                          Open Platform ticket and authorization events
//	GET      /component/{component_appid}/authorize, /callback
//	                          an account authorizes the component (?return=/path)
//	POST     /component/{component_appid}/wx/{authorizer_appid}
//	                          the authorized accounts' messages (component.go)
//	GET      /metrics         Prometheus metrics (on metrics_listen instead,
//	                          when set; see ops.go)
//
// Apps with a secret also get their custom menu (apps[].menu) synced at
// start (by one instance of a cluster), and replies that miss the webhook
// deadline delivered through the customer-service API from a durable
// outbox that every instance drains (see latereply.go).
//
// Its state lives in Stores (OpenStores, from store: and redis:), so that
// any number of instances sharing PostgreSQL (and optionally Redis) behave
// as one.
//
// Build it with New, serve it with Run (or Listen + Serve, or Handler in
// tests), stop it by cancelling Run's context or with Shutdown, and release
// it with Close.
type Gateway struct {
	cfg    *Config
	logger *slog.Logger
	client *http.Client
	now    func() time.Time

	stores    *Stores
	ownStores bool        // opened by New: closed by Close
	msgLog    *messageLog // nil when webhook.message_log is off
	late      *drainer    // late replies (latereply.go)
	prune     *pruner     // message-log retention (retention.go)
	pay       *Payments   // WeChat Pay, nil without pay.merchants (pay.go)
	comps     *components // Open Platform components, nil without components (component.go)
	handlers  sync.WaitGroup
	drainOnce sync.Once

	mux      *http.ServeMux
	webhooks map[string]*webhook.Server
	tokenSvc *tokenService
	web      *webState // web login, JS-SDK, menus, late replies (oauth.go)

	ops     *ops         // metrics, request ids, rate limits (ops.go)
	handler http.Handler // mux behind ops.handler (request ids)

	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener

	closeOnce sync.Once
	closeErr  error
}

// Option configures New.
type Option func(*Gateway)

// WithHTTPClient sets the client used for forward replies and for the token
// providers (default: a client with a 10 s timeout).
func WithHTTPClient(c *http.Client) Option {
	return func(g *Gateway) {
		if c != nil {
			g.client = c
		}
	}
}

// WithClock replaces time.Now in the token sources and the token service
// (for tests and simulations that move time, such as the emulator's clock).
func WithClock(now func() time.Time) Option {
	return func(g *Gateway) {
		if now != nil {
			g.now = now
		}
	}
}

// WithStores makes the gateway keep its state in s instead of opening the
// stores of cfg.Store and cfg.Redis. The caller keeps ownership: Close does
// not close s.
func WithStores(s *Stores) Option {
	return func(g *Gateway) {
		if s != nil {
			g.stores = s
		}
	}
}

// New opens the stores (unless WithStores), applies their migrations and
// builds every route of cfg (which must have been validated: LoadConfig,
// ParseConfig or Normalize). A nil logger logs nothing. Errors name the
// configuration key at fault. ctx bounds the opening of the stores.
func New(ctx context.Context, cfg *Config, logger *slog.Logger, opts ...Option) (*Gateway, error) {
	if cfg == nil {
		return nil, errors.New("gateway: nil config")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = slog.New(newRequestIDHandler(logger.Handler())) // request_id on request log lines (requestid.go)
	g := &Gateway{
		cfg:      cfg,
		logger:   logger,
		client:   &http.Client{Timeout: 10 * time.Second},
		mux:      http.NewServeMux(),
		webhooks: make(map[string]*webhook.Server, len(cfg.Apps)),
		now:      time.Now,
	}
	for _, o := range opts {
		o(g)
	}
	g.ops = newOps(cfg, logger, g.now) // ops.go
	if g.stores == nil {
		st, err := OpenStores(ctx, cfg.Store, cfg.Redis, StoreOptions{Logger: logger, DedupBackedByLog: cfg.Webhook.MessageLog != LogOff})
		if err != nil {
			return nil, err
		}
		g.stores, g.ownStores = st, true
	}
	if g.stores.Shared && cfg.OAuth.Secret == "" && g.hasOAuthApps() {
		g.closeStores()
		return nil, errors.New("oauth.secret: required when instances share state (store: postgres, or redis: set): " +
			"every instance must sign login states with the same key (or set WXKIT_OAUTH_SECRET)")
	}
	if mode := cfg.Webhook.MessageLog; mode != LogOff {
		g.msgLog = newMessageLog(g.stores.Messages, mode, 0, logger, g.now, g.ops.metrics.messageLogHooks()) // metrics.go
	}
	if err := g.buildRoutes(); err != nil {
		g.Close()
		return nil, err
	}
	g.warmDedup(ctx)
	g.startPruner()
	g.handler = g.ops.handler(g.mux) // ops.go
	return g, nil
}

// buildRoutes registers the webhooks, the token service, the web routes
// and the health checks.
func (g *Gateway) buildRoutes() error {
	wh := g.cfg.Webhook
	window := time.Duration(*wh.TimestampWindow)
	if window == 0 {
		window = webhook.NoTimestampCheck
	}
	g.tokenSvc = &tokenService{
		secretSum: sha256.Sum256([]byte(g.cfg.TokenService.Secret)),
		apps:      make(map[string]*appTokens, len(g.cfg.Apps)),
		logger:    g.logger,
		now:       g.now,

		invalidations: g.ops.invalidations, // ratelimit.go
		failures:      newAuthFailures(&g.cfg.Limits, g.logger, g.now),
	}
	g.startLateReplies()
	for i := range g.cfg.Apps {
		a := &g.cfg.Apps[i]
		g.tokenSvc.apps[a.AppID] = g.newAppTokens(a)
		if !a.hasWebhook() { // a Mini Program without message push (config_wxa.go)
			continue
		}
		srv := &webhook.Server{
			AppID:           a.AppID,
			Token:           a.Token,
			EncodingAESKey:  a.EncodingAESKey,
			Mode:            webhook.Mode(a.Mode),
			Handler:         NewRepliesHandler(&a.Replies, g.client),
			Timeout:         time.Duration(wh.Timeout),
			TimestampWindow: window,
			MaxBodyBytes:    wh.MaxBodyBytes,
			Logger:          g.logger.With(slog.String("appid", a.AppID)),
		}
		if g.msgLog != nil {
			srv.Recorder = g.msgLog.recorder(a.AppID)
		}
		// The shared store of the app's claims, behind an in-process
		// tier. Dedup keys ("msg:<MsgId>", "evt:…", "sig:…") are unique
		// per account, not across accounts: scope them by app.
		var shared webhook.DedupStore
		if g.stores.Dedup != nil {
			shared = &tieredDedup{local: &webhook.MemoryDedup{MaxEntries: localTierEntries, MaxBytes: localTierBytes},
				shared: prefixedDedup{prefix: a.AppID + ":", inner: g.stores.Dedup}, logger: srv.Logger,
				storeError: g.ops.metrics.storeErrorFunc(storeDedup)} // metrics.go
		}
		switch wh.Dedup {
		case DedupStore:
			srv.Dedup = shared
			if shared == nil {
				srv.Dedup = &webhook.MemoryDedup{}
			}
		case DedupMemory:
			srv.Dedup = &webhook.MemoryDedup{}
		case DedupOff:
		}
		// Plaintext pushes' signed pairs are shared whatever the dedup
		// mode, so that a body forged at another instance is refused.
		srv.Replay = shared
		srv.Observer = g.ops.metrics.pushObserver(a.AppID) // metrics.go
		if a.IsMiniProgram() {
			srv.Format = webhook.FormatAuto // XML or JSON, as set on the Mini Program's console
		}
		g.wireLateReply(a, srv)
		if err := srv.Init(); err != nil {
			return fmt.Errorf("apps[%d]: %w", i, err)
		}
		g.webhooks[a.AppID] = srv
		g.mux.Handle("/wx/"+a.AppID, srv)
	}
	if g.cfg.TokenService.Secret != "" {
		g.mux.Handle("/token/{appid}", g.tokenSvc)
		g.mux.Handle("/token/{appid}/invalidate", g.ops.limitJSON(g.tokenSvc.serveInvalidate)) // ops.go
	}
	if err := g.registerWebRoutes(); err != nil {
		return err
	}
	if err := g.registerWXARoutes(); err != nil { // wxa.go
		return err
	}
	if err := g.startPay(); err != nil { // pay.go
		return err
	}
	if err := g.startComponents(); err != nil { // component.go
		return err
	}
	g.mux.HandleFunc("GET /healthz", g.healthz)
	g.mux.HandleFunc("GET /readyz", g.readyz)
	g.ops.registerRoutes(g.mux) // GET /metrics, unknown /wx/{appid} (ops.go)
	return nil
}

// newAppTokens returns the cached token sources of app a (none without a
// secret).
func (g *Gateway) newAppTokens(a *AppConfig) *appTokens {
	if a.Secret == "" {
		return &appTokens{}
	}
	popts := []token.ProviderOption{token.WithBaseURL(g.cfg.WeChat.APIBase), token.WithHTTPClient(g.client), token.WithClock(g.now)}
	copts := []token.CacheOption{token.WithLogger(g.logger), token.WithClock(g.now)}
	store := markedStore{g.ops.metrics.tokenStore(storeTokens, g.stores.Tokens)} // metrics.go
	access := token.NewCachedSource(store, token.AccessTokenKey(a.AppID),
		g.ops.metrics.countFetches(a.AppID, token.KindAccessToken, token.NewStableTokenProvider(a.AppID, a.Secret, popts...)), copts...) // metrics.go
	ticket := token.NewCachedSource(store, token.JSAPITicketKey(a.AppID),
		g.ops.metrics.countFetches(a.AppID, token.KindJSAPITicket, token.NewJSAPITicketProvider(access, popts...)), copts...) // metrics.go
	return &appTokens{access: access, ticket: ticket}
}

// Handler returns the gateway's routes as one http.Handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Config returns the configuration the gateway was built with.
func (g *Gateway) Config() *Config { return g.cfg }

// MessageLog returns the store of the message log (for inspection and
// tests). Rows of pushes in flight may not be in it yet in async mode.
func (g *Gateway) MessageLog() store.MessageLog { return g.stores.Messages }

// Stores returns the stores the gateway keeps its state in.
func (g *Gateway) Stores() *Stores { return g.stores }

// TokenSource returns the cached token source of appID for kind
// (token.KindAccessToken or token.KindJSAPITicket), the same one the token
// service uses. It fails when the app is unknown or has no secret.
func (g *Gateway) TokenSource(appID string, kind token.Kind) (token.Source, error) {
	at := g.tokenSvc.apps[appID]
	if at == nil {
		return nil, fmt.Errorf("gateway: app %q is not configured", appID)
	}
	var src *token.CachedSource
	switch kind {
	case token.KindAccessToken:
		src = at.access
	case token.KindJSAPITicket:
		src = at.ticket
	default:
		return nil, fmt.Errorf("gateway: unknown token type %q (want access_token or jsapi_ticket)", kind)
	}
	if src == nil {
		return nil, fmt.Errorf("gateway: app %q has no secret (apps[].secret or WXKIT_%s_SECRET)", appID, strings.ToUpper(appID))
	}
	return src, nil
}

// Listen binds the configured address (cfg.Listen; port 0 picks a free
// one). Addr reports the bound address afterwards.
func (g *Gateway) Listen() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := g.ops.listenMetrics(); err != nil { // ops.go
		ln.Close()
		return err
	}
	g.ln = ln
	return nil
}

// Addr returns the bound address ("127.0.0.1:8080"), or "" before Listen.
func (g *Gateway) Addr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln == nil {
		return ""
	}
	return g.ln.Addr().String()
}

// URL returns "http://" + Addr().
func (g *Gateway) URL() string { return "http://" + g.Addr() }

// ShutdownTimeout bounds a graceful shutdown: requests in flight, handlers
// still running past the webhook deadline (whose late replies go to the
// outbox), and the flush of the message log each get at most this long.
const ShutdownTimeout = 10 * time.Second

// Run listens (unless Listen was called) and serves until ctx ends, then
// shuts down gracefully: it stops accepting, waits for requests in flight
// and for handlers still running past the webhook deadline (each bounded
// by ShutdownTimeout), stops the outbox drainers and flushes the message
// log. Close releases the stores afterwards. The error is nil after a
// clean shutdown.
func (g *Gateway) Run(ctx context.Context) error {
	if err := g.Listen(); err != nil {
		return err
	}
	g.mu.Lock()
	srv := &http.Server{
		Handler:           g.handler, // ops.go
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	g.srv = srv
	ln := g.ln
	g.mu.Unlock()

	defer g.startMenuSync(ctx)()
	defer g.ops.serveMetrics()() // ops.go
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	g.logger.Info("gateway: serving", slog.String("addr", ln.Addr().String()), slog.Int("apps", len(g.cfg.Apps)),
		slog.String("stores", g.stores.Describe), slog.String("message_log", g.cfg.Webhook.MessageLog))
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serve: %w", err)
	case <-ctx.Done():
	}
	g.logger.Info("gateway: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	g.drain(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	return nil
}

// drain waits for handlers running past the webhook deadline, stops the
// outbox drainers and flushes the message log, each within
// ShutdownTimeout.
func (g *Gateway) drain(ctx context.Context) {
	g.drainOnce.Do(func() { g.drainNow(ctx) })
}

func (g *Gateway) drainNow(ctx context.Context) {
	hctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() { g.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-hctx.Done():
		g.logger.Warn("gateway: handlers still running at shutdown; their replies are lost")
	}
	g.stopPruner()
	g.stopPay(ctx)        // pay.go
	g.stopComponents(ctx) // component.go
	if g.late != nil {
		dctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
		g.late.stop(dctx)
		cancel()
	}
	if g.msgLog != nil {
		lctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
		if err := g.msgLog.Close(lctx); err != nil {
			g.logger.Error("gateway: message log not flushed in time", slog.String("error", err.Error()))
		}
		cancel()
		w, d := g.msgLog.stats()
		g.logger.Info("gateway: message log flushed", slog.Int64("rows_written", w), slog.Int64("rows_dropped", d),
			slog.Int64("transactions", g.msgLog.batchCount()))
	}
}

// Close stops what Run has not stopped (drainers, the log writer) and
// closes the stores New opened. Call it after Run has returned.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		g.mu.Lock()
		if g.srv == nil && g.ln != nil {
			g.ln.Close()
		}
		g.mu.Unlock()
		if g.ops != nil {
			g.ops.close() // ops.go
		}
		g.drain(context.Background())
		g.closeErr = g.closeStores()
	})
	return g.closeErr
}

func (g *Gateway) closeStores() error {
	if g.ownStores && g.stores != nil {
		return g.stores.Close()
	}
	return nil
}
