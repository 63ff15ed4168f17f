package pay

import (
	"errors"
	"fmt"
	"strings"
)

// MaxNotifyBytes caps the body of a notify; ParseNotify and
// ParseRefundNotify refuse larger ones. Read request bodies through
// http.MaxBytesReader(w, r.Body, MaxNotifyBytes).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
const MaxNotifyBytes = 64 << 10

// ErrMismatch: a notify verified but names another appid or mch_id than
// the Client's (Client.ParseNotify, Client.ParseRefundNotify).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
var ErrMismatch = errors.New("pay: notify for another appid or mch_id")

// Notify is a verified pay notify (支付结果通知): the payment fields, the
// result and every field as received.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
type Notify struct {
	Payment
	ResultCode string   `json:"result_code"` // "SUCCESS" (ParseNotify returns an *Error with any other)
	ErrCode    string   `json:"err_code,omitempty"`
	ErrCodeDes string   `json:"err_code_des,omitempty"`
	SignType   SignType `json:"sign_type,omitempty"` // as sent; empty means MD5
	NonceStr   string   `json:"nonce_str,omitempty"`
	// Raw holds every field received, those this type does not model
	// included; every non-empty one was covered by the verified sign
	// (empty values are never signed).
	Raw map[string]string `json:"-"`
}

// ParseNotify parses and verifies a v2 pay notify body (at most
// MaxNotifyBytes) signed with apiKey and signType (empty: MD5; the sign
// type the order was created with).
//
// The sign is verified, in constant time, over every field present: the
// coupon_type_$n / coupon_id_$n / coupon_fee_$n fields and any field this
// package does not know included, so no field can be added, removed or
// changed. A missing or empty sign, a sign_type other than signType, or a
// sign that does not match is ErrInvalidSignature; a body that is not v2
// XML is ErrMalformed. Nothing is trusted before the sign verifies. Then
// return_code FAIL is a *ReturnError, and result_code FAIL returns the
// verified notify together with an *Error carrying err_code: the payment
// failed, answer NotifyReply(true, "OK") but do not mark the order paid.
//
// The caller must still check AppID, MchID, OutTradeNo and TotalFee against
// its order (Client.ParseNotify checks the first two), apply the notify once
// (WeChat repeats it) and answer with NotifyReply.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
func ParseNotify(body []byte, apiKey string, signType SignType) (*Notify, error) {
	if len(body) > MaxNotifyBytes {
		return nil, fmt.Errorf("%w: notify larger than %d bytes", ErrMalformed, MaxNotifyBytes)
	}
	signType = signType.orMD5()
	if !signType.valid() {
		return nil, fmt.Errorf("pay: ParseNotify: %w %q", ErrInvalidSignType, signType)
	}
	m, err := DecodeXML(body)
	if err != nil {
		return nil, fmt.Errorf("pay: notify: %w", err)
	}
	if st, ok := m["sign_type"]; ok && st != "" && SignType(st) != signType {
		return nil, fmt.Errorf("pay: notify: %w: sign_type %q, want %q", ErrInvalidSignature, st, signType)
	}
	if err := CheckSign(m, apiKey, signType); err != nil {
		return nil, fmt.Errorf("pay: notify: %w", err)
	}
	if m["return_code"] != "SUCCESS" {
		return nil, &ReturnError{ReturnMsg: m["return_msg"]}
	}
	f := &fieldReader{m: m}
	n := &Notify{
		Payment:    f.payment(),
		ResultCode: m["result_code"],
		ErrCode:    m["err_code"],
		ErrCodeDes: m["err_code_des"],
		SignType:   SignType(m["sign_type"]),
		NonceStr:   m["nonce_str"],
		Raw:        m,
	}
	if f.err != nil {
		return nil, fmt.Errorf("pay: notify: %w", f.err)
	}
	switch n.ResultCode {
	case "SUCCESS":
		if n.OutTradeNo == "" || n.TransactionID == "" {
			return nil, fmt.Errorf("pay: notify: %w: a SUCCESS notify without out_trade_no or transaction_id", ErrMalformed)
		}
		return n, nil
	case "FAIL":
		return n, &Error{ErrCode: n.ErrCode, ErrCodeDes: n.ErrCodeDes}
	default:
		return nil, fmt.Errorf("pay: notify: %w: result_code %q", ErrMalformed, n.ResultCode)
	}
}

// ParseNotify is ParseNotify with the client's API key and sign type, and
// checks that the notify is for the client's appid and mch_id
// (ErrMismatch otherwise).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
func (c *Client) ParseNotify(body []byte) (*Notify, error) {
	n, err := ParseNotify(body, c.apiKey, c.signType)
	if n == nil {
		return nil, err
	}
	if n.AppID != c.appID || n.MchID != c.mchID {
		return nil, fmt.Errorf("%w: appid %q, mch_id %q", ErrMismatch, n.AppID, n.MchID)
	}
	return n, err
}

// NotifyReply renders the answer to a v2 notify (pay or refund):
// <xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>
// for ok, return_code FAIL otherwise (WeChat then repeats the notify on its
// schedule). An empty msg becomes "OK" or "FAIL"; characters that XML
// cannot carry are replaced by U+FFFD. Serve it with Content-Type
// text/xml and status 200.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
func NotifyReply(ok bool, msg string) []byte {
	code := "FAIL"
	if ok {
		code = "SUCCESS"
	}
	if msg == "" {
		msg = map[bool]string{true: "OK", false: "FAIL"}[ok]
	}
	msg = strings.Map(func(r rune) rune {
		if isXMLChar(r) && r != '\r' {
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(msg, "\uFFFD"))
	b := make([]byte, 0, 96+len(msg))
	b = append(b, "<xml><return_code>"...)
	b = appendCDATA(b, code)
	b = append(b, "</return_code><return_msg>"...)
	b = appendCDATA(b, msg)
	return append(b, "</return_msg></xml>"...)
}
