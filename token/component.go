package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/wxkit/wxkit"
)

// componentTokenReply is the success reply of api_component_token.
type componentTokenReply struct {
	ComponentAccessToken string `json:"component_access_token"`
	ExpiresIn            int64  `json:"expires_in"` // seconds
}

// componentTokenRequest is the body of api_component_token.
type componentTokenRequest struct {
	ComponentAppID        string `json:"component_appid"`
	ComponentAppSecret    string `json:"component_appsecret"`
	ComponentVerifyTicket string `json:"component_verify_ticket"`
}

// ComponentTokenProvider is a Source of an Open Platform component's
// component_access_token (7200 s): each call reads the latest
// component_verify_ticket from a ticket Source and fetches a new token from
// POST cgi-bin/component/api_component_token with the component's AppID,
// AppSecret and that ticket. Wrap it in a CachedSource under
// ComponentTokenKey, so that every process sharing the Store makes one
// fetch per token lifetime.
//
// The ticket Source returns the ticket as a Token (WeChat pushes it every
// 10 minutes; it stays valid 12 hours); its error is returned wrapped.
// Errcodes become *wxkit.APIError: 61005 (ticket expired), 61006 (ticket
// invalid: often another component's ticket, or one overwritten by a push
// to the wrong URL), 40013, 40125. Like every provider here it retries -1
// and 45011 with backoff. Neither the AppSecret nor the ticket appears in an
// error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
type ComponentTokenProvider struct {
	appID, secret string
	ticket        Source
	cfg           providerConfig
}

var _ Source = (*ComponentTokenProvider)(nil)

// NewComponentTokenProvider returns an api_component_token provider for the
// component componentAppID with AppSecret secret, reading tickets from
// ticket. Options: WithBaseURL, WithHTTPClient, WithClock.
func NewComponentTokenProvider(componentAppID, secret string, ticket Source, opts ...ProviderOption) *ComponentTokenProvider {
	return &ComponentTokenProvider{appID: componentAppID, secret: secret, ticket: ticket, cfg: newProviderConfig(opts)}
}

// Token implements Source.
func (p *ComponentTokenProvider) Token(ctx context.Context) (*Token, error) {
	const path = "cgi-bin/component/api_component_token"
	if p.appID == "" || p.secret == "" {
		return nil, errors.New("wxkit: POST " + path + ": component appid and secret are required")
	}
	if p.ticket == nil {
		return nil, errors.New("wxkit: POST " + path + ": no component_verify_ticket source")
	}
	ticket, err := p.ticket.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("wxkit: POST %s: component_verify_ticket: %w", path, err)
	}
	if ticket == nil || ticket.Value == "" {
		return nil, fmt.Errorf("wxkit: POST %s: component_verify_ticket: the ticket source returned no ticket", path)
	}
	body := componentTokenRequest{ComponentAppID: p.appID, ComponentAppSecret: p.secret, ComponentVerifyTicket: ticket.Value}
	var r componentTokenReply
	if err := callRetryingBusy(ctx, &p.cfg, http.MethodPost, path, nil, body, &r, p.secret, ticket.Value); err != nil {
		return nil, err
	}
	return newToken(&p.cfg, http.MethodPost, path, r.ComponentAccessToken, r.ExpiresIn)
}

// A RefreshTokenStore keeps an authorizer's authorizer_refresh_token for an
// AuthorizerTokenProvider. The refresh token is the one credential whose
// loss forces the account's administrator to authorize the component again:
// keep it durably (never expiring) and encrypted at rest.
// Implementations must be safe for concurrent use.
type RefreshTokenStore interface {
	// RefreshToken returns the current refresh token.
	RefreshToken(ctx context.Context) (string, error)
	// SetRefreshToken is called when the platform answered a refresh with
	// another refresh token than the one sent.
	SetRefreshToken(ctx context.Context, refreshToken string) error
}

// authorizerTokenRequest is the body of api_authorizer_token.
type authorizerTokenRequest struct {
	ComponentAppID         string `json:"component_appid"`
	AuthorizerAppID        string `json:"authorizer_appid"`
	AuthorizerRefreshToken string `json:"authorizer_refresh_token"`
}

// authorizerTokenReply is the success reply of api_authorizer_token.
type authorizerTokenReply struct {
	AuthorizerAccessToken  string `json:"authorizer_access_token"`
	ExpiresIn              int64  `json:"expires_in"` // seconds
	AuthorizerRefreshToken string `json:"authorizer_refresh_token"`
}

