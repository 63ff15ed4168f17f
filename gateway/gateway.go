package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	redisstore "github.com/wxkit/wxkit/store/redis"
	"github.com/wxkit/wxkit/store/sqlite"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// Gateway is the application behind `wxkit serve`: one HTTP server with
//
//	POST|GET /wx/{appid}      the app's webhook (webhook.Server) with the
//	                          configured auto-replies, dedup and message log
//	GET      /token/{appid}   the central token service (404 when
//	                          token_service.secret is empty)
//	POST     /token/{appid}/invalidate
//	                          reports a token WeChat rejected (token.Remote)
//	GET      /healthz         200 "ok" when the store answers a ping, else 503
//	GET      /oauth/login     web login: redirect to WeChat's authorize page with
//	                          a signed, expiring, single-use state (?return=/path)
//	GET      /oauth/callback  verify state, exchange the code, upsert the user,
//	                          set the session cookie, redirect to the return path
//	POST     /oauth/logout    end the session (204)
//	GET      /api/me          the session's user as JSON (401 without a session)
//	GET      /jssdk/config    wx.config for a page on the app's jssdk.domains
//	GET      /MP_verify_*.txt the domain-verification files of verify_files
//
// Apps with a secret also get their custom menu (apps[].menu) synced at
// start, and replies that miss the webhook deadline delivered through the
// customer-service API (see latereply.go).
//
// Build it with New, serve it with Run (or Listen + Serve, or Handler in
// tests), stop it by cancelling Run's context or with Shutdown, and release
// it with Close.
type Gateway struct {
	cfg    *Config
	logger *slog.Logger
	client *http.Client

	db     *sqlite.DB
	msgLog *sqlite.MessageLog
	tokens token.Store
	redis  *redisstore.Client // tokens and locks when cfg.Redis is set
	now    func() time.Time

	mux      *http.ServeMux
	webhooks map[string]*webhook.Server
	tokenSvc *tokenService
	web      *webState // web login, JS-SDK, menus, late replies (oauth.go)

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

// New opens the store and builds every route of cfg (which must have been
// validated: LoadConfig, ParseConfig or Normalize). A nil logger logs
// nothing. Errors name the configuration key at fault.
func New(cfg *Config, logger *slog.Logger, opts ...Option) (*Gateway, error) {
	if cfg == nil {
		return nil, errors.New("gateway: nil config")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
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
	if err := g.openStore(); err != nil {
		return nil, err
	}
	if err := g.buildRoutes(); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// openStore opens the database and the stores on it.
func (g *Gateway) openStore() error {
	switch {
	case strings.HasPrefix(g.cfg.Store, "sqlite://"):
	default:
		return fmt.Errorf("store: %q: only sqlite://PATH is supported by this build", g.cfg.Store)
	}
	db, err := sqlite.Open(g.cfg.Store)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	g.db = db
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if g.msgLog, err = sqlite.NewMessageLog(ctx, db); err != nil {
		db.Close()
		return fmt.Errorf("store: %w", err)
	}
	ts, err := sqlite.NewTokenStore(db)
	if err != nil {
		g.msgLog.Close()
		db.Close()
		return fmt.Errorf("store: %w", err)
	}
	g.tokens = ts
	if g.cfg.Redis != "" {
		rc, err := openRedis(g.cfg.Redis)
		if err != nil {
			g.msgLog.Close()
			db.Close()
			return fmt.Errorf("redis: %q: %w", redactURL(g.cfg.Redis), err)
		}
		g.redis = rc
		g.tokens = redisstore.NewTokenStore(rc)
	}
	return nil
}

// openRedis connects to the Redis of cfg.Redis. A "prefix" query parameter
// (redis://host:6379/0?prefix=wxkit-prod:) is put in front of every key, for
// several deployments or tests sharing one Redis; the other parameters are
// go-redis's.
func openRedis(raw string) (*redisstore.Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("malformed URL (want redis://host:port/db)")
	}
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	rc, err := redisstore.Open(u.String())
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		rc = redisstore.New(rc.Redis(), redisstore.WithKeyPrefix(prefix))
	}
	return rc, nil
}

// webStores returns the stores of web login's state nonces and sessions:
// Redis when redis: is set, so that a login started on one instance
// completes on another and a session works on every instance; the SQLite
// file otherwise. Users stay in SQLite either way (records, not ephemeral
// state); the Redis sessions carry the user's profile for /api/me.
func (g *Gateway) webStores(ctx context.Context) (stateNonceStore, sessionStore, error) {
	if g.redis != nil {
		return redisstore.NewOAuthStateStore(g.redis), redisSessions{redisstore.NewSessionStore(g.redis)}, nil
	}
	states, err := sqlite.NewOAuthStateStore(ctx, g.db)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	sessions, err := sqlite.NewSessionStore(ctx, g.db)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	return states, sqliteSessions{sessions}, nil
}

// buildRoutes registers the webhooks, the token service and /healthz.
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
	}
	for i := range g.cfg.Apps {
		a := &g.cfg.Apps[i]
		// The shared dedup store is the message log itself (one row per
		// message serves as claim and record, written once: see
		// sqlite.MessageLog.Deferred for the cross-process guarantee), or
		// Redis when configured; then the log only records.
		alog := g.msgLog.Deferred(a.AppID, max(webhook.DefaultDedupTTL, window))
		var shared webhook.DedupStore = alog
		if g.redis != nil {
			shared = prefixedDedup{prefix: a.AppID + ":", inner: redisstore.NewDedup(g.redis)}
		}
		if wh.Dedup != DedupStore || g.redis != nil {
			alog = g.msgLog.Recorder(a.AppID)
		}
		srv := &webhook.Server{
			AppID:           a.AppID,
			Token:           a.Token,
			EncodingAESKey:  a.EncodingAESKey,
			Mode:            webhook.Mode(a.Mode),
			Handler:         NewRepliesHandler(&a.Replies, g.client),
			Recorder:        alog,
			Timeout:         time.Duration(wh.Timeout),
			TimestampWindow: window,
			MaxBodyBytes:    wh.MaxBodyBytes,
			Logger:          g.logger.With(slog.String("appid", a.AppID)),
		}
		switch wh.Dedup {
		case DedupStore:
			srv.Dedup = &tieredDedup{local: &webhook.MemoryDedup{}, shared: shared}
		case DedupMemory:
			srv.Dedup = &webhook.MemoryDedup{}
		case DedupOff:
		}
		g.wireLateReply(a, srv)
		if err := srv.Init(); err != nil {
			return fmt.Errorf("apps[%d]: %w", i, err)
		}
		g.webhooks[a.AppID] = srv
		g.mux.Handle("/wx/"+a.AppID, srv)

		if a.Secret != "" {
			popts := []token.ProviderOption{token.WithBaseURL(g.cfg.WeChat.APIBase), token.WithHTTPClient(g.client), token.WithClock(g.now)}
			copts := []token.CacheOption{token.WithLogger(g.logger), token.WithClock(g.now)}
			store := markedStore{g.tokens}
			access := token.NewCachedSource(store, token.AccessTokenKey(a.AppID),
				token.NewStableTokenProvider(a.AppID, a.Secret, popts...), copts...)
			ticket := token.NewCachedSource(store, token.JSAPITicketKey(a.AppID),
				token.NewJSAPITicketProvider(access, popts...), copts...)
			g.tokenSvc.apps[a.AppID] = &appTokens{access: access, ticket: ticket}
		} else {
			g.tokenSvc.apps[a.AppID] = &appTokens{}
		}
	}
	if g.cfg.TokenService.Secret != "" {
		g.mux.Handle("/token/{appid}", g.tokenSvc)
		g.mux.HandleFunc("/token/{appid}/invalidate", g.tokenSvc.serveInvalidate)
	}
	if err := g.registerWebRoutes(); err != nil {
		return err
	}
	g.mux.HandleFunc("GET /healthz", g.healthz)
	return nil
}

