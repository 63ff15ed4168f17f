package openplatform

import (
	"crypto/cipher"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// Default hosts of the platform; WithBaseURL, WithMPBaseURL and
// WithOpenBaseURL replace them (the emulator, an httptest server).
const (
	// DefaultBaseURL is the API host of the component calls.
	DefaultBaseURL = "https://api.weixin.qq.com/"
	// DefaultMPBaseURL is the host of the PC authorization page
	// (cgi-bin/componentloginpage).
	DefaultMPBaseURL = "https://mp.weixin.qq.com/"
	// DefaultOpenBaseURL is the host of the mobile authorization page
	// (wxaopen/safe/bindcomponent).
	DefaultOpenBaseURL = "https://open.weixin.qq.com/"
)

// An Option configures NewComponent; it returns an error for an invalid
// value.
type Option func(*config) error

type config struct {
	baseURL, mpBaseURL, openBaseURL *url.URL
	hc                              *http.Client
	tokens                          token.Store
	authorizers                     store.Authorizers
	aead                            cipher.AEAD
	now                             func() time.Time
	logger                          *slog.Logger
	hooks                           Hooks
}

// WithBaseURL sets the API host (default DefaultBaseURL). It must be an
// absolute http(s) URL; a missing trailing slash is added.
func WithBaseURL(u string) Option {
	return baseURLOption(u, func(c *config) **url.URL { return &c.baseURL })
}

// WithMPBaseURL sets the host of the PC authorization page that
// AuthorizeURL links to (default DefaultMPBaseURL).
func WithMPBaseURL(u string) Option {
	return baseURLOption(u, func(c *config) **url.URL { return &c.mpBaseURL })
}

// WithOpenBaseURL sets the host of the mobile authorization page that
// MobileAuthorizeURL links to (default DefaultOpenBaseURL).
func WithOpenBaseURL(u string) Option {
	return baseURLOption(u, func(c *config) **url.URL { return &c.openBaseURL })
}

func baseURLOption(u string, field func(*config) **url.URL) Option {
	return func(c *config) error {
		p, err := wxhttp.ParseBaseURL(u)
		if err != nil {
			return err
		}
		*field(c) = p
		return nil
	}
}

// WithHTTPClient sets the *http.Client of every call (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("openplatform: WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithTokenStore sets the token.Store that keeps the component's latest
// component_verify_ticket (ComponentTicketKey), its
// component_access_token (ComponentTokenKey) and its authorizers' access
// tokens (AuthorizerTokenKey). Give every instance of a deployment the same
// store (store/redis, store/sqlite, store/postgres): the ticket reaches one
// instance, and each token is then fetched once per lifetime for all of
// them. Default: a token.MemoryStore private to the Component.
func WithTokenStore(s token.Store) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("openplatform: WithTokenStore: nil store")
		}
		c.tokens = s
		return nil
	}
}

// WithAuthorizers sets where the accounts that authorized the component are
// kept, with their refresh tokens (encrypted with the key given to
// WithRefreshTokenCipher, which is then required). Default: process memory,
// which loses every authorization when the process ends.
func WithAuthorizers(s store.Authorizers) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("openplatform: WithAuthorizers: nil store")
		}
		c.authorizers = s
		return nil
	}
}

// WithRefreshTokenCipher sets the AEAD (NewRefreshTokenCipher) that
// encrypts authorizer refresh tokens before they reach the Authorizers
// store; each is bound to its (component, authorizer) pair. Every instance
// must use the same key.
func WithRefreshTokenCipher(aead cipher.AEAD) Option {
	return func(c *config) error {
		if aead == nil {
			return errors.New("openplatform: WithRefreshTokenCipher: nil AEAD")
		}
		c.aead = aead
		return nil
	}
}

// WithClock replaces time.Now: token expiry, the 12-hour ticket validity,
// the push timestamp window and stored times (for tests and the emulator's
// clock).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("openplatform: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger for pushes, absorbed failures and retries
// (default: discard). Tokens, tickets and secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("openplatform: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithHooks sets the functions the authorization-event handler calls after
// it handled an event (see Hooks).
func WithHooks(h Hooks) Option {
	return func(c *config) error {
		c.hooks = h
		return nil
	}
}
