// Package wxhttp is the API caller shared by wxkit's WeChat clients (mp,
// oauth, miniprogram, openplatform, and WeChat Pay v3): it builds requests
// against a base URL, authorizes each attempt of a call through an
// Authenticator (the access_token query parameter for api.weixin.qq.com,
// the signed Authorization header for WeChat Pay v3), checks each reply
// through a Checker (errcode on every reply, HTTP 200 included, by default;
// HTTP status, error JSON and the response signature for pay), retries as a
// RetryPolicy says, and keeps the credentials the Authenticator names out of
// every error it returns.
//
// The default retry policy (ErrcodePolicy), by errcode:
//
//   - 40001, 40014, 42001 (token rejected): every call, once, after
//     invalidating the token. The platform did not run the call.
//   - 45011 (minute quota): every call, with backoff. The platform did not
//     run the call.
//   - -1 (system error): only calls made with RetrySystemError (reads, or
//     a send whose caller opted in), or every call when Client.RetryUnsafe
//     is set. A -1 can follow a call that the platform did run (a message
//     delivered), so repeating a send or a create can duplicate it.
//   - anything else, transport errors included: never.
package wxhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/token"
)

// Defaults of Client.
const (
	DefaultMaxAttempts = 4 // attempts of a call retried with backoff
	DefaultBaseDelay   = 200 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
	DefaultMaxBody     = 16 << 20 // bytes of a reply
)

// Client calls one WeChat API host. Set the fields before first use; a
// Client is then safe for concurrent use.
//
// Three fields make the protocol of the host, and each has the default of
// api.weixin.qq.com when nil: Auth authorizes each attempt (default: the
// access_token query parameter from Tokens), Check turns a reply into nil or
// an error (default: errcode, on every reply), and Retry says what a failed
// attempt leads to (default: the errcode policy of the package doc).
type Client struct {
	// BaseURL is the API host with a trailing slash, such as
	// https://api.weixin.qq.com/. Request paths are relative to it.
	BaseURL *url.URL
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Auth authorizes each attempt of a call. Nil means TokenQuery{Tokens,
	// Invalidator} when Tokens is set, and no authorization otherwise.
	Auth Authenticator
	// Check turns the reply to an attempt into nil or the call's error; nil
	// means the errcode checks of api.weixin.qq.com (see Do and DoRaw).
	Check Checker
	// Retry classifies the failure of an attempt; nil means ErrcodePolicy.
	Retry RetryPolicy
	// Tokens supplies the access_token query parameter when Auth is nil;
	// nil sends none.
	Tokens token.Source
	// Invalidator is told about a token WeChat rejected (40001, 40014,
	// 42001) when Auth is nil. Nil means Tokens, if it implements
	// token.Invalidator; with neither, a rejected token is not retried.
	Invalidator token.Invalidator
	// MaxAttempts caps the attempts of a call that Retry answers Backoff
	// for (by default: 45011, the minute quota, or, when the call may be
	// retried on it, -1, a system error); 0 means DefaultMaxAttempts.
	MaxAttempts int
	// RetryUnsafe marks every call idempotent, not only those made with
	// RetrySystemError (or Idempotent): with the default policy they are
	// then retried on -1 (system error), so sends and creates may be run
	// twice by the platform (a duplicate message) when a -1 followed a call
	// that it did run.
	RetryUnsafe bool
	// BaseDelay and MaxDelay shape the exponential backoff between those
	// attempts (with jitter); zero means the defaults. A retry whose delay
	// would pass the ctx's deadline is not made.
	BaseDelay, MaxDelay time.Duration
	// MaxBody caps the size of a reply; 0 means DefaultMaxBody.
	MaxBody int64
	// Sleep waits d or until ctx is done; nil uses a timer (tests inject it).
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a debug line per retry; nil discards. Credentials
	// are never logged.
	Logger *slog.Logger
	// OnAPIError, when set, is called with the errcode of every reply
	// WeChat answers with a non-zero errcode (whatever the HTTP status),
	// once per reply: a call that is retried (token rejected, system busy)
	// reports each failed attempt. It runs on the caller's goroutine and
	// must not block (count a metric).
	OnAPIError func(errcode int)
}

// New returns a Client for baseURL (a missing trailing slash is added) that
// sends through hc (nil: http.DefaultClient) and takes access tokens from
// tokens (nil: none).
func New(baseURL string, hc *http.Client, tokens token.Source) (*Client, error) {
	u, err := ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	return &Client{BaseURL: u, HTTPClient: hc, Tokens: tokens}, nil
}

// ParseBaseURL parses an absolute http(s) base URL and adds a missing
// trailing slash.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("wxkit: base URL %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wxkit: base URL %q: want an absolute http or https URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("wxkit: base URL %q: must not carry a query or fragment", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// A CallOption adjusts one call of Do or DoRaw.
type CallOption func(*callOptions)

// callOptions is what the CallOptions of one call set.
type callOptions struct {
	idempotent bool // safe to repeat: retried on -1 too, by the default policy
	noAuth     bool // not authorized (no access_token)
}

// RetrySystemError makes one call retry on -1 (system error) as well as on
// 45011. Give it to the calls that are safe to repeat, the reads (whatever
// their HTTP method: user/info/batchget is a POST), and to a send or a
// create only when its caller accepts a possible duplicate. It marks the
// call idempotent (Failure.Idempotent), as Idempotent does.
func RetrySystemError() CallOption { return func(o *callOptions) { o.idempotent = true } }

// Idempotent marks one call as safe to repeat: Failure.Idempotent is true
// for its failed attempts, so that the RetryPolicy may try it again. It is
// RetrySystemError under the name that other policies than errcode's read
// by.
func Idempotent() CallOption { return RetrySystemError() }

// NoToken makes a call carry no credentials: Auth is not asked (for the few
// endpoints that take the appid and secret instead of an access_token).
func NoToken() CallOption { return func(o *callOptions) { o.noAuth = true } }

func (c *Client) resolve(path string) (*url.URL, error) {
	if c.BaseURL == nil {
		return nil, errors.New("wxkit: client has no base URL")
	}
	if !strings.HasSuffix(c.BaseURL.Path, "/") {
		return nil, fmt.Errorf("wxkit: base URL %q must have a trailing slash", c.BaseURL)
	}
	if strings.HasPrefix(path, "/") || strings.Contains(path, "://") {
		return nil, fmt.Errorf("wxkit: path %q must be relative to the base URL", path)
	}
	u, err := c.BaseURL.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("wxkit: path %q: %w", path, err)
	}
	if u.Query().Has("access_token") {
		return nil, fmt.Errorf("wxkit: path %q: access_token is added by the client", path)
	}
	return u, nil
}

