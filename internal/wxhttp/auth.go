package wxhttp

import (
	"context"
	"fmt"
	"net/http"

	"github.com/wxkit/wxkit/token"
)

// An Authenticator authorizes the attempts of a Client's calls: every
// attempt, retries included, is authorized afresh (a new token after a
// rejection, a new timestamp and nonce for a signature). Implementations
// must be safe for concurrent use.
type Authenticator interface {
	// Authorize sets the credentials of one attempt on r, a clone of the
	// call's request that the Client sends next (set headers or the query
	// of r.URL). body is the request body, nil when there is none; it is
	// the same bytes that r sends. The returned Grant names what must never
	// appear in an error and how to discard a rejected credential; its
	// Secrets are scrubbed from an Authorize error too.
	Authorize(r *http.Request, body []byte) (Grant, error)
}

// AuthenticatorFunc adapts a function to an Authenticator.
type AuthenticatorFunc func(r *http.Request, body []byte) (Grant, error)

// Authorize calls f(r, body).
func (f AuthenticatorFunc) Authorize(r *http.Request, body []byte) (Grant, error) { return f(r, body) }

// A Grant is what one attempt was authorized with.
type Grant struct {
	// Secrets are replaced by "***" in every error of the attempt (an
	// access_token in a URL or an echoed errmsg). Empty strings are
	// ignored.
	Secrets []string
	// Revoke discards the credential after the reply rejected it (the
	// RetryPolicy answered Reauthorize), so that the next Authorize gets a
	// fresh one; the call is then sent once more, at once. Nil means a
	// rejected credential is not retried.
	Revoke func(ctx context.Context) error
}

// TokenQuery is the Authenticator of api.weixin.qq.com: it sets the
// access_token query parameter from Tokens, and revokes a rejected token
// through Invalidator (nil: Tokens, if it implements token.Invalidator;
// with neither, a rejected token is not retried). A request that already
// carries an access_token is left alone.
type TokenQuery struct {
	Tokens      token.Source
	Invalidator token.Invalidator
}

// Authorize implements Authenticator. Its error reads "access_token: ...".
func (a TokenQuery) Authorize(r *http.Request, body []byte) (Grant, error) {
	if a.Tokens == nil || r.URL.Query().Has("access_token") {
		return Grant{}, nil
	}
	tok, err := a.Tokens.Token(r.Context())
	if err != nil {
		return Grant{}, fmt.Errorf("access_token: %w", err)
	}
	q := r.URL.Query()
	q.Set("access_token", tok.Value)
	r.URL.RawQuery = q.Encode()
	g := Grant{Secrets: []string{tok.Value}}
	inv := a.Invalidator
	if inv == nil {
		inv, _ = a.Tokens.(token.Invalidator)
	}
	if inv != nil {
		g.Revoke = func(ctx context.Context) error { return inv.Invalidate(ctx, tok) }
	}
	return g, nil
}
