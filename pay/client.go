package pay

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// MaxReplyBytes caps the size of an API reply; a larger one is an error
// wrapping ErrOutcomeUnknown.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_1
const MaxReplyBytes = 1 << 20

// Client calls the WeChat Pay v2 API (XML over HTTPS, signed with the
// merchant API key) for one merchant (mch_id) and one app (appid), as a
// "普通商户" (direct merchant). It is safe for concurrent use.
//
// Every request carries nonce_str, sign_type and sign. Every reply is
// checked in this order: return_code FAIL is a *ReturnError (nothing was
// done); then the reply's sign is verified over every field present, and a
// reply that fails (or is not v2 XML, or comes with a non-2xx status) is an
// error wrapping ErrOutcomeUnknown; then result_code FAIL is an *Error
// carrying err_code.
//
// It sends through the module's shared HTTP core (internal/wxhttp: base
// URL, context, reply size cap), which it uses for raw bodies only: the
// XML, the signatures and the v2 error model are this package's.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_1
type Client struct {
	appID    string
	mchID    string
	apiKey   string
	signType SignType
	api      *wxhttp.Client
	certAPI  *wxhttp.Client // presents the client certificate; nil without one
	now      func() time.Time
	nonce    func() string
}

// NewClient returns a client for the merchant mchID paying into the app
// appID (Official Account or Mini Program appid), signing with the
// merchant's v2 API key apiKey (32 characters, set in the merchant
// platform). Refund also needs WithCertificate or WithCertificateFiles.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func NewClient(appID, mchID, apiKey string, opts ...Option) (*Client, error) {
	switch {
	case appID == "":
		return nil, errors.New("pay: NewClient: appID is required")
	case mchID == "":
		return nil, errors.New("pay: NewClient: mchID is required")
	case apiKey == "":
		return nil, errors.New("pay: NewClient: apiKey is required")
	}
	cfg := config{signType: SignTypeMD5, now: time.Now, nonce: rand.Text}
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
	c := &Client{
		appID:    appID,
		mchID:    mchID,
		apiKey:   apiKey,
		signType: cfg.signType,
		api:      &wxhttp.Client{BaseURL: cfg.baseURL, HTTPClient: cfg.hc, MaxBody: MaxReplyBytes},
		now:      cfg.now,
		nonce:    cfg.nonce,
	}
	if cfg.cert != nil {
		hc, err := certClient(cfg.hc, *cfg.cert)
		if err != nil {
			return nil, err
		}
		c.certAPI = &wxhttp.Client{BaseURL: cfg.baseURL, HTTPClient: hc, MaxBody: MaxReplyBytes}
	}
	return c, nil
}

// certClient returns a copy of hc whose transport presents cert.
func certClient(hc *http.Client, cert tls.Certificate) (*http.Client, error) {
	var t *http.Transport
	switch base := hc.Transport.(type) {
	case nil:
		dt, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return nil, errors.New("pay: WithCertificate: http.DefaultTransport is not an *http.Transport")
		}
		t = dt.Clone()
	case *http.Transport:
		t = base.Clone()
	default:
		return nil, fmt.Errorf("pay: WithCertificate: the HTTP client's transport is a %T; it must be nil or an *http.Transport", base)
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.Certificates = []tls.Certificate{cert}
	t.TLSClientConfig.GetClientCertificate = nil
	c := *hc
	c.Transport = t
	return &c, nil
}

// AppID returns the appid the client pays into.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (c *Client) AppID() string { return c.appID }

// MchID returns the merchant id.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (c *Client) MchID() string { return c.mchID }

// SignType returns the sign_type of the client's requests.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func (c *Client) SignType() SignType { return c.signType }

// params is a request being built: only non-empty values are set.
type params map[string]string

func (p params) set(k, v string) {
	if v != "" {
		p[k] = v
	}
}

func (p params) setFee(k string, fen int64) { p[k] = strconv.FormatInt(fen, 10) }

func (p params) setTime(k string, t time.Time) {
	if !t.IsZero() {
		p[k] = t.In(chinaTime).Format(layoutCompact)
	}
}

// reserved are the fields the client sets itself.
var reserved = map[string]bool{"appid": true, "mch_id": true, "nonce_str": true, "sign": true, "sign_type": true}

