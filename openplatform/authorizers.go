package openplatform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// Authorizers returns the stored accounts that authorized the component,
// authorized and not (Authorized false after an unauthorized event),
// ordered by AppID. RefreshToken is left empty: it never leaves the
// Component.
func (c *Component) Authorizers(ctx context.Context) ([]*store.Authorizer, error) {
	list, err := c.cfg.authorizers.ListAuthorizers(ctx, c.appID)
	if err != nil {
		return nil, fmt.Errorf("openplatform: component %s: list authorizers: %w", c.appID, err)
	}
	for _, a := range list {
		a.RefreshToken = nil
	}
	return list, nil
}

// Authorizer returns one stored authorizer (RefreshToken left empty), or an
// error wrapping store.ErrNotFound.
func (c *Component) Authorizer(ctx context.Context, authorizerAppID string) (*store.Authorizer, error) {
	a, err := c.cfg.authorizers.Authorizer(ctx, c.appID, authorizerAppID)
	if err != nil {
		return nil, fmt.Errorf("openplatform: authorizer %s: %w", authorizerAppID, err)
	}
	a.RefreshToken = nil
	return a, nil
}

// AuthorizerTokenSource returns the source of an authorizer's
// authorizer_access_token: a token.CachedSource under
// token.AuthorizerTokenKey in the token store (so one fetch per token
// lifetime across every instance sharing it), refreshed through
// api_authorizer_token with the stored refresh token. A new refresh token
// in a reply replaces the stored one. It implements token.Invalidator.
//
// Its errors wrap ErrNotAuthorizer (no stored authorizer), ErrUnauthorized
// (the account cancelled the authorization), ErrReauthorize together with
// ErrRefreshTokenInvalid (61023: only a new authorization helps) and
// ErrNoTicket (no component_access_token without a recent ticket). The
// same Source is returned for an AppID on every call.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
func (c *Component) AuthorizerTokenSource(authorizerAppID string) token.Source {
	return c.authorizerSource(authorizerAppID)
}

func (c *Component) authorizerSource(appID string) *token.CachedSource {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.authorizer[appID]; ok {
		return s
	}
	p := token.NewAuthorizerTokenProvider(c.appID, appID, componentTokens{c}, refreshTokens{c, appID}, c.providerOptions()...)
	s := token.NewCachedSource(c.cfg.tokens, token.AuthorizerTokenKey(c.appID, appID),
		authorizerFetch{appID: appID, p: p}, token.WithClock(c.cfg.now), token.WithLogger(c.cfg.logger))
	c.authorizer[appID] = s
	return s
}

// authorizerFetch is the upstream of an authorizer's CachedSource: the
// provider, with 61023 explained.
type authorizerFetch struct {
	appID string
	p     *token.AuthorizerTokenProvider
}

func (f authorizerFetch) Token(ctx context.Context) (*token.Token, error) {
	t, err := f.p.Token(ctx)
	if errors.Is(err, ErrRefreshTokenInvalid) {
		return nil, fmt.Errorf("openplatform: authorizer %s: %w: %w", f.appID, ErrReauthorize, err)
	}
	return t, err
}

// refreshTokens is the token.RefreshTokenStore of one authorizer: the
// sealed refresh token of its stored record.
type refreshTokens struct {
	c     *Component
	appID string
}

func (r refreshTokens) RefreshToken(ctx context.Context) (string, error) {
	a, err := r.c.cfg.authorizers.Authorizer(ctx, r.c.appID, r.appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("openplatform: authorizer %s of component %s: %w", r.appID, r.c.appID, ErrNotAuthorizer)
	case err != nil:
		return "", fmt.Errorf("openplatform: authorizer %s: read: %w", r.appID, err)
	case !a.Authorized:
		return "", fmt.Errorf("openplatform: authorizer %s of component %s: %w", r.appID, r.c.appID, ErrUnauthorized)
	}
	rt, err := openRefreshToken(r.c.cfg.aead, r.c.appID, r.appID, a.RefreshToken)
	if err != nil {
		return "", fmt.Errorf("openplatform: authorizer %s: %w", r.appID, err)
	}
	if rt == "" {
		return "", fmt.Errorf("openplatform: authorizer %s: no refresh token stored (the account granted no API permission set): %w", r.appID, ErrReauthorize)
	}
	return rt, nil
}

