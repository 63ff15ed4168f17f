package payv3

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// APIError is an error reply of the WeChat Pay v3 API: a non-2xx HTTP status
// with the JSON body {"code","message","detail"}. Code is the platform's
// error name (ORDER_NOT_EXIST, SIGN_ERROR, ...); compare with errors.Is and
// the sentinels below, which match on Code alone. A reply that is not that
// JSON (a proxy's 502 page) gives an APIError with an empty Code.
//
// Signed is true when the reply carried a valid Wechatpay-Signature; an
// error reply that carries an invalid one is not an APIError but a
// *VerifyError (and, for a call that changes state, ErrOutcomeUnknown).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
type APIError struct {
	StatusCode int             `json:"-"`
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	// RequestID is the Request-ID header of the reply, for support tickets.
	RequestID string `json:"-"`
	Method    string `json:"-"`
	Path      string `json:"-"`
	Signed    bool   `json:"-"`
}

// Error formats the error as "payv3: METHOD PATH: HTTP 404 CODE: message
// (request id ID)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("payv3: ")
	if e.Method != "" || e.Path != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Code != "" {
		if e.StatusCode != 0 {
			b.WriteString(" ")
		}
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Is reports whether target is an *APIError with the same Code, so that
// errors.Is(err, payv3.ErrOrderNotExist) works whatever the message.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code != "" && t.Code == e.Code
}

// Sentinel APIErrors of the calls of this package, matched by Code.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
var (
	ErrOrderNotExist      = &APIError{Code: "ORDER_NOT_EXIST", Message: "order does not exist"}
	ErrOrderPaid          = &APIError{Code: "ORDERPAID", Message: "order already paid"}
	ErrOrderClosed        = &APIError{Code: "ORDER_CLOSED", Message: "order already closed"}
	ErrInvalidRequest     = &APIError{Code: "INVALID_REQUEST", Message: "request not allowed in the current state (same out_trade_no with other parameters)"}
	ErrParamError         = &APIError{Code: "PARAM_ERROR", Message: "parameter error"}
	ErrSignError          = &APIError{Code: "SIGN_ERROR", Message: "request signature rejected"}
	ErrSystemError        = &APIError{Code: "SYSTEM_ERROR", Message: "system error"}
	ErrFrequencyLimited   = &APIError{Code: "FREQUENCY_LIMITED", Message: "too many requests"}
	ErrNotEnough          = &APIError{Code: "NOT_ENOUGH", Message: "insufficient balance"}
	ErrResourceNotExists  = &APIError{Code: "RESOURCE_NOT_EXISTS", Message: "resource does not exist"}
	ErrNoAuth             = &APIError{Code: "NO_AUTH", Message: "not authorized"}
	ErrMchNotExists       = &APIError{Code: "MCH_NOT_EXISTS", Message: "merchant does not exist"}
	ErrAppIDMchIDNotMatch = &APIError{Code: "APPID_MCHID_NOT_MATCH", Message: "appid and mchid not bound"}
	// ErrNoStatementExist: 400 NO_STATEMENT_EXIST "请求的账单文件不存在",
	// the merchant had no payment or refund that day (TradeBill).
	ErrNoStatementExist = &APIError{Code: "NO_STATEMENT_EXIST", Message: "no bill for that day"}
	// ErrStatementCreating: 400 STATEMENT_CREATING "账单生成中", the day's
	// bill is not made yet: ask after 10:00 China time the next day.
	ErrStatementCreating = &APIError{Code: "STATEMENT_CREATING", Message: "the bill is being made"}
)

// Errors of verification and of calls whose outcome is not known.
var (
	// ErrOutcomeUnknown marks the failure of a call that changes state
	// (prepay, close, refund: every POST) when the platform may have run
	// it: the reply failed verification, was a 5xx, could not be read, or
	// never came. The call is NOT known to have failed: query the order or
	// refund (QueryByOutTradeNo, QueryRefund) before any retry, and retry
	// only with the same out_trade_no / out_refund_no. Such errors are
	// *OutcomeUnknownError.
	ErrOutcomeUnknown = errors.New("payv3: outcome unknown: query before any retry")
	// ErrSignature is matched by every *VerifyError: a reply or a notify
	// whose Wechatpay-Signature is missing, malformed, made with a key we
	// do not trust, or outside the timestamp tolerance.
	ErrSignature = errors.New("payv3: signature verification failed")
	// ErrUnknownSerial: the Wechatpay-Serial names no key of the Verifier,
	// even after a refresh (when it has a refresher).
	ErrUnknownSerial = errors.New("payv3: unknown Wechatpay-Serial")
	// ErrTimestamp: Wechatpay-Timestamp is outside the tolerance.
	ErrTimestamp = errors.New("payv3: Wechatpay-Timestamp outside the tolerance")
	// ErrDecrypt: an AEAD_AES_256_GCM resource did not decrypt (wrong
	// APIv3 key, tampered ciphertext, bad nonce).
	ErrDecrypt = errors.New("payv3: resource decryption failed")
	// ErrNoPlatformCertificates: GET /v3/certificates answered 404
	// RESOURCE_NOT_EXISTS, so the merchant has no platform certificate, only
	// a WeChat Pay public key (every merchant created since late 2024):
	// configure the public key and its PUB_KEY_ID_ with NewPublicKeyVerifier
	// and WithPlatformKeys instead of downloading certificates.
	ErrNoPlatformCertificates = errors.New("payv3: the merchant has no platform certificate, only a WeChat Pay public key (GET /v3/certificates: 404 RESOURCE_NOT_EXISTS): configure the public key and its PUB_KEY_ID_ (NewPublicKeyVerifier, WithPlatformKeys); see https://pay.weixin.qq.com/doc/v3/merchant/4012153196")
	// ErrBodyTooLarge: a notify body is over the cap.
	ErrBodyTooLarge = errors.New("payv3: body too large")
)

// VerifyError is a failed verification of a reply's or a notify's
// signature. errors.Is(err, ErrSignature) holds for every VerifyError, and
// Err tells why (ErrUnknownSerial, ErrTimestamp, an RSA error, ...).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
type VerifyError struct {
	Serial string // the Wechatpay-Serial, possibly empty
	Reason string // what failed, for people
	Err    error  // the cause, possibly nil
}

// Error formats the error as "payv3: signature verification failed
// (serial S): reason: cause".
func (e *VerifyError) Error() string {
	var b strings.Builder
	b.WriteString("payv3: signature verification failed")
	if e.Serial != "" {
		fmt.Fprintf(&b, " (serial %s)", e.Serial)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Is matches ErrSignature.
func (e *VerifyError) Is(target error) bool { return target == ErrSignature }

// Unwrap returns the cause.
func (e *VerifyError) Unwrap() error { return e.Err }

// OutcomeUnknownError is the error of a call that changes state when the
// platform may have run it (see ErrOutcomeUnknown, which it matches). Err
// is what happened: a *VerifyError, an *APIError with a 5xx status, a
// transport error or the context's error.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/basic-rules.html
type OutcomeUnknownError struct {
	Method, Path string
	Err          error
}

// Error formats the error as "payv3: METHOD PATH: outcome UNKNOWN (query
// before any retry): cause".
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("payv3: %s %s: outcome UNKNOWN (the platform may have run the call; query before any retry, and retry only with the same out_trade_no/out_refund_no): %v", e.Method, e.Path, e.Err)
}

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the cause.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }
