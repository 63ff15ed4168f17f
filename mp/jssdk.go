package mp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/wxcrypto"
)

// JSSDKConfig is what a page passes to wx.config: the JSON names are exactly
// the ones wx.config reads (appId, timestamp, nonceStr, signature,
// jsApiList), so the value can be served as is and spread into the call:
//
//	wx.config({debug: false, ...cfg})
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#4
type JSSDKConfig struct {
	AppID string `json:"appId"`
	// Timestamp is the signing time in Unix seconds (a JSON number).
	Timestamp int64 `json:"timestamp"`
	// NonceStr is the random string that was signed.
	NonceStr string `json:"nonceStr"`
	// Signature is the hex SHA-1 of
	// "jsapi_ticket=T&noncestr=N&timestamp=TS&url=U".
	Signature string `json:"signature"`
	// JSAPIList lists the JS interfaces the page will call
	// ("updateAppMessageShareData", "chooseImage", ...); omitted when empty.
	JSAPIList []string `json:"jsApiList,omitempty"`
}

// JSSDK signs wx.config for the pages of one Official Account. The zero
// value is not usable: set AppID and Ticket. A JSSDK is safe for concurrent
// use once it is no longer modified.
//
// Ticket must be a cached source (token.NewCachedSource over
// token.NewJSAPITicketProvider, keyed token.JSAPITicketKey): getticket is
// scarce and WeChat asks that the ticket be cached globally for its 7200 s.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#62
type JSSDK struct {
	// AppID is the Official Account's AppID, returned as appId. Required.
	AppID string
	// Ticket supplies the jsapi_ticket. Required.
	Ticket token.Source
	// Now returns the signing time; time.Now when nil.
	Now func() time.Time
	// NonceStr returns the nonce to sign (1 to 32 characters); when nil,
	// 16 characters of [A-Za-z0-9] from crypto/rand.
	NonceStr func() (string, error)
}

// JSSDK returns a JS-SDK signer for the client's app, using the client's
// jsapi_ticket source (see WithTicketSource). Each call returns a new
// *JSSDK; set its Now or NonceStr fields to control the signing in tests.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#62
func (c *Client) JSSDK() *JSSDK { return &JSSDK{AppID: c.appID, Ticket: c.jsapiTicket} }

// ErrInvalidPageURL is returned (wrapped) by JSSDK.Sign when the page URL
// is not an absolute http(s) URL.
var ErrInvalidPageURL = errors.New("wxkit: jssdk: invalid page URL")

// Sign returns the wx.config parameters for the page at pageURL, the full
// URL of the page that will call wx.config (location.href): scheme, host,
// path and query exactly as the browser has them. Anything from "#" on is
// removed before signing, as WeChat does; nothing else is normalised, since
// the signature only matches the exact bytes the page sends. jsAPIList, when
// given, is copied into the result's jsApiList.
//
// Errors: ErrInvalidPageURL (wrapped) for a URL that is not absolute http(s),
// or the Ticket source's error (wrapped). The ticket is never in an error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html (附录1)
func (j *JSSDK) Sign(ctx context.Context, pageURL string, jsAPIList ...string) (*JSSDKConfig, error) {
	if j.AppID == "" || j.Ticket == nil {
		return nil, errors.New("wxkit: jssdk: AppID and Ticket are required")
	}
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	if err := checkPageURL(pageURL); err != nil {
		return nil, err
	}
	nonce, err := j.nonce()
	if err != nil {
		return nil, fmt.Errorf("wxkit: jssdk: nonceStr: %w", err)
	}
	ticket, err := j.Ticket.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("wxkit: jssdk: jsapi_ticket: %w", err)
	}
	if ticket == nil || ticket.Value == "" {
		return nil, errors.New("wxkit: jssdk: jsapi_ticket: source returned no ticket")
	}
	ts := time.Now()
	if j.Now != nil {
		ts = j.Now()
	}
	cfg := &JSSDKConfig{
		AppID:     j.AppID,
		Timestamp: ts.Unix(),
		NonceStr:  nonce,
		Signature: wxcrypto.JSSDKSignature(ticket.Value, nonce, ts.Unix(), pageURL),
	}
	if len(jsAPIList) > 0 {
		cfg.JSAPIList = append([]string(nil), jsAPIList...)
	}
	return cfg, nil
}

// checkPageURL accepts an absolute http(s) URL with a host and without
// control characters or spaces (which a browser's location.href never has).
func checkPageURL(pageURL string) error {
	u, err := url.Parse(pageURL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPageURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrInvalidPageURL, pageURL)
	}
	if strings.ContainsAny(pageURL, " \t\r\n") {
		return fmt.Errorf("%w: %q contains white space", ErrInvalidPageURL, pageURL)
	}
	return nil
}

// nonceAlphabet is the character set of generated nonces.
const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// nonce returns the nonce to sign.
func (j *JSSDK) nonce() (string, error) {
	if j.NonceStr != nil {
		n, err := j.NonceStr()
		if err != nil {
			return "", err
		}
		if n == "" || len(n) > 32 {
			return "", errors.New("nonce must be 1 to 32 characters, got " + strconv.Itoa(len(n)))
		}
		return n, nil
	}
	return randomNonce(16)
}

// randomNonce returns n characters of nonceAlphabet drawn uniformly with
// crypto/rand (rejection sampling, no modulo bias).
func randomNonce(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			// 62*4 = 248: values below it map evenly onto the alphabet.
			if b < 248 && len(out) < n {
				out = append(out, nonceAlphabet[int(b)%len(nonceAlphabet)])
			}
		}
	}
	return string(out), nil
}