// AuthorizerTokenProvider is a Source of the authorizer_access_token (7200
// s) that an Open Platform component uses to act for an account that
// authorized it: each call sends the stored authorizer_refresh_token to POST
// cgi-bin/component/api_authorizer_token?component_access_token=... Wrap
// it in a CachedSource under AuthorizerTokenKey.
//
// When the reply carries another refresh token than the one sent, the
// provider gives it to the RefreshTokenStore; if that fails it keeps the new
// refresh token in memory, uses it for its next refresh and tries to store
// it again then, and returns the access token all the same (it is valid
// whatever happens to the refresh token).
//
// When WeChat rejects the component_access_token (40001, 40014, 42001) and
// the component-token Source is an Invalidator, the token is invalidated and
// the call retried once. Errcodes become *wxkit.APIError; 61023 means the
// refresh token is no longer valid, and only a new authorization by the
// account's administrator gives a new one. No token appears in an error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
type AuthorizerTokenProvider struct {
	componentAppID, authorizerAppID string
	componentToken                  Source
	refresh                         RefreshTokenStore
	cfg                             providerConfig

	mu      sync.Mutex
	pending string // a new refresh token the store has not taken yet
}

var _ Source = (*AuthorizerTokenProvider)(nil)

// NewAuthorizerTokenProvider returns an api_authorizer_token provider for
// the account authorizerAppID that authorized the component componentAppID,
// calling with tokens from componentToken (a CachedSource over a
// ComponentTokenProvider) and the refresh token kept in refresh. Options:
// WithBaseURL, WithHTTPClient, WithClock.
func NewAuthorizerTokenProvider(componentAppID, authorizerAppID string, componentToken Source, refresh RefreshTokenStore, opts ...ProviderOption) *AuthorizerTokenProvider {
	return &AuthorizerTokenProvider{
		componentAppID:  componentAppID,
		authorizerAppID: authorizerAppID,
		componentToken:  componentToken,
		refresh:         refresh,
		cfg:             newProviderConfig(opts),
	}
}

// Token implements Source.
func (p *AuthorizerTokenProvider) Token(ctx context.Context) (*Token, error) {
	const path = "cgi-bin/component/api_authorizer_token"
	if p.componentAppID == "" || p.authorizerAppID == "" {
		return nil, errors.New("wxkit: POST " + path + ": component appid and authorizer appid are required")
	}
	if p.componentToken == nil || p.refresh == nil {
		return nil, errors.New("wxkit: POST " + path + ": a component token source and a refresh-token store are required")
	}
	p.mu.Lock()
	rt := p.pending
	p.mu.Unlock()
	if rt == "" {
		var err error
		if rt, err = p.refresh.RefreshToken(ctx); err != nil {
			return nil, fmt.Errorf("wxkit: POST %s: authorizer_refresh_token of %s: %w", path, p.authorizerAppID, err)
		}
		if rt == "" {
			return nil, fmt.Errorf("wxkit: POST %s: authorizer %s has no authorizer_refresh_token", path, p.authorizerAppID)
		}
	}
	body := authorizerTokenRequest{ComponentAppID: p.componentAppID, AuthorizerAppID: p.authorizerAppID, AuthorizerRefreshToken: rt}
	var r authorizerTokenReply
	for attempt := 0; ; attempt++ {
		ct, err := p.componentToken.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("wxkit: POST %s: component_access_token: %w", path, err)
		}
		q := url.Values{"component_access_token": {ct.Value}}
		err = callRetryingBusy(ctx, &p.cfg, http.MethodPost, path, q, body, &r, ct.Value, rt)
		if err == nil {
			break
		}
		inv, ok := p.componentToken.(Invalidator)
		if attempt > 0 || !ok || !wxkit.IsTokenRejected(err) {
			return nil, err
		}
		if ierr := inv.Invalidate(ctx, ct); ierr != nil {
			return nil, errors.Join(err, ierr)
		}
	}
	t, err := newToken(&p.cfg, http.MethodPost, path, r.AuthorizerAccessToken, r.ExpiresIn)
	if err != nil {
		return nil, err
	}
	p.keepRefreshToken(ctx, rt, r.AuthorizerRefreshToken)
	return t, nil
}

// keepRefreshToken hands a new refresh token to the store, or keeps it
// pending when the store fails; sent is the one the call used.
func (p *AuthorizerTokenProvider) keepRefreshToken(ctx context.Context, sent, got string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if got == "" || (got == sent && p.pending == "") {
		return
	}
	if err := p.refresh.SetRefreshToken(ctx, got); err != nil {
		p.pending = got
		return
	}
	p.pending = ""
}
