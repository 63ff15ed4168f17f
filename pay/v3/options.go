package payv3

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// DefaultBaseURL is the WeChat Pay API host.
const DefaultBaseURL = "https://api.mch.weixin.qq.com/"

// An Option configures NewClient; it returns an error for an invalid value.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
type Option func(*config) error

type config struct {
	baseURL   *url.URL
	hc        *http.Client
	now       func() time.Time
	verifier  *Verifier
	download  bool
	interval  time.Duration
	tolerance time.Duration
	notifyURL string
	logger    *slog.Logger
	attempts  int
}

// WithBaseURL sets the API host (default DefaultBaseURL): the emulator or
// an httptest server. It must be an absolute http(s) URL; a missing
// trailing slash is added, so that request paths resolve below it.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
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

// WithHTTPClient sets the *http.Client of the calls (default
// http.DefaultClient; set a Timeout).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("payv3: WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithClock sets the clock of request timestamps, JSAPI parameters and the
// timestamp tolerance (default time.Now). A Verifier that NewClient creates
// uses it too.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("payv3: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithPlatformKeys sets the keys that replies are verified with: a
// Verifier in public-key mode (NewPublicKeyVerifier), holding platform
// certificates (NewCertificateVerifier), or both. Without it, NewClient
// creates an empty Verifier that downloads the platform certificates
// (WithCertificateDownload), as the older SDKs do by default.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012153196
func WithPlatformKeys(v *Verifier) Option {
	return func(c *config) error {
		if v == nil {
			return errors.New("payv3: WithPlatformKeys: nil Verifier")
		}
		c.verifier = v
		return nil
	}
}

// WithCertificateDownload makes the client's Verifier download the platform
// certificates (GET /v3/certificates, see CertificateDownloader) at the
// first verification, every interval after (0: DefaultRefreshInterval),
// and on a serial it does not know. It is the default without
// WithPlatformKeys; with it, it sets the given Verifier's refresher (a
// merchant switching from certificates to a public key, or one with
// certificates only).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func WithCertificateDownload(interval time.Duration) Option {
	return func(c *config) error {
		c.download, c.interval = true, interval
		return nil
	}
}

// WithTolerance sets how far a reply's Wechatpay-Timestamp may be from the
// clock (default DefaultTolerance); it also applies to Client.ParseNotify.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func WithTolerance(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("payv3: WithTolerance: want a positive duration")
		}
		c.tolerance = d
		return nil
	}
}

// WithNotifyURL sets the notify_url that prepay and refund requests carry
// when theirs is empty: an https URL without a query string, such as
// https://example.com/pay/v3/notify/1900000109.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
func WithNotifyURL(u string) Option {
	return func(c *config) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.RawQuery != "" {
			return errors.New("payv3: WithNotifyURL: want an absolute URL without a query string")
		}
		c.notifyURL = u
		return nil
	}
}

// WithLogger sets the logger of retries and key refreshes (default:
// discard). Keys and signatures are never logged.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("payv3: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithMaxAttempts caps the attempts of a GET (queries, certificate
// download) that fails with a 5xx, a 429 or a transport error (default
// wxhttp's 4, with exponential backoff). Calls that change state are never
// retried by the client.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("payv3: WithMaxAttempts: want at least 1")
		}
		c.attempts = n
		return nil
	}
}
