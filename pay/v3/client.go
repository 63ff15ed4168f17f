package payv3

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// Client calls the WeChat Pay v3 API for one merchant (direct mode). Every
// request carries the WECHATPAY2-SHA256-RSA2048 Authorization header signed
// with the merchant's API private key; every reply, errors included when
// signed, is verified against the platform keys (Verifier) with its
// timestamp within the tolerance. It is safe for concurrent use.
//
// Retries: a GET (a query) is retried with backoff on a 5xx, a 429 or a
// transport error. A call that changes state (a POST: prepay, close,
// refund) is never retried by the client; when its outcome is not known —
// the reply failed verification, was a 5xx or never came — its error
// matches ErrOutcomeUnknown: query before any retry, and retry only with
// the same out_trade_no or out_refund_no.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
type Client struct {
	mchID     string
	serialNo  string
	key       *rsa.PrivateKey
	apiV3Key  string
	verifier  *Verifier
	now       func() time.Time
	tolerance time.Duration
	notifyURL string
	logger    *slog.Logger

	api *wxhttp.Client // replies verified with verifier
	raw *wxhttp.Client // replies checked for status only (certificate download verifies itself)
}

// NewClient returns a client for merchant mchID whose API certificate has
// serial number serialNo (upper-case hex, as on the merchant platform) and
// private key key (apiclient_key.pem, see ParsePrivateKeyPEM; RSA, at least
// 2048 bits). apiV3Key is the 32-character APIv3 key, which decrypts
// notifies and downloaded certificates.
//
// Without WithPlatformKeys the client downloads the platform certificates
// (a merchant created since late 2024 has none: give its WeChat Pay public
// key with NewPublicKeyVerifier and WithPlatformKeys).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
func NewClient(mchID, serialNo string, key *rsa.PrivateKey, apiV3Key string, opts ...Option) (*Client, error) {
	if !validHeaderValue(mchID) {
		return nil, errors.New("payv3: NewClient: mchID is required (printable ASCII)")
	}
	if !validHeaderValue(serialNo) {
		return nil, errors.New("payv3: NewClient: serialNo is required (printable ASCII)")
	}
	if key == nil {
		return nil, errors.New("payv3: NewClient: private key is required")
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("payv3: NewClient: private key of %d bits, want at least 2048", key.N.BitLen())
	}
	if len(apiV3Key) != 32 {
		return nil, fmt.Errorf("payv3: NewClient: APIv3 key of %d bytes, want 32", len(apiV3Key))
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
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.tolerance <= 0 {
		cfg.tolerance = DefaultTolerance
	}
	if cfg.verifier == nil {
		cfg.verifier = NewVerifier(VerifierClock(cfg.now))
		cfg.download = true
	}
	c := &Client{
		mchID:     mchID,
		serialNo:  serialNo,
		key:       key,
		apiV3Key:  apiV3Key,
		verifier:  cfg.verifier,
		now:       cfg.now,
		tolerance: cfg.tolerance,
		notifyURL: cfg.notifyURL,
		logger:    cfg.logger,
	}
	auth := &signer{mchID: mchID, serialNo: serialNo, key: key, now: func() int64 { return cfg.now().Unix() }}
	c.api = &wxhttp.Client{
		BaseURL:     cfg.baseURL,
		HTTPClient:  cfg.hc,
		Auth:        auth,
		Check:       c.check,
		Retry:       retryPolicy,
		MaxAttempts: cfg.attempts,
		Logger:      cfg.logger,
	}
	raw := *c.api
	raw.Check = c.checkStatus
	c.raw = &raw
	if cfg.download {
		c.verifier.SetRefresher(&CertificateDownloader{client: c}, cfg.interval)
	}
	return c, nil
}

// MchID returns the merchant id.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
func (c *Client) MchID() string { return c.mchID }

// Verifier returns the keys that replies are verified with; notifies
// (ParseNotify) use them too.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func (c *Client) Verifier() *Verifier { return c.verifier }

// BaseURL returns a copy of the API host the client calls.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
func (c *Client) BaseURL() *url.URL {
	u := *c.api.BaseURL
	return &u
}

// NewRequest builds an API request. path is relative to the base URL (no
// leading slash) and may carry a query ("v3/pay/transactions/id/42?mchid=
// 1900000109"); body, unless nil, is sent as JSON. Do signs it.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	return c.api.NewRequest(ctx, method, path, body)
}

