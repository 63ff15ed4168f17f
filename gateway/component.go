package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/openplatform"
	"github.com/wxkit/wxkit/webhook"
)

// components holds the Open Platform third-party platforms of the gateway
// (components: in the configuration), by component_appid.
type components struct {
	byID   map[string]*componentState
	apiTxt *drainer // release-check QUERY_AUTH_CODE jobs (component_release.go)
}

// componentState is one served component.
type componentState struct {
	cfg  *ComponentConfig
	comp *openplatform.Component
	// messages is the one webhook.Server of the authorizers' messages;
	// the route puts the authorizer's AppID in the request's context.
	messages *webhook.Server
	replies  webhook.Handler // authorizer_replies
}

// startComponents builds the components of the configuration and
// registers their routes:
//
//	POST /component/{component_appid}/notify      ticket and authorization events
//	GET  /component/{component_appid}/authorize   ?return=/path: 302 to the authorization page
//	GET  /component/{component_appid}/callback    ?auth_code=: store the authorizer, 302 to return
//	POST /component/{component_appid}/wx/{authorizer_appid}
//	                                              the authorized accounts' messages
func (g *Gateway) startComponents() error {
	if len(g.cfg.Components) == 0 {
		return nil
	}
	if g.stores.Authorizers == nil {
		return errors.New("components: the store keeps no authorizers (store: must be sqlite:// or postgres://)")
	}
	if g.stores.Shared && g.cfg.OAuth.Secret == "" {
		return errors.New("oauth.secret: required when instances share state (store: postgres, or redis: set) and components are configured: " +
			"every instance must sign authorization states with the same key (or set WXKIT_OAUTH_SECRET)")
	}
	g.comps = &components{byID: make(map[string]*componentState, len(g.cfg.Components))}
	tokens := markedStore{g.ops.metrics.tokenStore(storeTokens, g.stores.Tokens)} // metrics.go
	wh := g.cfg.Webhook
	window := time.Duration(*wh.TimestampWindow)
	if window == 0 {
		window = webhook.NoTimestampCheck
	}
	for i := range g.cfg.Components {
		cc := &g.cfg.Components[i]
		logger := g.logger.With(slog.String("component_appid", cc.AppID))
		aead, err := openplatform.NewRefreshTokenCipher(cc.refreshKey)
		if err != nil {
			return fmt.Errorf("components[%d].refresh_token_key: %w", i, err)
		}
		comp, err := openplatform.NewComponent(cc.AppID, cc.Secret, cc.Token, cc.EncodingAESKey,
			openplatform.WithBaseURL(g.cfg.WeChat.APIBase), openplatform.WithMPBaseURL(g.cfg.WeChat.MPBase),
			openplatform.WithOpenBaseURL(g.cfg.WeChat.OpenBase), openplatform.WithHTTPClient(g.client),
			openplatform.WithTokenStore(tokens), openplatform.WithAuthorizers(g.stores.Authorizers),
			openplatform.WithRefreshTokenCipher(aead), openplatform.WithClock(g.now), openplatform.WithLogger(logger),
			openplatform.WithHooks(componentHooks(logger)))
		if err != nil {
			return fmt.Errorf("components[%d]: %w", i, err)
		}
		cs := &componentState{cfg: cc, comp: comp, replies: NewRepliesHandler(&cc.AuthorizerReplies, g.client)}

		notify := comp.NotifyServer()
		notify.Timeout, notify.TimestampWindow, notify.MaxBodyBytes = time.Duration(wh.Timeout), window, wh.MaxBodyBytes
		notify.Logger = logger
		notify.Observer = g.ops.metrics.pushObserver(cc.AppID) // metrics.go
		if err := notify.Init(); err != nil {
			return fmt.Errorf("components[%d]: %w", i, err)
		}

		srv := &webhook.Server{
			AppID:           cc.AppID, // the ciphertext carries the component's AppID
			Token:           cc.Token,
			EncodingAESKey:  cc.EncodingAESKey,
			Mode:            webhook.ModeSafe,
			Handler:         webhook.HandlerFunc(cs.serveAuthorizerMessage(g)),
			Timeout:         time.Duration(wh.Timeout),
			TimestampWindow: window,
			MaxBodyBytes:    wh.MaxBodyBytes,
			Logger:          logger,
			Now:             g.now,
		}
		if g.msgLog != nil {
			srv.Recorder = webhook.RecorderFunc(func(ctx context.Context, m *message.Message, reply []byte) error {
				return g.msgLog.record(ctx, authorizerOf(ctx), m, reply)
			})
		}
		var shared webhook.DedupStore
		if g.stores.Dedup != nil {
			shared = &tieredDedup{local: &webhook.MemoryDedup{MaxEntries: localTierEntries, MaxBytes: localTierBytes},
				shared: prefixedDedup{prefix: cc.AppID + ":", inner: g.stores.Dedup}, logger: logger,
				storeError: g.ops.metrics.storeErrorFunc(storeDedup)} // metrics.go
		}
		switch wh.Dedup {
		case DedupStore:
			if shared == nil {
				shared = &webhook.MemoryDedup{}
			}
			srv.Dedup = authorizerDedup{shared}
		case DedupMemory:
			srv.Dedup = authorizerDedup{&webhook.MemoryDedup{}}
		case DedupOff:
		}
		srv.Observer = g.ops.metrics.pushObserver(cc.AppID) // metrics.go
		if err := srv.Init(); err != nil {
			return fmt.Errorf("components[%d]: %w", i, err)
		}
		cs.messages = srv
		g.comps.byID[cc.AppID] = cs

		base := "/component/" + cc.AppID
		g.mux.Handle("POST "+base+"/notify", notify)
		g.mux.Handle("GET "+base+"/authorize", g.ops.limitOAuth(base+"/authorize", func(w http.ResponseWriter, r *http.Request) {
			g.serveComponentAuthorize(w, r, cs) // component_authorize.go
		}))
		g.mux.Handle("GET "+base+"/callback", g.ops.limitOAuth(base+"/callback", func(w http.ResponseWriter, r *http.Request) {
			g.serveComponentCallback(w, r, cs) // component_authorize.go
		}))
		g.mux.HandleFunc(base+"/wx/{authorizer_appid}", cs.serveMessages)
	}
	g.tokenSvc.components = g.comps // GET /token/{authorizer_appid}?component= (component_tokens.go)
	g.startComponentJobs()          // component_release.go
	return nil
}

