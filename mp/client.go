package mp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/token"
)

// Client calls the Official Account API for one app. It is safe for
// concurrent use. Services hang off it through accessors (see the package
// doc).
type Client struct {
	appID       string
	api         *wxhttp.Client
	accessToken token.Source
	jsapiTicket token.Source
	logger      *slog.Logger
	menu        *menuLimitsValue // nil: DefaultMenuLimits()

	common service // shared by the services: type MenuService service
}

// service is the base of every API area: later files declare
// `type MenuService service` and an accessor returning (*MenuService)(&c.common).
type service struct {
	client *Client
}

// NewClient returns a client for the app appID with AppSecret secret. The
// secret may be empty when WithTokenSource (and, for JS-SDK, WithTicketSource
// or a token source that can sign getticket calls) is given. By default the
// access_token comes from cgi-bin/stable_token through a token.CachedSource
// under token.AccessTokenKey(appID), and the jsapi_ticket from
// cgi-bin/ticket/getticket under token.JSAPITicketKey(appID), both in the
// store given with WithStore (a private token.MemoryStore otherwise).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
func NewClient(appID, secret string, opts ...Option) (*Client, error) {
	if appID == "" {
		return nil, errors.New("mp: NewClient: appID is required")
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
		return nil, errors.New("mp: NewClient: secret is required unless WithTokenSource is given")
	}
	popts := []token.ProviderOption{token.WithBaseURL(cfg.baseURL.String()), token.WithHTTPClient(cfg.hc)}
	if cfg.tokens == nil {
		cfg.tokens = token.NewCachedSource(cfg.store, token.AccessTokenKey(appID),
			token.NewStableTokenProvider(appID, secret, popts...), token.WithLogger(cfg.logger))
	}
	if cfg.ticket == nil {
		cfg.ticket = token.NewCachedSource(cfg.store, token.JSAPITicketKey(appID),
			token.NewJSAPITicketProvider(cfg.tokens, popts...), token.WithLogger(cfg.logger))
	}
	c := &Client{
		appID:       appID,
		accessToken: cfg.tokens,
		jsapiTicket: cfg.ticket,
		logger:      cfg.logger,
		menu:        cfg.menu,
		api: &wxhttp.Client{
			BaseURL:     cfg.baseURL,
			HTTPClient:  cfg.hc,
			Tokens:      cfg.tokens,
			Logger:      cfg.logger,
			OnAPIError:  cfg.onError,
			RetryUnsafe: cfg.retryUnsafe,
		},
	}
	c.common.client = c
	return c, nil
}

// AppID returns the app's AppID.
func (c *Client) AppID() string { return c.appID }

// BaseURL returns a copy of the API host the client calls.
func (c *Client) BaseURL() *url.URL {
	u := *c.api.BaseURL
	return &u
}

// NewRequest builds an API request. path is relative to the base URL (no
// leading slash) and may carry a query ("cgi-bin/user/info?openid=x"); body,
// unless nil, is sent as JSON. The access_token is added by Do.
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	return c.api.NewRequest(ctx, method, path, body)
}

// Do sends req with the app's access_token and decodes the JSON reply into v
// (which may be nil). It checks errcode on every reply, HTTP 200 included,
// returning a *wxkit.APIError (compare with errors.Is and the wxkit
// sentinels). No error carries the access_token.
//
// Retries: on 40001, 40014 or 42001 it invalidates the rejected token and
// retries once; on 45011 (minute quota) it retries with backoff while req's
// context deadline allows (the platform ran neither). On -1 (system error)
// it retries the same way only when opts hold Idempotent or RetryUnsafe, or
// the client was built WithRetryUnsafe: a -1 can follow a call that the
// platform did run. The services mark their reads Idempotent.
func (c *Client) Do(req *http.Request, v any, opts ...CallOption) error {
	return c.api.Do(req, v, newCallConfig(opts).wx()...)
}

// AccessToken returns the app's current access_token. Treat the value as a
// secret; do not modify the returned Token.
func (c *Client) AccessToken(ctx context.Context) (*token.Token, error) {
	return c.accessToken.Token(ctx)
}

// JSAPITicket returns the app's current JS-SDK jsapi_ticket (valid 7200 s).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#62
func (c *Client) JSAPITicket(ctx context.Context) (*token.Token, error) {
	return c.jsapiTicket.Token(ctx)
}

// TokenSource returns the client's access-token source.
func (c *Client) TokenSource() token.Source { return c.accessToken }

// TicketSource returns the client's jsapi_ticket source.
func (c *Client) TicketSource() token.Source { return c.jsapiTicket }