// NewRequest builds a request for path (relative to BaseURL, with an
// optional query such as "cgi-bin/user/info?openid=x&lang=zh_CN") whose body,
// unless nil, is body encoded as JSON (without HTML escaping). The body is
// replayable (GetBody), as the token retry needs.
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	u, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return nil, fmt.Errorf("wxkit: %s %s: encode request: %w", method, path, err)
		}
		rd = bytes.NewReader(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("wxkit: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	return req, nil
}

// NewBodyRequest builds a request for path with a raw body of the given
// content type; the body is kept in memory so that it can be replayed.
func (c *Client) NewBodyRequest(ctx context.Context, method, path, contentType string, body []byte) (*http.Request, error) {
	u, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("wxkit: %s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// A FormFile is a file part of a multipart upload.
type FormFile struct {
	Field    string // form field name, e.g. "media"
	FileName string
	Content  io.Reader
}

// NewMultipartRequest builds a POST multipart/form-data request for path
// (media upload) with the given fields and files, buffered so that it can
// be replayed. maxSize caps the encoded body (0: no cap).
func (c *Client) NewMultipartRequest(ctx context.Context, path string, fields map[string]string, files []FormFile, maxSize int64) (*http.Request, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			return nil, fmt.Errorf("wxkit: POST %s: %w", path, err)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.Field, f.FileName)
		if err != nil {
			return nil, fmt.Errorf("wxkit: POST %s: %w", path, err)
		}
		src := f.Content
		if maxSize > 0 {
			src = io.LimitReader(src, maxSize+1)
		}
		if _, err := io.Copy(fw, src); err != nil {
			return nil, fmt.Errorf("wxkit: POST %s: read %s: %w", path, f.FileName, err)
		}
		if maxSize > 0 && int64(buf.Len()) > maxSize {
			return nil, fmt.Errorf("wxkit: POST %s: upload larger than %d bytes", path, maxSize)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("wxkit: POST %s: %w", path, err)
	}
	return c.NewBodyRequest(ctx, http.MethodPost, path, w.FormDataContentType(), buf.Bytes())
}

// Do sends req (with its context) and decodes the JSON reply into v (which
// may be nil). With the default Check it returns a *wxkit.APIError for a
// non-zero errcode whatever the HTTP status; with a Check set, v is decoded
// from a reply that Check accepted, unless the reply is empty. See the
// package doc for the retries, and opts for this call's policy. Errors never
// carry the credentials the Authenticator named.
func (c *Client) Do(req *http.Request, v any, opts ...CallOption) error {
	_, err := c.send(req, opts, func(r *http.Request, resp *Response, method, path string) error {
		if c.Check == nil {
			return decode(resp, method, path, v)
		}
		if err := c.Check(r, resp); err != nil {
			return err
		}
		if v == nil || len(bytes.TrimSpace(resp.Body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(resp.Body, v); err != nil {
			return fmt.Errorf("wxkit: %s %s: decode reply: %w", method, path, err)
		}
		return nil
	})
	return err
}

// Response is a raw reply.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// DoRaw sends req and returns the raw reply (for downloads such as
// media/get). With the default Check, a reply that is a JSON object is still
// checked for errcode, so a failed download is a *wxkit.APIError, and a
// non-2xx status is an error; with a Check set, Check alone decides.
// Retries and opts are as in Do.
func (c *Client) DoRaw(req *http.Request, opts ...CallOption) (*Response, error) {
	return c.send(req, opts, func(r *http.Request, resp *Response, method, path string) error {
		if c.Check != nil {
			return c.Check(r, resp)
		}
		if t := bytes.TrimSpace(resp.Body); len(t) > 0 && t[0] == '{' {
			var e *wxkit.APIError
			if err := wxkit.DecodeResponse(resp.Body, method, path, nil); errors.As(err, &e) {
				return e
			}
		}
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("wxkit: %s %s: HTTP %d", method, path, resp.StatusCode)
		}
		return nil
	})
}

// decode checks errcode and decodes a JSON reply.
func decode(resp *Response, method, path string, v any) error {
	if resp.StatusCode/100 != 2 {
		var e *wxkit.APIError
		if err := wxkit.DecodeResponse(resp.Body, method, path, nil); errors.As(err, &e) {
			return e
		}
		return fmt.Errorf("wxkit: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return wxkit.DecodeResponse(resp.Body, method, path, v)
}

func (c *Client) maxAttempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return DefaultMaxAttempts
}

// backoff returns the delay before attempt n+1 (n >= 1): exponential with
// jitter in [d/2, d].
func (c *Client) backoff(n int) time.Duration {
	base, maxD := c.BaseDelay, c.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if maxD <= 0 {
		maxD = DefaultMaxDelay
	}
	d := base
	for i := 1; i < n && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// auth returns the Authenticator of the client's calls, nil for none.
func (c *Client) auth() Authenticator {
	if c.Auth != nil {
		return c.Auth
	}
	if c.Tokens != nil {
		return TokenQuery{Tokens: c.Tokens, Invalidator: c.Invalidator}
	}
	return nil
}

// send runs the attempt loop; check turns a reply into nil or an error.
func (c *Client) send(req *http.Request, opts []CallOption, check func(*http.Request, *Response, string, string) error) (*Response, error) {
	var co callOptions
	for _, o := range opts {
		if o != nil {
			o(&co)
		}
	}
	ctx := req.Context()
	method := req.Method
	path := strings.TrimPrefix(req.URL.Path, "/")
	if c.BaseURL != nil {
		path = strings.TrimPrefix(req.URL.Path, c.BaseURL.Path)
	}
	body, err := bufferBody(req)
	if err != nil {
		return nil, fmt.Errorf("wxkit: %s %s: %w", method, path, err)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	maxBody := c.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	var auth Authenticator
	if !co.noAuth {
		auth = c.auth()
	}
	policy := c.Retry
	if policy == nil {
		policy = ErrcodePolicy
	}
	idempotent := co.idempotent || c.RetryUnsafe

	reauthorized := false
	for attempt := 1; ; attempt++ {
		r := req.Clone(ctx)
		if req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("wxkit: %s %s: replay body: %w", method, path, err)
			}
			r.Body = b
		}
		var grant Grant
		if auth != nil {
			grant, err = auth.Authorize(r, body)
			if err != nil {
				return nil, Scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), grant.Secrets...)
			}
		}
		var resp *Response
		httpResp, err := hc.Do(r)
		if err != nil {
			err = fmt.Errorf("wxkit: %s %s: %w", method, path, err)
		} else {
			var b []byte
			b, err = wxkit.ReadLimited(httpResp.Body, maxBody)
			httpResp.Body.Close()
			if err != nil {
				err = fmt.Errorf("wxkit: %s %s: read reply: %w", method, path, err)
			} else {
				resp = &Response{StatusCode: httpResp.StatusCode, Header: httpResp.Header, Body: b}
				err = check(r, resp, method, path)
				if err == nil {
					return resp, nil
				}
				c.reportAPIError(err)
			}
		}
		decision := policy(&Failure{Err: err, Response: resp, Idempotent: idempotent})
		err = Scrub(err, grant.Secrets...)
		switch {
		case decision == Reauthorize && grant.Revoke != nil && !reauthorized:
			reauthorized = true
			c.logger().DebugContext(ctx, "wxkit: credentials rejected; revoking and retrying", "method", method, "path", path, "err", err)
			if rerr := grant.Revoke(ctx); rerr != nil {
				return nil, errors.Join(err, Scrub(rerr, grant.Secrets...))
			}
			attempt-- // the retry with new credentials does not count against busy retries
		case decision == Backoff && attempt < c.maxAttempts() && ctx.Err() == nil:
			d := c.backoff(attempt)
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
				return nil, err
			}
			c.logger().DebugContext(ctx, "wxkit: platform busy; retrying", "method", method, "path", path, "err", err, "attempt", attempt, "delay", d)
			if serr := c.sleep(ctx, d); serr != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	}
}

// bufferBody makes req's body replayable and returns its bytes (nil for
// no body).
func bufferBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("replay body: %w", err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	return b, nil
}
