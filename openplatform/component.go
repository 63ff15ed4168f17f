package openplatform

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/wxcrypto"
)

// Component is an Open Platform third-party platform (第三方平台): it keeps
// the component_verify_ticket pushed to its authorization event URL, holds
// the component_access_token, creates pre-authorization codes and
// authorization links, stores the accounts that authorized it (authorizers)
// and acts for them with their own access tokens. It is safe for
// concurrent use; build one per component and process with NewComponent.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/creat_token.html
type Component struct {
	appID, secret, token, aesKey string
	cfg                          config

	tokens *token.CachedSource // component_access_token
	api    *wxhttp.Client      // component calls (component_access_token query parameter)

	mu         sync.Mutex
	authorizer map[string]*token.CachedSource // authorizer_access_token by authorizer appid
	ticket     map[string]*token.CachedSource // authorizer jsapi_ticket by authorizer appid

	userNames sync.Map // authorizer appid → user_name (gh_…), which never changes
}

// NewComponent returns the component componentAppID with its AppSecret and
// the message token and EncodingAESKey (43 characters) set on its
// Open Platform console page, which sign and encrypt every push to it and
// to its authorizers' message route. All four are required.
//
// Options: WithBaseURL, WithMPBaseURL, WithOpenBaseURL, WithHTTPClient,
// WithTokenStore, WithAuthorizers with WithRefreshTokenCipher, WithClock,
// WithLogger, WithHooks. Without WithAuthorizers, authorizers are kept in
// process memory, their refresh tokens encrypted with a key made for the
// Component. No error carries a secret.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
func NewComponent(componentAppID, secret, msgToken, encodingAESKey string, opts ...Option) (*Component, error) {
	switch {
	case componentAppID == "":
		return nil, errors.New("openplatform: NewComponent: component appid is required")
	case secret == "":
		return nil, errors.New("openplatform: NewComponent: secret is required")
	case msgToken == "":
		return nil, errors.New("openplatform: NewComponent: message token is required")
	}
	if _, err := wxcrypto.NewCipher(encodingAESKey, componentAppID); err != nil {
		return nil, fmt.Errorf("openplatform: NewComponent: encoding_aes_key: %w", err)
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	for _, d := range []struct {
		field **url.URL
		def   string
	}{{&cfg.baseURL, DefaultBaseURL}, {&cfg.mpBaseURL, DefaultMPBaseURL}, {&cfg.openBaseURL, DefaultOpenBaseURL}} {
		if *d.field == nil {
			u, err := wxhttp.ParseBaseURL(d.def)
			if err != nil {
				return nil, err
			}
			*d.field = u
		}
	}
	if cfg.hc == nil {
		cfg.hc = http.DefaultClient
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.tokens == nil {
		cfg.tokens = &token.MemoryStore{Now: cfg.now}
	}
	switch {
	case cfg.authorizers != nil && cfg.aead == nil:
		return nil, errors.New("openplatform: NewComponent: WithAuthorizers needs WithRefreshTokenCipher (refresh tokens are stored encrypted)")
	case cfg.authorizers == nil:
		cfg.authorizers = &memAuthorizers{}
		if cfg.aead == nil {
			key := make([]byte, 32)
			_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
			aead, err := NewRefreshTokenCipher(key)
			if err != nil {
				return nil, err
			}
			cfg.aead = aead
		}
	}
	c := &Component{
		appID:      componentAppID,
		secret:     secret,
		token:      msgToken,
		aesKey:     encodingAESKey,
		cfg:        cfg,
		authorizer: make(map[string]*token.CachedSource),
		ticket:     make(map[string]*token.CachedSource),
	}
	c.tokens = token.NewCachedSource(cfg.tokens, token.ComponentTokenKey(componentAppID),
		token.NewComponentTokenProvider(componentAppID, secret, token.SourceFunc(c.Ticket), c.providerOptions()...),
		token.WithClock(cfg.now), token.WithLogger(cfg.logger))
	c.api = &wxhttp.Client{
		BaseURL:    cfg.baseURL,
		HTTPClient: cfg.hc,
		Auth:       wxhttp.AuthenticatorFunc(c.authorize),
		Logger:     cfg.logger,
	}
	return c, nil
}

// providerOptions are the options of the token providers: the API host,
// the HTTP client and the clock.
func (c *Component) providerOptions() []token.ProviderOption {
	return []token.ProviderOption{
		token.WithBaseURL(c.cfg.baseURL.String()),
		token.WithHTTPClient(c.cfg.hc),
		token.WithClock(c.cfg.now),
	}
}

// AppID returns the component's AppID.
func (c *Component) AppID() string { return c.appID }

// TokenSource returns the source of the component_access_token: a
// token.CachedSource under token.ComponentTokenKey in the token store that
// fetches through api_component_token with the latest ticket, and fails
// with ErrNoTicket when no ticket newer than 12 hours is stored. It
// implements token.Invalidator.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
func (c *Component) TokenSource() token.Source { return componentTokens{c} }

// componentTokens is the component-token Source of the Component's own
// calls: it requires a fresh ticket before handing out a token, so that a
// broken ticket push is reported as soon as the last ticket is 12 hours
// old, whatever token is still cached.
type componentTokens struct{ c *Component }

func (s componentTokens) Token(ctx context.Context) (*token.Token, error) {
	if _, err := s.c.Ticket(ctx); err != nil {
		return nil, err
	}
	return s.c.tokens.Token(ctx)
}

func (s componentTokens) Invalidate(ctx context.Context, bad *token.Token) error {
	return s.c.tokens.Invalidate(ctx, bad)
}

// authorize is the wxhttp Authenticator of the component calls: it sets
// the component_access_token query parameter.
func (c *Component) authorize(r *http.Request, _ []byte) (wxhttp.Grant, error) {
	src := componentTokens{c}
	tok, err := src.Token(r.Context())
	if err != nil {
		return wxhttp.Grant{}, err
	}
	q := r.URL.Query()
	q.Set("component_access_token", tok.Value)
	r.URL.RawQuery = q.Encode()
	return wxhttp.Grant{
		Secrets: []string{tok.Value},
		Revoke:  func(ctx context.Context) error { return src.Invalidate(ctx, tok) },
	}, nil
}

// call makes one component call: POST path with a JSON body, the reply
// decoded into v.
func (c *Component) call(ctx context.Context, path string, body, v any) error {
	req, err := c.api.NewRequest(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	return c.api.Do(req, v)
}

// now is the Component's clock.
func (c *Component) now() time.Time { return c.cfg.now() }