// componentHooks log the authorization events a component handled.
func componentHooks(logger *slog.Logger) openplatform.Hooks {
	logEvent := func(ctx context.Context, e *openplatform.Event) error {
		logger.LogAttrs(ctx, slog.LevelInfo, "component: authorization event",
			slog.String("info_type", string(e.InfoType)), slog.String("authorizer_appid", e.AuthorizerAppID))
		return nil
	}
	return openplatform.Hooks{OnAuthorized: logEvent, OnUpdateAuthorized: logEvent, OnUnauthorized: logEvent}
}

// stopComponents stops the drainer of the components' jobs.
func (g *Gateway) stopComponents(ctx context.Context) {
	if g.comps == nil || g.comps.apiTxt == nil {
		return
	}
	dctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
	defer cancel()
	g.comps.apiTxt.stop(dctx)
}

// authorizerKey is the context key of the AppID of the authorizer whose
// message is being served.
type authorizerKey struct{}

// authorizerOf returns the authorizer AppID that serveMessages put in ctx.
func authorizerOf(ctx context.Context) string {
	s, _ := ctx.Value(authorizerKey{}).(string)
	return s
}

// serveMessages serves /component/{component_appid}/wx/{authorizer_appid}:
// the path's AppID must look like one (else 404), and the message goes to
// the component's webhook.Server with that AppID in its context.
func (cs *componentState) serveMessages(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("authorizer_appid")
	if !appIDPattern.MatchString(id) {
		http.Error(w, "unknown account", http.StatusNotFound)
		return
	}
	cs.messages.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authorizerKey{}, id)))
}

