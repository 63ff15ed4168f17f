package miniprogram

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
	store   token.Store
	logger  *slog.Logger
	onError func(errcode int)
}

// WithHTTPClient sets the *http.Client used for API calls and token fetches
// (default http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("miniprogram: WithHTTPClient: nil client")
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

// WithTokenSource replaces the default access-token source of the wxa and
// cgi-bin calls (a token.CachedSource over cgi-bin/stable_token): for
// example a token.Remote reading the gateway's central token service, or an
// Open Platform authorizer token. If src implements token.Invalidator it is
// told about rejected tokens. Code2Session does not use it: it takes the
// AppSecret.
func WithTokenSource(src token.Source) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("miniprogram: WithTokenSource: nil source")
		}
		c.tokens = src
		return nil
	}
}

// WithStore sets the token.Store the default token source keeps the
// access_token in (default: a token.MemoryStore private to the Client), under
// token.AccessTokenKey(appID). Give every process of a deployment the same
// store so that they share one access_token.
func WithStore(s token.Store) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("miniprogram: WithStore: nil store")
		}
		c.store = s
		return nil
	}
}

// WithLogger sets the logger for retries and absorbed token-refresh failures
// (default: discard). Secrets, codes and session keys are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("miniprogram: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithAPIErrorHook makes the client call f with the errcode of every API
// reply that carries a non-zero errcode, once per reply (a retried call
// reports each failed attempt), for metrics. f runs on the caller's
// goroutine and must not block. Token fetches are not reported.
func WithAPIErrorHook(f func(errcode int)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("miniprogram: WithAPIErrorHook: nil function")
		}
		c.onError = f
		return nil
	}
}

// A CallOption adjusts one API call.
type CallOption func(*callConfig)

type callConfig struct {
	retrySystemError bool
}

// RetryUnsafe makes one SendSubscribeMessage retry on errcode -1 (system
// error) with backoff. By default a send is not retried on -1, because the
// platform answers -1 now and then after it has delivered the message, and
// a retry then delivers it twice.
func RetryUnsafe() CallOption { return func(c *callConfig) { c.retrySystemError = true } }

// wx returns the options of the API caller for opts.
func wx(opts []CallOption) []wxhttp.CallOption {
	var c callConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.retrySystemError {
		return []wxhttp.CallOption{wxhttp.RetrySystemError()}
	}
	return nil
}
