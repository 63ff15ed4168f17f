package miniprogram

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/token"
)

// Client calls the Mini Program server API for one Mini Program. It is safe
// for concurrent use.
type Client struct {
	appID  string
	tokens token.Source
	// api makes the calls authorized by access_token (wxa/..., cgi-bin/...).
	api *wxhttp.Client
	// sns makes Code2Session, authorized by the AppSecret; nil without one.
	sns *wxhttp.Client
}

// NewClient returns a client for the Mini Program appID with AppSecret
// secret. The secret may be empty when WithTokenSource is given; Code2Session
// then fails, since it takes the secret. By default the access_token comes
// from cgi-bin/stable_token through a token.CachedSource under
// token.AccessTokenKey(appID) in the store given with WithStore (a private
// token.MemoryStore otherwise).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
func NewClient(appID, secret string, opts ...Option) (*Client, error) {
	if appID == "" {
		return nil, errors.New("miniprogram: NewClient: appID is required")
	}
	cfg := config{}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.baseURL == nil {
		u, err := wxhttp.ParseBaseURL(DefaultBaseURL)
		if err != nil {
			return nil, err
		}
		cfg.baseURL = u
	}
	if cfg.hc == nil {
		cfg.hc = http.DefaultClient
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.store == nil {
		cfg.store = &token.MemoryStore{}
	}
	if cfg.tokens == nil && secret == "" {
		return nil, errors.New("miniprogram: NewClient: secret is required unless WithTokenSource is given")
	}
	if cfg.tokens == nil {
		popts := []token.ProviderOption{token.WithBaseURL(cfg.baseURL.String()), token.WithHTTPClient(cfg.hc)}
		cfg.tokens = token.NewCachedSource(cfg.store, token.AccessTokenKey(appID),
			token.NewStableTokenProvider(appID, secret, popts...), token.WithLogger(cfg.logger))
	}
	c := &Client{
		appID:  appID,
		tokens: cfg.tokens,
		api: &wxhttp.Client{
			BaseURL:    cfg.baseURL,
			HTTPClient: cfg.hc,
			Tokens:     cfg.tokens,
			Logger:     cfg.logger,
			OnAPIError: cfg.onError,
		},
	}
	if secret != "" {
		c.sns = &wxhttp.Client{
			BaseURL:    cfg.baseURL,
			HTTPClient: cfg.hc,
			Auth:       secretQuery{appID: appID, secret: secret},
			Retry:      neverRetry,
			Logger:     cfg.logger,
			OnAPIError: cfg.onError,
		}
	}
	return c, nil
}

// AppID returns the Mini Program's AppID.
func (c *Client) AppID() string { return c.appID }

// BaseURL returns a copy of the API host the client calls.
func (c *Client) BaseURL() *url.URL {
	u := *c.api.BaseURL
	return &u
}

// TokenSource returns the client's access-token source.
func (c *Client) TokenSource() token.Source { return c.tokens }

// secretQuery authorizes the calls that take the AppID and AppSecret in the
// query instead of an access_token (sns/jscode2session); the secret is
// scrubbed from every error.
type secretQuery struct {
	appID, secret string
}

// Authorize implements wxhttp.Authenticator.
func (a secretQuery) Authorize(r *http.Request, _ []byte) (wxhttp.Grant, error) {
	q := r.URL.Query()
	q.Set("appid", a.appID)
	q.Set("secret", a.secret)
	r.URL.RawQuery = q.Encode()
	return wxhttp.Grant{Secrets: []string{a.secret}}, nil
}

// neverRetry is the retry policy of Code2Session: its code is single use
// (a call that ran and answered -1 has consumed it) and its 45011 is a
// limit per user and minute, which a backoff of seconds does not outlast.
func neverRetry(*wxhttp.Failure) wxhttp.Retry { return wxhttp.Stop }