func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := g.db.PingContext(ctx); err != nil {
		g.logger.LogAttrs(r.Context(), slog.LevelError, "healthz: store ping failed", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "store unavailable\n")
		return
	}
	if g.redis != nil {
		if err := g.redis.Ping(ctx); err != nil {
			g.logger.LogAttrs(r.Context(), slog.LevelError, "healthz: redis ping failed", slog.String("error", err.Error()))
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "redis unavailable\n")
			return
		}
	}
	io.WriteString(w, "ok\n")
}

// Handler returns the gateway's routes as one http.Handler.
func (g *Gateway) Handler() http.Handler { return g.mux }

// Config returns the configuration the gateway was built with.
func (g *Gateway) Config() *Config { return g.cfg }

// MessageLog returns the message log (for inspection and tests).
func (g *Gateway) MessageLog() *sqlite.MessageLog { return g.msgLog }

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

// Run listens (unless Listen was called) and serves until ctx ends, then
// shuts down gracefully: it stops accepting, waits up to 10 s for requests
// in flight (each of which waits for its message-log batch) and returns.
// Close releases the store afterwards. The error is nil after a clean
// shutdown.
func (g *Gateway) Run(ctx context.Context) error {
	if err := g.Listen(); err != nil {
		return err
	}
	g.mu.Lock()
	srv := &http.Server{
		Handler:           g.mux,
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	g.logger.Info("gateway: serving", slog.String("addr", ln.Addr().String()), slog.Int("apps", len(g.cfg.Apps)))
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serve: %w", err)
	case <-ctx.Done():
	}
	b, n := g.msgLog.Stats()
	g.logger.Info("gateway: shutting down", slog.Int64("log_batches", b), slog.Int64("log_ops", n))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	return nil
}

// Close flushes the message log writer and closes the store. Call it after
// Run has returned.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		g.mu.Lock()
		if g.srv == nil && g.ln != nil {
			g.ln.Close()
		}
		g.mu.Unlock()
		if g.msgLog != nil {
			g.msgLog.Close()
		}
		if g.db != nil {
			g.closeErr = g.db.Close()
		}
		if g.redis != nil {
			g.closeErr = errors.Join(g.closeErr, g.redis.Close())
		}
	})
	return g.closeErr
}
