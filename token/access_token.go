package token

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/wxkit/wxkit"
)

// accessTokenReply is the success reply of cgi-bin/token and
// cgi-bin/stable_token.
type accessTokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
}

// ClientCredentialProvider is a Source that fetches a new access_token from
// GET cgi-bin/token?grant_type=client_credential on every call. Each call
// invalidates the previous token (after a 5-minute overlap) and counts
// against the 2000/day quota, so wrap it in a CachedSource; prefer
// StableTokenProvider, which does neither.
//
// Errcodes become *wxkit.APIError (40013 invalid appid, 40125 invalid
// appsecret, 40164 IP not in whitelist, 45009 daily quota). The AppSecret
// never appears in an error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
type ClientCredentialProvider struct {
	appID, secret string
	cfg           providerConfig
}

// NewClientCredentialProvider returns a cgi-bin/token provider for the app.
// Options: WithBaseURL, WithHTTPClient, WithClock.
func NewClientCredentialProvider(appID, secret string, opts ...ProviderOption) *ClientCredentialProvider {
	return &ClientCredentialProvider{appID: appID, secret: secret, cfg: newProviderConfig(opts)}
}

// Token implements Source.
func (p *ClientCredentialProvider) Token(ctx context.Context) (*Token, error) {
	if p.appID == "" || p.secret == "" {
		return nil, errors.New("wxkit: GET cgi-bin/token: appid and secret are required")
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {p.appID}, "secret": {p.secret}}
	var r accessTokenReply
	if err := callRetryingBusy(ctx, &p.cfg, http.MethodGet, "cgi-bin/token", q, nil, &r, p.secret); err != nil {
		return nil, err
	}
	return newToken(&p.cfg, http.MethodGet, "cgi-bin/token", r.AccessToken, r.ExpiresIn)
}

// StableTokenProvider is a Source that gets the access_token from POST
// cgi-bin/stable_token. With force_refresh false (its normal mode) the
// platform returns the same token while it is valid, handing out a new one in
// the last 5 minutes of its life, and does not invalidate tokens other
// holders use. The provider sets force_refresh true only for the first fetch
// after Reject (CachedSource.Invalidate calls it when WeChat rejected a
// token), and at most once per 30 seconds, the platform's own spacing (it
// allows 20 forced refreshes a day). When the day's forced refreshes are
// spent (45009) it falls back to a normal fetch.
//
// Like every provider here it retries -1 (system busy) and 45011 (minute
// quota) up to 4 times with backoff (200 ms, 400 ms, 800 ms) within the ctx
// deadline. Errcodes become *wxkit.APIError. The AppSecret never appears in an error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
type StableTokenProvider struct {
	appID, secret string
	cfg           providerConfig

	mu        sync.Mutex
	rejected  string    // value of the last rejected token, "" if none pending
	lastForce time.Time // last force_refresh=true call
}

var (
	_ Source   = (*StableTokenProvider)(nil)
	_ Rejecter = (*StableTokenProvider)(nil)
)

// minForceInterval is the spacing WeChat requires between forced refreshes.
const minForceInterval = 30 * time.Second

// NewStableTokenProvider returns a cgi-bin/stable_token provider for the app.
// Options: WithBaseURL, WithHTTPClient, WithClock.
func NewStableTokenProvider(appID, secret string, opts ...ProviderOption) *StableTokenProvider {
	return &StableTokenProvider{appID: appID, secret: secret, cfg: newProviderConfig(opts)}
}

// stableTokenRequest is the body of cgi-bin/stable_token.
type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// Reject implements Rejecter: the next fetch uses force_refresh.
func (p *StableTokenProvider) Reject(bad *Token) {
	if bad == nil || bad.Value == "" {
		return
	}
	p.mu.Lock()
	p.rejected = bad.Value
	p.mu.Unlock()
}

// Token implements Source.
func (p *StableTokenProvider) Token(ctx context.Context) (*Token, error) {
	if p.appID == "" || p.secret == "" {
		return nil, errors.New("wxkit: POST cgi-bin/stable_token: appid and secret are required")
	}
	now := p.cfg.now()
	p.mu.Lock()
	rejected := p.rejected
	force := rejected != "" && (p.lastForce.IsZero() || now.Sub(p.lastForce) >= minForceInterval)
	p.mu.Unlock()

	body := stableTokenRequest{GrantType: "client_credential", AppID: p.appID, Secret: p.secret, ForceRefresh: force}
	var r accessTokenReply
	err := callRetryingBusy(ctx, &p.cfg, http.MethodPost, "cgi-bin/stable_token", nil, body, &r, p.secret)
	if err != nil && force && errors.Is(err, wxkit.ErrAPIDailyQuota) {
		// The day's 20 forced refreshes are spent: take the current stable
		// token rather than fail, and do not force again for a while.
		p.mu.Lock()
		p.lastForce = now
		p.mu.Unlock()
		body.ForceRefresh, force = false, false
		err = callRetryingBusy(ctx, &p.cfg, http.MethodPost, "cgi-bin/stable_token", nil, body, &r, p.secret)
	}
	if err != nil {
		return nil, err
	}
	t, err := newToken(&p.cfg, http.MethodPost, "cgi-bin/stable_token", r.AccessToken, r.ExpiresIn)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if force {
		p.lastForce = now
	}
	if force || t.Value != p.rejected {
		if p.rejected == rejected {
			p.rejected = ""
		}
	}
	p.mu.Unlock()
	return t, nil
}
