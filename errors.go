package wxkit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// APIError is the errcode/errmsg envelope that api.weixin.qq.com answers
// with, on HTTP 200 as well as on errors. An ErrCode of 0 is success and is
// never returned as an error.
//
// Method and Path name the call (Path never carries the query string, which
// holds the access_token). Use errors.Is with the sentinels below, which
// match on ErrCode alone, or errors.As / errors.AsType to read the fields.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
type APIError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Method  string `json:"-"`
	Path    string `json:"-"` // never the query: it carries access_token
}

// Error formats the error as "wxkit: METHOD PATH: errcode N: errmsg".
func (e *APIError) Error() string {
	if e.Method == "" && e.Path == "" {
		return fmt.Sprintf("wxkit: errcode %d: %s", e.ErrCode, e.ErrMsg)
	}
	return fmt.Sprintf("wxkit: %s %s: errcode %d: %s", e.Method, e.Path, e.ErrCode, e.ErrMsg)
}

// Is reports whether target is an *APIError with the same ErrCode, so that
// errors.Is(err, wxkit.ErrAccessTokenExpired) works whatever the errmsg.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.ErrCode == e.ErrCode
}

// Sentinels for the errcodes that callers branch on. Compare with errors.Is;
// never modify them.
var (
	ErrSystemBusy             = &APIError{ErrCode: -1, ErrMsg: "system error"}
	ErrInvalidCredential      = &APIError{ErrCode: 40001, ErrMsg: "invalid credential, access_token is invalid or not latest"}
	ErrInvalidGrantType       = &APIError{ErrCode: 40002, ErrMsg: "invalid grant_type"}
	ErrInvalidOpenID          = &APIError{ErrCode: 40003, ErrMsg: "invalid openid"}
	ErrInvalidMediaID         = &APIError{ErrCode: 40007, ErrMsg: "invalid media_id"}
	ErrInvalidAppID           = &APIError{ErrCode: 40013, ErrMsg: "invalid appid"}
	ErrInvalidAccessToken     = &APIError{ErrCode: 40014, ErrMsg: "invalid access_token"}
	ErrInvalidCode            = &APIError{ErrCode: 40029, ErrMsg: "invalid code"}
	ErrInvalidRefreshToken    = &APIError{ErrCode: 40030, ErrMsg: "invalid refresh_token"}
	ErrInvalidAppSecret       = &APIError{ErrCode: 40125, ErrMsg: "invalid appsecret"}
	ErrCodeBeenUsed           = &APIError{ErrCode: 40163, ErrMsg: "code been used"}
	ErrIPNotInWhitelist       = &APIError{ErrCode: 40164, ErrMsg: "invalid ip, not in whitelist"}
	ErrAccessTokenMissing     = &APIError{ErrCode: 41001, ErrMsg: "access_token missing"}
	ErrAccessTokenExpired     = &APIError{ErrCode: 42001, ErrMsg: "access_token expired"}
	ErrRefreshTokenExpired    = &APIError{ErrCode: 42002, ErrMsg: "refresh_token expired"}
	ErrRequireSubscribe       = &APIError{ErrCode: 43004, ErrMsg: "require subscribe"}
	ErrAPIDailyQuota          = &APIError{ErrCode: 45009, ErrMsg: "reach max api daily quota limit"}
	ErrAPIMinuteQuota         = &APIError{ErrCode: 45011, ErrMsg: "api minute-quota reach limit, must slower, retry next minute"}
	ErrResponseOutOfTime      = &APIError{ErrCode: 45015, ErrMsg: "response out of time limit or subscription is canceled"}
	ErrMediaNotFound          = &APIError{ErrCode: 46001, ErrMsg: "media data missing"}
	ErrMenuNotFound           = &APIError{ErrCode: 46003, ErrMsg: "menu no exist"}
	ErrInvalidJSON            = &APIError{ErrCode: 47001, ErrMsg: "data format error"}
	ErrAPIUnauthorized        = &APIError{ErrCode: 48001, ErrMsg: "api unauthorized"}
	ErrConditionalMenuMissing = &APIError{ErrCode: 65301, ErrMsg: "menuid not exist"}
)

// IsTokenRejected reports whether err is one of the errcodes that mean the
// access_token used for the call is no longer good (40001, 40014, 42001), so
// that the token must be invalidated and the call retried once.
func IsTokenRejected(err error) bool {
	e, ok := err.(*APIError)
	if !ok {
		return false
	}
	switch e.ErrCode {
	case 40001, 40014, 42001:
		return true
	}
	return false
}

// IsRetryable reports whether err is a transient platform error worth
// retrying with backoff: -1 (system busy) or 45011 (minute quota).
func IsRetryable(err error) bool {
	e, ok := err.(*APIError)
	return ok && (e.ErrCode == -1 || e.ErrCode == 45011)
}

// DecodeResponse decodes a JSON reply body from WeChat into v (which may be
// nil) and returns an *APIError when the body carries a non-zero errcode,
// whatever the HTTP status. method and path label the error; path must not
// include the query string. A body that is not JSON gives a plain error
// naming the call.
func DecodeResponse(body []byte, method, path string, v any) error {
	var env struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("wxkit: %s %s: decode reply: %w", method, path, err)
	}
	if env.ErrCode != nil && *env.ErrCode != 0 {
		return &APIError{ErrCode: *env.ErrCode, ErrMsg: env.ErrMsg, Method: method, Path: path}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("wxkit: %s %s: decode reply: %w", method, path, err)
	}
	return nil
}

// ReadLimited reads at most limit bytes from r and fails when r holds more,
// so that a runaway reply cannot exhaust memory.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("wxkit: reply larger than %d bytes", limit)
	}
	return b, nil
}

// trimRID drops the " rid: ..." or " hint: [...]" suffix that WeChat appends
// to errmsg, leaving the stable part.
func trimRID(msg string) string {
	for _, sep := range []string{" rid:", " hint:"} {
		if i := strings.Index(msg, sep); i >= 0 {
			msg = msg[:i]
		}
	}
	return msg
}

// Reason returns the stable part of an errmsg, without the request id
// (" rid: ...") or hint (" hint: [...]") that WeChat appends.
func (e *APIError) Reason() string { return trimRID(e.ErrMsg) }
