package pay

import (
	"errors"
	"fmt"
)

// ErrOutcomeUnknown is wrapped by every error of a call whose request may
// have reached the platform without its answer being known and trusted: a
// transport error after the connection was made, a non-2xx status, a reply
// that is not v2 XML, or (above all) a reply whose sign does not verify. It
// never means that the call failed: query (OrderQuery, RefundQuery) before
// repeating a money-moving call, and repeat it only with the same
// out_trade_no / out_refund_no, which the platform deduplicates.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
var ErrOutcomeUnknown = errors.New("pay: outcome unknown (query before retrying)")

// ErrNoCertificate: Refund was called on a client built without
// WithCertificate or WithCertificateFiles (secapi/pay/refund requires the
// merchant's API client certificate). Nothing was sent.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
var ErrNoCertificate = errors.New("pay: refund needs the merchant API certificate (WithCertificate)")

// ReturnError is a reply or notify with return_code FAIL: the platform
// refused the request before handling it (return_msg such as "签名失败" or
// "参数格式校验错误"), so nothing was done. Such replies carry no sign.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
type ReturnError struct {
	Path      string // the API path ("pay/unifiedorder"), "" for a notify
	ReturnMsg string // return_msg
	// ErrorCode is error_code, which only pay/downloadbill sends (20002
	// for "No Bill Exist").
	ErrorCode string
}

// Error returns "pay: <path>: return_code FAIL: <return_msg>".
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (e *ReturnError) Error() string {
	if e.Path == "" {
		return "pay: return_code FAIL: " + e.ReturnMsg
	}
	if e.ErrorCode != "" {
		return fmt.Sprintf("pay: %s: return_code FAIL: %s (error_code %s)", e.Path, e.ReturnMsg, e.ErrorCode)
	}
	return fmt.Sprintf("pay: %s: return_code FAIL: %s", e.Path, e.ReturnMsg)
}

// Is reports whether target is a *ReturnError with the same non-empty
// ErrorCode, so that errors.Is(err, pay.ErrNoBill) works.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
func (e *ReturnError) Is(target error) bool {
	t, ok := target.(*ReturnError)
	return ok && t.ErrorCode != "" && t.ErrorCode == e.ErrorCode
}

// ErrNoBill: pay/downloadbill answered return_code FAIL, return_msg "No
// Bill Exist", error_code 20002: the merchant had no payment or refund that
// day, or the day's bill is not made yet (the platform makes it from 09:00
// China time the next day and advises downloading after 10:00).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
var ErrNoBill = &ReturnError{Path: "pay/downloadbill", ReturnMsg: "No Bill Exist", ErrorCode: "20002"}

// Error is a reply (or pay notify) with result_code FAIL: a business error
// named by err_code, from a reply whose sign was verified. Match it with
// errors.Is against the sentinels below (which compare ErrCode only), or
// read it with errors.AsType[*pay.Error].
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1 (each API lists its err_code values)
type Error struct {
	Path       string // the API path ("secapi/pay/refund"), "" for a notify
	ErrCode    string // err_code, such as "ORDERPAID"
	ErrCodeDes string // err_code_des (or result_msg when that is all there is)
}

// Error returns "pay: <path>: <err_code>: <err_code_des>".
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (e *Error) Error() string {
	path := e.Path
	if path == "" {
		path = "notify"
	}
	if e.ErrCodeDes == "" {
		return fmt.Sprintf("pay: %s: %s", path, e.ErrCode)
	}
	return fmt.Sprintf("pay: %s: %s: %s", path, e.ErrCode, e.ErrCodeDes)
}

// Is reports whether target is an *Error with the same ErrCode, so that
// errors.Is(err, pay.ErrOrderPaid) works.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.ErrCode != "" && t.ErrCode == e.ErrCode
}

// Retryable reports whether the docs say to repeat the call with the same
// parameters (same out_trade_no / out_refund_no), after a pause:
// SYSTEMERROR, BIZERR_NEED_RETRY, FREQUENCY_LIMITED and
// INVALID_REQ_TOO_MUCH (the last two after about a minute).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
func (e *Error) Retryable() bool {
	switch e.ErrCode {
	case "SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "INVALID_REQ_TOO_MUCH":
		return true
	}
	return false
}

