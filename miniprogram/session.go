package miniprogram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/wxhttp"
)

// SessionKey is a user's session_key: the base64 text of the 16-byte key of
// the data the Mini Program hands over (encryptedData, rawData signatures).
// It is a secret that must stay on the server: String, GoString, LogValue
// and MarshalJSON give a redacted form (wxkit.Redact), so that fmt, log/slog
// and a JSON response never show it. Use string(k) for the value (to store
// it, or to call DecryptData); decoding JSON reads the value.
type SessionKey string

// String returns the redacted form, never the value.
func (k SessionKey) String() string { return wxkit.Redact(string(k)) }

// GoString returns the redacted form, for %#v.
func (k SessionKey) GoString() string {
	return fmt.Sprintf("miniprogram.SessionKey(%q)", wxkit.Redact(string(k)))
}

// LogValue implements slog.LogValuer with the redacted form.
func (k SessionKey) LogValue() slog.Value { return slog.StringValue(wxkit.Redact(string(k))) }

// MarshalJSON encodes the redacted form, never the value: a Session written
// to a log or a response shows no key. Store string(k) instead.
func (k SessionKey) MarshalJSON() ([]byte, error) { return json.Marshal(wxkit.Redact(string(k))) }

// Session is the result of Code2Session: who the user is, and the key of
// the data the Mini Program will hand over in this login.
type Session struct {
	// OpenID identifies the user within this Mini Program.
	OpenID string `json:"openid"`
	// UnionID identifies the user across the apps of one Open Platform
	// account; empty when the Mini Program is not bound to one.
	UnionID string `json:"unionid,omitempty"`
	// SessionKey decrypts and verifies the user's data until the next
	// wx.login. Keep it server side.
	SessionKey SessionKey `json:"session_key"`
}

// Code2Session exchanges the code of wx.login for the user's session
// (GET sns/jscode2session with appid, secret, js_code and
// grant_type=authorization_code; no access_token). A code lives 5 minutes
// and is single use.
//
// Errors are *wxkit.APIError: wxkit.ErrInvalidCode (40029, an unknown or
// expired code), wxkit.ErrCodeBeenUsed (40163), wxkit.ErrAPIMinuteQuota
// (45011: more than 100 calls a minute for one user), ErrRiskyUser (40226),
// wxkit.ErrSystemBusy (-1). An empty code is ErrInvalidRequest, and a client
// built without the AppSecret cannot call it. The call is never retried
// (see the package doc). No error carries the secret or the session_key
// (transport errors lose the URL's query).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
func (c *Client) Code2Session(ctx context.Context, code string) (*Session, error) {
	const path = "sns/jscode2session"
	if code == "" {
		return nil, fmt.Errorf("%w: Code2Session: empty code", ErrInvalidRequest)
	}
	if c.sns == nil {
		return nil, errors.New("miniprogram: Code2Session: the client was built without the AppSecret")
	}
	q := url.Values{"js_code": {code}, "grant_type": {"authorization_code"}}
	req, err := c.sns.NewRequest(ctx, "GET", path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	s := new(Session)
	if err := c.sns.Do(req, s); err != nil {
		return nil, err
	}
	if s.OpenID == "" || s.SessionKey == "" {
		return nil, fmt.Errorf("wxkit: GET %s: reply without openid or session_key", path)
	}
	return s, nil
}

// CheckSession asks WeChat whether sessionKey is still the current
// session_key of the user openID (GET wxa/checksession with
// signature = SessionSignature(sessionKey) and sig_method=hmac_sha256). It
// returns nil when it is, and ErrSessionSignature (87009, a *wxkit.APIError)
// when it is not (the user logged in again, or the key expired). Retried on
// -1 (a read).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
func (c *Client) CheckSession(ctx context.Context, openID, sessionKey string) error {
	if openID == "" || sessionKey == "" {
		return fmt.Errorf("%w: CheckSession: empty openid or session_key", ErrInvalidRequest)
	}
	q := url.Values{"openid": {openID}, "signature": {SessionSignature(sessionKey)}, "sig_method": {"hmac_sha256"}}
	req, err := c.api.NewRequest(ctx, "GET", "wxa/checksession?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	return c.api.Do(req, nil, wxhttp.Idempotent())
}