func (r refreshTokens) SetRefreshToken(ctx context.Context, rt string) error {
	err := r.set(ctx, rt)
	if err != nil {
		r.c.cfg.logger.ErrorContext(ctx, "openplatform: storing the authorizer's new refresh token failed; kept in memory, retried at the next refresh",
			slog.String("component_appid", r.c.appID), slog.String("authorizer_appid", r.appID), slog.Any("err", err))
	}
	return err
}

func (r refreshTokens) set(ctx context.Context, rt string) error {
	a, err := r.c.cfg.authorizers.Authorizer(ctx, r.c.appID, r.appID)
	if err != nil {
		return err
	}
	a.RefreshToken = sealRefreshToken(r.c.cfg.aead, r.c.appID, r.appID, rt)
	a.Updated = r.c.now()
	return r.c.cfg.authorizers.PutAuthorizer(ctx, a)
}

// markUnauthorized records an unauthorized event: the stored authorizer
// (if any) is kept with Authorized false and no refresh token, and its
// cached tokens are dropped.
func (c *Component) markUnauthorized(ctx context.Context, appID string) error {
	a, err := c.cfg.authorizers.Authorizer(ctx, c.appID, appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("openplatform: authorizer %s: read: %w", appID, err)
	default:
		a.Authorized, a.RefreshToken, a.Updated = false, nil, c.now()
		if err := c.cfg.authorizers.PutAuthorizer(ctx, a); err != nil {
			return fmt.Errorf("openplatform: authorizer %s: store: %w", appID, err)
		}
	}
	c.dropToken(ctx, token.AuthorizerTokenKey(c.appID, appID), c.cachedSource(c.authorizer, appID))
	c.dropToken(ctx, token.AuthorizerJSAPITicketKey(c.appID, appID), c.cachedSource(c.ticket, appID))
	return nil
}

// cachedSource returns m[appID] under c.mu, nil if absent.
func (c *Component) cachedSource(m map[string]*token.CachedSource, appID string) *token.CachedSource {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m[appID]
}

// dropToken removes the token under key from the store and, through src
// when this process has one, from process memory.
func (c *Component) dropToken(ctx context.Context, key string, src *token.CachedSource) {
	t, err := c.cfg.tokens.Get(ctx, key)
	if err == nil && src != nil {
		err = src.Invalidate(ctx, t)
	} else if err == nil || !errors.Is(err, token.ErrNotFound) {
		err = c.cfg.tokens.Delete(ctx, key)
	}
	if err != nil && !errors.Is(err, token.ErrNotFound) {
		c.cfg.logger.WarnContext(ctx, "openplatform: dropping a revoked authorizer token failed",
			slog.String("key", key), slog.Any("err", err))
	}
}

// MPClient returns an mp.Client that acts for the authorizer: the same
// Official Account services (menu, users, templates, customer service,
// media, QR codes, JS-SDK) called with the authorizer's access token from
// AuthorizerTokenSource, and its jsapi_ticket kept under
// token.AuthorizerJSAPITicketKey. It uses the Component's API host, HTTP
// client and logger; opts are applied after those (mp.WithAPIErrorHook,
// mp.WithMenuLimits, ...). The account must have granted the permission
// sets of the services used (otherwise errcode 48001).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/Before_Develop/call_interface.html
func (c *Component) MPClient(authorizerAppID string, opts ...mp.Option) (*mp.Client, error) {
	if authorizerAppID == "" {
		return nil, errors.New("openplatform: MPClient: empty authorizer appid")
	}
	at := c.authorizerSource(authorizerAppID)
	c.mu.Lock()
	ticket, ok := c.ticket[authorizerAppID]
	if !ok {
		ticket = token.NewCachedSource(c.cfg.tokens, token.AuthorizerJSAPITicketKey(c.appID, authorizerAppID),
			token.NewJSAPITicketProvider(at, c.providerOptions()...), token.WithClock(c.cfg.now), token.WithLogger(c.cfg.logger))
		c.ticket[authorizerAppID] = ticket
	}
	c.mu.Unlock()
	base := []mp.Option{
		mp.WithBaseURL(c.cfg.baseURL.String()),
		mp.WithHTTPClient(c.cfg.hc),
		mp.WithLogger(c.cfg.logger),
		mp.WithTokenSource(at),
		mp.WithTicketSource(ticket),
	}
	return mp.NewClient(authorizerAppID, "", append(base, opts...)...)
}