// merge adds extra fields, refusing those the client sets and those the
// request already has.
func (p params) merge(op string, extra map[string]string) error {
	for k, v := range extra {
		if reserved[k] {
			return fmt.Errorf("pay: %s: Extra must not set %s", op, k)
		}
		if _, ok := p[k]; ok {
			return fmt.Errorf("pay: %s: Extra sets %s, which the request already has", op, k)
		}
		p.set(k, v)
	}
	return nil
}

// call signs p, posts it to path (through the certificate client when
// withCert is set) and returns the verified reply's fields.
func (c *Client) call(ctx context.Context, path string, p params, withCert bool) (map[string]string, error) {
	api := c.api
	if withCert {
		if c.certAPI == nil {
			return nil, ErrNoCertificate
		}
		api = c.certAPI
	}
	req, err := c.newRequest(ctx, api, path, p)
	if err != nil {
		return nil, err
	}
	resp, err := api.DoRaw(req)
	if err != nil {
		return nil, sendError(path, err)
	}
	return c.decodeReply(path, resp.Body)
}

// newRequest adds the client's fields to p, signs it and builds the POST
// of its XML to path.
func (c *Client) newRequest(ctx context.Context, api *wxhttp.Client, path string, p params) (*http.Request, error) {
	p["appid"] = c.appID
	p["mch_id"] = c.mchID
	p["nonce_str"] = c.nonce()
	p["sign_type"] = string(c.signType)
	sign, err := Sign(p, c.apiKey, c.signType)
	if err != nil {
		return nil, err
	}
	p["sign"] = sign
	body, err := EncodeXML(p)
	if err != nil {
		return nil, fmt.Errorf("pay: %s: %w", path, err)
	}
	req, err := api.NewBodyRequest(ctx, http.MethodPost, path, "text/xml; charset=utf-8", body)
	if err != nil {
		return nil, fmt.Errorf("pay: %s: %w", path, err)
	}
	return req, nil
}

// sendError classifies a failed exchange: a failed dial, or a server
// certificate that did not verify, sent nothing; anything else (a client
// certificate refused after a TLS 1.3 handshake included) may have reached
// the platform.
func sendError(path string, err error) error {
	var op *net.OpError
	var cv *tls.CertificateVerificationError
	if (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &cv) {
		return fmt.Errorf("pay: %s: not sent: %w", path, err)
	}
	return fmt.Errorf("pay: %s: %w: %w", path, ErrOutcomeUnknown, err)
}

// decodeReply parses and checks a reply (see Client).
func (c *Client) decodeReply(path string, body []byte) (map[string]string, error) {
	unknown := func(format string, args ...any) error {
		return fmt.Errorf("pay: %s: %w: %w", path, ErrOutcomeUnknown, fmt.Errorf(format, args...))
	}
	m, err := DecodeXML(body)
	if err != nil {
		return nil, unknown("reply: %w", err)
	}
	switch m["return_code"] {
	case "SUCCESS":
	case "FAIL":
		return nil, &ReturnError{Path: path, ReturnMsg: m["return_msg"]}
	default:
		return nil, unknown("reply has return_code %q", m["return_code"])
	}
	if err := CheckSign(m, c.apiKey, c.signType); err != nil {
		return nil, unknown("reply sign does not verify: %w", err)
	}
	if v, ok := m["appid"]; ok && v != c.appID {
		return nil, unknown("reply for appid %q, want %q", v, c.appID)
	}
	if v, ok := m["mch_id"]; ok && v != c.mchID {
		return nil, unknown("reply for mch_id %q, want %q", v, c.mchID)
	}
	switch m["result_code"] {
	case "SUCCESS":
		return m, nil
	case "FAIL":
		des := m["err_code_des"]
		if des == "" {
			des = m["result_msg"]
		}
		return nil, &Error{Path: path, ErrCode: m["err_code"], ErrCodeDes: des}
	default:
		return nil, unknown("reply has result_code %q", m["result_code"])
	}
}

// replyError reports a verified reply that cannot be read (a field that
// should be a number is not, a required field is missing).
func replyError(path string, err error) error {
	return fmt.Errorf("pay: %s: %w: %w", path, ErrOutcomeUnknown, err)
}