// serveAuthorizerMessage returns the Handler of the authorizers' messages:
// openplatform's route check (ToUserName against the stored original id),
// then the release-check answers (component_release.go), then
// authorizer_replies.
func (cs *componentState) serveAuthorizerMessage(g *Gateway) func(ctx context.Context, m *message.Message) (message.Reply, error) {
	inner := webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
		if rep, ok, err := g.releaseCheckReply(ctx, cs, authorizerOf(ctx), m); ok {
			return rep, err
		}
		return cs.replies.ServeMessage(ctx, m)
	})
	return func(ctx context.Context, m *message.Message) (message.Reply, error) {
		return cs.comp.AuthorizerHandler(authorizerOf(ctx), inner).ServeMessage(ctx, m)
	}
}

// authorizerDedup scopes dedup keys by the authorizer in the context:
// message.DedupKey values are unique per account only.
type authorizerDedup struct{ inner webhook.DedupStore }

var (
	_ webhook.DedupStore  = authorizerDedup{}
	_ webhook.DedupWaiter = authorizerDedup{}
)

func (d authorizerDedup) key(ctx context.Context, k string) string {
	return authorizerOf(ctx) + ":" + k
}

// Claim implements webhook.DedupStore.
func (d authorizerDedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	return d.inner.Claim(ctx, d.key(ctx, key), ttl)
}

// Complete implements webhook.DedupStore.
func (d authorizerDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	return d.inner.Complete(ctx, d.key(ctx, key), reply, ttl)
}

// Release implements webhook.DedupStore.
func (d authorizerDedup) Release(ctx context.Context, key string) error {
	return d.inner.Release(ctx, d.key(ctx, key))
}

// Wait implements webhook.DedupWaiter: the inner store's Wait, or polling
// Claim when it has none.
func (d authorizerDedup) Wait(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	k := d.key(ctx, key)
	if w, ok := d.inner.(webhook.DedupWaiter); ok {
		return w.Wait(ctx, k, ttl)
	}
	t := time.NewTicker(webhook.DefaultDedupPollInterval)
	defer t.Stop()
	for {
		c, err := d.inner.Claim(ctx, k, ttl)
		if err != nil || c.State != webhook.ClaimPending {
			return c, err
		}
		select {
		case <-ctx.Done():
			return webhook.Claim{}, ctx.Err()
		case <-t.C:
		}
	}
}

// Component returns the openplatform.Component of the configured
// component componentAppID (its tickets, tokens and authorizers live in
// the gateway's stores).
func (g *Gateway) Component(componentAppID string) (*openplatform.Component, error) {
	if g.comps != nil {
		if cs := g.comps.byID[componentAppID]; cs != nil {
			return cs.comp, nil
		}
	}
	return nil, fmt.Errorf("gateway: component %q is not configured", componentAppID)
}

// AuthorizerMPClient returns an Official Account API client that acts for
// the account authorizerAppID through the component componentAppID, with
// the authorizer_access_token refreshed from its stored refresh token
// (openplatform.Component.MPClient). Calls fail with an error wrapping
// openplatform.ErrNotAuthorizer or ErrUnauthorized for an account that has
// not authorized the component or cancelled, and ErrNoTicket without a
// recent ticket.
func (g *Gateway) AuthorizerMPClient(componentAppID, authorizerAppID string) (*mp.Client, error) {
	c, err := g.Component(componentAppID)
	if err != nil {
		return nil, err
	}
	if !appIDPattern.MatchString(authorizerAppID) {
		return nil, fmt.Errorf("gateway: %q is not an AppID", authorizerAppID)
	}
	return c.MPClient(authorizerAppID,
		mp.WithLogger(g.logger.With(slog.String("component_appid", componentAppID), slog.String("appid", authorizerAppID))),
		mp.WithAPIErrorHook(g.ops.metrics.apiError)) // metrics.go
}
