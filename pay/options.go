package pay

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// DefaultBaseURL is the WeChat Pay API host.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
const DefaultBaseURL = "https://api.mch.weixin.qq.com/"

// An Option configures NewClient; it returns an error for an invalid value.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_1
type Option func(*config) error

type config struct {
	baseURL  *url.URL
	hc       *http.Client
	signType SignType
	cert     *tls.Certificate
	now      func() time.Time
	nonce    func() string
}

// WithBaseURL sets the API host (default DefaultBaseURL): the emulator or
// an httptest server. It must be an absolute http(s) URL; a missing
// trailing slash is added, so that the API paths resolve below it.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
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

// WithHTTPClient sets the *http.Client of the API calls (default
// http.DefaultClient). With WithCertificate, the refund client is a copy of
// it whose transport (which must then be nil or an *http.Transport) also
// presents the certificate.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("pay: WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithSignType sets the sign_type of requests, and so of the replies and
// notifies they cause: SignTypeMD5 (the default) or SignTypeHMACSHA256.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func WithSignType(t SignType) Option {
	return func(c *config) error {
		if !t.valid() {
			return fmt.Errorf("pay: WithSignType: %w %q", ErrInvalidSignType, t)
		}
		c.signType = t
		return nil
	}
}

// WithCertificate sets the merchant's API client certificate
// (apiclient_cert.pem with apiclient_key.pem), which Refund presents for
// mutual TLS. Without it Refund fails with ErrNoCertificate.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3 (证书使用)
func WithCertificate(cert tls.Certificate) Option {
	return func(c *config) error {
		if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
			return errors.New("pay: WithCertificate: certificate without a chain or key")
		}
		c.cert = &cert
		return nil
	}
}

// WithCertificateFiles loads the client certificate from PEM files
// (apiclient_cert.pem, apiclient_key.pem) as WithCertificate takes it.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func WithCertificateFiles(certFile, keyFile string) Option {
	return func(c *config) error {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("pay: WithCertificateFiles: %w", err)
		}
		c.cert = &cert
		return nil
	}
}

// WithClock sets the clock of the timestamps the client makes (JSAPI
// timeStamp); default time.Now.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("pay: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithNonce sets the generator of nonce_str / nonceStr (at most 32
// characters); default 26 random base32 characters. For tests.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func WithNonce(nonce func() string) Option {
	return func(c *config) error {
		if nonce == nil {
			return errors.New("pay: WithNonce: nil generator")
		}
		c.nonce = nonce
		return nil
	}
}
