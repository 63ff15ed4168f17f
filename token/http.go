package token

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/wxkit/wxkit"
)

// maxReply caps the size of a token reply.
const maxReply = 1 << 20

// Busy retries of the providers: errcode -1 (system busy) and 45011
// (minute quota) are retried after 200 ms, 400 ms, 800 ms (±25%), as long as
// the ctx deadline leaves room for the wait.
const (
	busyAttempts  = 4
	busyBaseDelay = 200 * time.Millisecond
)

// callRetryingBusy is call, retried while WeChat answers -1 or 45011.
func callRetryingBusy(ctx context.Context, cfg *providerConfig, method, path string, query url.Values, body any, v any, secrets ...string) error {
	for attempt := 1; ; attempt++ {
		err := call(ctx, cfg, method, path, query, nil, body, v, secrets...)
		if err == nil || !wxkit.IsRetryable(err) || attempt >= busyAttempts {
			return err
		}
		d := busyBaseDelay << (attempt - 1)
		d = d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1))
		if dl, ok := ctx.Deadline(); ok && cfg.now().Add(d).After(dl) {
			return err
		}
		if serr := cfg.sleep(ctx, d); serr != nil {
			return err
		}
	}
}

// call sends one request to cfg.baseURL+path with query (which may carry a
// secret) and an optional JSON body, and decodes the reply into v with
// wxkit.DecodeResponse, so a non-zero errcode becomes a *wxkit.APIError.
// secrets are scrubbed from any error it returns.
func call(ctx context.Context, cfg *providerConfig, method, path string, query url.Values, header http.Header, body any, v any, secrets ...string) error {
	u := cfg.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("wxkit: %s %s: encode request: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), secrets...)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := cfg.client.Do(req)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), secrets...)
	}
	defer resp.Body.Close()
	b, err := wxkit.ReadLimited(resp.Body, maxReply)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: read reply: %w", method, path, err), secrets...)
	}
	if resp.StatusCode/100 != 2 {
		// A JSON errcode wins over the status; otherwise report the status.
		var e *wxkit.APIError
		if err := wxkit.DecodeResponse(b, method, path, nil); errors.As(err, &e) {
			return e
		}
		return fmt.Errorf("wxkit: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if err := wxkit.DecodeResponse(b, method, path, v); err != nil {
		return scrub(err, secrets...)
	}
	return nil
}

// scrub removes the query of URL errors and the given secrets from err.
func scrub(err error, secrets ...string) error { return wxkit.ScrubError(err, secrets...) }

// newToken builds a Token from a reply's value and expires_in (seconds),
// refusing an empty value or a non-positive lifetime.
func newToken(cfg *providerConfig, method, path, value string, expiresIn int64) (*Token, error) {
	if value == "" {
		return nil, fmt.Errorf("wxkit: %s %s: reply carries no token", method, path)
	}
	if expiresIn <= 0 {
		return nil, fmt.Errorf("wxkit: %s %s: reply carries expires_in %d", method, path, expiresIn)
	}
	return &Token{Value: value, Expiry: cfg.now().Add(time.Duration(expiresIn) * time.Second)}, nil
}
