package mp

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/token"
)

// DefaultBaseURL is the WeChat API host.
const DefaultBaseURL = "https://api.weixin.qq.com/"

// An Option configures NewClient; it returns an error for an invalid value.
type Option func(*config) error

type config struct {
	baseURL *url.URL
	hc      *http.Client
	tokens  token.Source
	ticket  token.Source
	store   token.Store
	logger  *slog.Logger
	menu    *menuLimitsValue
	onError func(errcode int)

	retryUnsafe bool
}

// WithHTTPClient sets the *http.Client used for API calls and token fetches
// (default http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("mp: WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithBaseURL sets the API host (default DefaultBaseURL): the emulator or an
// httptest server. It must be an absolute http(s) URL; a missing trailing
// slash is added, so that request paths resolve below it.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		p, err := wxhttp.ParseBaseURL(u)
		if err != nil {
			return err
		}
		c.baseURL = p
		return nil
	}
}

// WithTokenSource replaces the default access-token source (a
// token.CachedSource over cgi-bin/stable_token): for example a token.Remote
// reading the gateway's central token service, or an Open Platform
// authorizer token. If src implements token.Invalidator it is told about
// rejected tokens. With it, NewClient does not need the AppSecret.
func WithTokenSource(src token.Source) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("mp: WithTokenSource: nil source")
		}
		c.tokens = src
		return nil
	}
}

// WithTicketSource replaces the default jsapi_ticket source (a
// token.CachedSource over cgi-bin/ticket/getticket).
func WithTicketSource(src token.Source) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("mp: WithTicketSource: nil source")
		}
		c.ticket = src
		return nil
	}
}

// WithStore sets the token.Store the default token and ticket sources keep
// their values in (default: a token.MemoryStore private to the Client). Give
// every process of a deployment the same store (store/redis, store/sqlite) so
// that they share one access_token.
func WithStore(s token.Store) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("mp: WithStore: nil store")
		}
		c.store = s
		return nil
	}
}

// WithLogger sets the logger for retries and absorbed token-refresh failures
// (default: discard). Tokens and secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("mp: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithMenuLimits makes MenuService.Create and AddConditional validate menus
// against l instead of DefaultMenuLimits() (WeChat's documented limits; the
// platform's real limits have differed from its docs, see docs/PLATFORM.md).
// The CallOptions UseMenuLimits and SkipMenuValidation override it for one
// call.
func WithMenuLimits(l MenuLimits) Option {
	return func(c *config) error {
		c.menu = &menuLimitsValue{limits: l}
		return nil
	}
}

// WithoutMenuValidation makes MenuService.Create and AddConditional send
// menus without validating them, leaving every check to WeChat (whose
// errors are then *wxkit.APIError rather than *MenuError). The CallOption
// UseMenuLimits turns validation back on for one call.
func WithoutMenuValidation() Option {
	return func(c *config) error {
		c.menu = &menuLimitsValue{off: true}
		return nil
	}
}

// WithRetryUnsafe makes every call of the client retry on errcode -1 (system
// error) with backoff, sends and creates included, as RetryUnsafe does for
// one call. Without it only reads are retried on -1: the platform answers -1
// now and then after it has done the work, so a retried send can reach the
// user twice.
func WithRetryUnsafe() Option {
	return func(c *config) error {
		c.retryUnsafe = true
		return nil
	}
}

// WithAPIErrorHook makes the client call f with the errcode of every API
// reply that carries a non-zero errcode, once per reply (a retried call
// reports each failed attempt), for metrics such as a counter by errcode. f
// runs on the caller's goroutine and must not block. Replies of the token
// and ticket providers are not API calls of the client and are not
// reported.
func WithAPIErrorHook(f func(errcode int)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("mp: WithAPIErrorHook: nil function")
		}
		c.onError = f
		return nil
	}
}
