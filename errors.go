package wxkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// APIError is the errcode/errmsg envelope that api.weixin.qq.com answers
// with, on HTTP 200 as well as on errors. An ErrCode of 0 is success and is
// never returned as an error.
//
// ErrMsg is kept as WeChat sent it, request id included; RID holds that
// request id alone, for support tickets and log searches. Method and Path
// name the call (Path never carries the query string, which holds the
// access_token). Use errors.Is with the sentinels below, which match on
// ErrCode alone, or errors.As / errors.AsType to read the fields.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
type APIError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	// RID is the platform's request id, parsed out of the end of ErrMsg:
	// "6523d1a2-2b9e1f4a-4b2d3c1e" from "... rid: 6523d1a2-2b9e1f4a-4b2d3c1e",
	// or, from the older form "... hint: [gg0Dza0043vr22!]", the text in
	// brackets "gg0Dza0043vr22!". Empty when ErrMsg carries neither.
	// DecodeResponse sets it; Error falls back to parsing ErrMsg when it is
	// empty.
	RID    string `json:"-"`
	Method string `json:"-"`
	Path   string `json:"-"` // never the query: it carries access_token
}

// Error formats the error as "wxkit: METHOD PATH: errcode N: reason (rid
// RID)": reason is ErrMsg without its request id (see Reason), and the
// "(rid ...)" part is left out when there is no request id.
func (e *APIError) Error() string {
	reason, rid := splitRID(e.ErrMsg)
	if e.RID != "" {
		rid = e.RID
	}
	var b strings.Builder
	b.WriteString("wxkit: ")
	if e.Method != "" || e.Path != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "errcode %d: %s", e.ErrCode, reason)
	if rid != "" {
		fmt.Fprintf(&b, " (rid %s)", rid)
	}
	return b.String()
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

// IsTokenRejected reports whether err is, or wraps, an *APIError with one of
// the errcodes that mean the access_token used for the call is no longer
// good (40001, 40014, 42001), so that the token must be invalidated and the
// call retried once. The platform did not run such a call, so retrying it
// is safe whatever it does.
func IsTokenRejected(err error) bool {
	e, ok := errors.AsType[*APIError](err)
	if !ok {
		return false
	}
	switch e.ErrCode {
	case 40001, 40014, 42001:
		return true
	}
	return false
}

// IsRetryable reports whether err is, or wraps, an *APIError with a
// transient errcode worth retrying with backoff: -1 (system busy) or 45011
// (minute quota).
//
// Only 45011 says the platform did not run the call. A -1 can follow a call
// that did its work (a message that was delivered), so retry a call that
// sends or creates something on -1 only when a duplicate is acceptable;
// test errors.Is(err, ErrAPIMinuteQuota) for the case that is always safe.
func IsRetryable(err error) bool {
	e, ok := errors.AsType[*APIError](err)
	return ok && (e.ErrCode == -1 || e.ErrCode == 45011)
}

// DecodeResponse decodes a JSON reply body from WeChat into v (which may be
// nil) and returns an *APIError when the body carries a non-zero errcode,
// whatever the HTTP status. An error reply is still decoded into v, as far
// as it fits, because a few name something beside the errcode (45065 of a
// mass send carries the msg_id of the job that exists). method and path
// label the error; path must not include the query string. A body that is
// not JSON gives a plain error naming the call.
func DecodeResponse(body []byte, method, path string, v any) error {
	var env struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("wxkit: %s %s: decode reply: %w", method, path, err)
	}
	if env.ErrCode != nil && *env.ErrCode != 0 {
		_, rid := splitRID(env.ErrMsg)
		if v != nil {
			_ = json.Unmarshal(body, v) // best effort: the errcode is the answer
		}
		return &APIError{ErrCode: *env.ErrCode, ErrMsg: env.ErrMsg, RID: rid, Method: method, Path: path}
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

// splitRID splits an errmsg into its stable part and the request id that
// WeChat appends: " rid: <id>" (current form, <id> without spaces) or
// " hint: [<id>]" (older form), at the very end of msg (trailing white
// space aside). A hint before a rid ("... hint: [x] rid: y") is dropped
// from the reason too, and the rid wins. Text elsewhere is left alone: "invalid user-card status! Hint: the card
// was given ..." carries no request id.
func splitRID(msg string) (reason, rid string) {
	msg = strings.TrimRight(msg, " \t\r\n")
	reason = msg
	if i := strings.LastIndex(" "+msg, " rid: "); i >= 0 {
		if id := msg[i+len("rid: "):]; id != "" && !strings.ContainsAny(id, " \t\n[]") {
			reason, rid = strings.TrimRight(msg[:max(i-1, 0)], " "), id
		}
	}
	if r, hint, ok := splitHint(reason); ok {
		reason = r
		if rid == "" {
			rid = hint
		}
	}
	return reason, rid
}

// splitHint splits "reason hint: [id]" at its end.
func splitHint(msg string) (reason, hint string, ok bool) {
	if !strings.HasSuffix(msg, "]") {
		return msg, "", false
	}
	i := strings.LastIndex(" "+msg, " hint: [")
	if i < 0 {
		return msg, "", false
	}
	id := msg[i+len("hint: [") : len(msg)-1]
	if id == "" || strings.ContainsAny(id, " []") {
		return msg, "", false
	}
	return strings.TrimRight(msg[:max(i-1, 0)], " "), id, true
}

// Reason returns the stable part of an errmsg, without the request id
// (" rid: ...") or hint (" hint: [...]") that WeChat appends at its end.
func (e *APIError) Reason() string {
	reason, _ := splitRID(e.ErrMsg)
	return reason
}