// The err_code values of the v2 APIs this package calls, for errors.Is.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1 (unifiedorder),
// chapter=9_2 (orderquery), chapter=9_3 (closeorder), chapter=9_4 (refund), chapter=9_5 (refundquery)
var (
	// ErrOrderPaid: ORDERPAID, the order is already paid (unifiedorder,
	// closeorder): treat it as paid.
	ErrOrderPaid = &Error{ErrCode: "ORDERPAID"}
	// ErrOrderClosed: ORDERCLOSED, the order is closed (unifiedorder,
	// closeorder): use a new out_trade_no.
	ErrOrderClosed = &Error{ErrCode: "ORDERCLOSED"}
	// ErrOrderNotExist: ORDERNOTEXIST, no such order (orderquery, refund).
	ErrOrderNotExist = &Error{ErrCode: "ORDERNOTEXIST"}
	// ErrRefundNotExist: REFUNDNOTEXIST, no such refund (refundquery).
	ErrRefundNotExist = &Error{ErrCode: "REFUNDNOTEXIST"}
	// ErrSystemError: SYSTEMERROR; repeat the call with the same parameters.
	ErrSystemError = &Error{ErrCode: "SYSTEMERROR"}
	// ErrBizNeedRetry: BIZERR_NEED_RETRY (refund, under concurrency);
	// repeat with the same out_refund_no.
	ErrBizNeedRetry = &Error{ErrCode: "BIZERR_NEED_RETRY"}
	// ErrInvalidRequest: INVALID_REQUEST, malformed parameters, or an
	// out_trade_no sent again with other parameters (unifiedorder).
	ErrInvalidRequest = &Error{ErrCode: "INVALID_REQUEST"}
	// ErrParamError: PARAM_ERROR (refund, refundquery).
	ErrParamError = &Error{ErrCode: "PARAM_ERROR"}
	// ErrOutTradeNoUsed: OUT_TRADE_NO_USED, out_trade_no taken by another
	// order (unifiedorder).
	ErrOutTradeNoUsed = &Error{ErrCode: "OUT_TRADE_NO_USED"}
	// ErrNotEnough: NOTENOUGH, the user's balance (unifiedorder) or the
	// merchant's refundable balance (refund) is too low.
	ErrNotEnough = &Error{ErrCode: "NOTENOUGH"}
	// ErrFrequencyLimited: FREQUENCY_LIMITED (refund); retry in a minute.
	ErrFrequencyLimited = &Error{ErrCode: "FREQUENCY_LIMITED"}
	// ErrInvalidReqTooMuch: INVALID_REQ_TOO_MUCH (refund); too many bad
	// requests, retry in a minute.
	ErrInvalidReqTooMuch = &Error{ErrCode: "INVALID_REQ_TOO_MUCH"}
	// ErrTradeOverdue: TRADE_OVERDUE, past the refund period (refund).
	ErrTradeOverdue = &Error{ErrCode: "TRADE_OVERDUE"}
	// ErrUserAccountAbnormal: USER_ACCOUNT_ABNORMAL, the payer's account
	// is closed (refund): refund by other means.
	ErrUserAccountAbnormal = &Error{ErrCode: "USER_ACCOUNT_ABNORMAL"}
	// ErrInvalidTransactionID: INVALID_TRANSACTIONID (refund, refundquery).
	ErrInvalidTransactionID = &Error{ErrCode: "INVALID_TRANSACTIONID"}
	// ErrNoAuth: NOAUTH, the merchant lacks the permission.
	ErrNoAuth = &Error{ErrCode: "NOAUTH"}
	// ErrAppIDMchIDNotMatch: APPID_MCHID_NOT_MATCH (unifiedorder).
	ErrAppIDMchIDNotMatch = &Error{ErrCode: "APPID_MCHID_NOT_MATCH"}
	// ErrSignError: SIGNERROR, the platform rejected the request's sign.
	ErrSignError = &Error{ErrCode: "SIGNERROR"}
)