// Do signs and sends req, verifies the reply and decodes its JSON body into
// v (which may be nil; an empty 204 reply leaves it alone). A non-2xx reply
// is an *APIError. A GET is retried on a 5xx, a 429 or a transport error;
// any other method is taken to change state: never retried, and its error
// matches ErrOutcomeUnknown (*OutcomeUnknownError) unless the platform
// refused the call with a 4xx.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func (c *Client) Do(req *http.Request, v any) error {
	read := req.Method == http.MethodGet || req.Method == http.MethodHead
	var opts []wxhttp.CallOption
	if read {
		opts = append(opts, wxhttp.Idempotent())
	}
	err := c.api.Do(req, v, opts...)
	if err == nil || read || refused(err) {
		return err
	}
	return &OutcomeUnknownError{Method: req.Method, Path: c.relPath(req.URL), Err: err}
}

// refused reports whether err says the platform refused the call (a 4xx
// that is not a rejected verification), so that it did not run it.
func refused(err error) bool {
	ae, ok := errors.AsType[*APIError](err)
	return ok && ae.StatusCode >= 400 && ae.StatusCode < 500
}

// do builds and sends one call.
func (c *Client) do(ctx context.Context, method, path string, body, v any) error {
	req, err := c.NewRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	return c.Do(req, v)
}

// relPath is u's path below the base URL, without the query.
func (c *Client) relPath(u *url.URL) string {
	return strings.TrimPrefix(u.Path, c.api.BaseURL.Path)
}

// check verifies a reply: a 2xx must be signed; a non-2xx is verified when
// it is signed, and becomes an *APIError.
func (c *Client) check(r *http.Request, resp *wxhttp.Response) error {
	ok := resp.StatusCode/100 == 2
	signed := resp.Header.Get(HeaderSignature) != ""
	if ok || signed {
		if _, err := verifySigned(r.Context(), c.verifier, resp.Header, resp.Body, c.now(), c.tolerance); err != nil {
			return fmt.Errorf("payv3: %s %s: HTTP %d reply: %w", r.Method, c.relPath(r.URL), resp.StatusCode, err)
		}
	}
	if ok {
		return nil
	}
	return c.apiError(r, resp, signed)
}

// checkStatus turns a non-2xx reply into an *APIError, unverified.
func (c *Client) checkStatus(r *http.Request, resp *wxhttp.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return c.apiError(r, resp, false)
}

func (c *Client) apiError(r *http.Request, resp *wxhttp.Response, signed bool) *APIError {
	e := &APIError{}
	if json.Unmarshal(resp.Body, e) != nil {
		e = &APIError{}
	}
	e.StatusCode = resp.StatusCode
	e.RequestID = resp.Header.Get("Request-ID")
	e.Method, e.Path = r.Method, c.relPath(r.URL)
	e.Signed = signed
	return e
}

// retryPolicy retries idempotent calls on a transport error, a 5xx or a
// 429, and nothing else.
func retryPolicy(f *wxhttp.Failure) wxhttp.Retry {
	if !f.Idempotent {
		return wxhttp.Stop
	}
	if f.Response == nil {
		return wxhttp.Backoff
	}
	if ae, ok := errors.AsType[*APIError](f.Err); ok && (ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests) {
		return wxhttp.Backoff
	}
	return wxhttp.Stop
}

// wxhttpIdempotent marks a call safe to repeat.
func wxhttpIdempotent() []wxhttp.CallOption { return []wxhttp.CallOption{wxhttp.Idempotent()} }
