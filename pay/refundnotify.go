package pay

import (
	"fmt"
	"time"
)

// RefundNotify is a decrypted refund notify (退款结果通知). The outer
// document carries no sign: its authenticity rests on req_info, which only
// a holder of the API key can encrypt.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
type RefundNotify struct {
	AppID               string       `json:"appid"`
	MchID               string       `json:"mch_id"`
	NonceStr            string       `json:"nonce_str,omitempty"`
	TransactionID       string       `json:"transaction_id"`
	OutTradeNo          string       `json:"out_trade_no"`
	RefundID            string       `json:"refund_id"`
	OutRefundNo         string       `json:"out_refund_no"`
	TotalFee            int64        `json:"total_fee"`                      // fen
	SettlementTotalFee  int64        `json:"settlement_total_fee,omitempty"` // fen
	RefundFee           int64        `json:"refund_fee"`                     // fen
	SettlementRefundFee int64        `json:"settlement_refund_fee"`          // fen: what went back to the user
	RefundStatus        RefundStatus `json:"refund_status"`                  // SUCCESS, CHANGE or REFUNDCLOSE
	SuccessTime         time.Time    `json:"success_time,omitzero"`          // China time
	RecvAccount         string       `json:"refund_recv_accout,omitempty"`   // refund_recv_accout (sic)
	RefundAccount       string       `json:"refund_account,omitempty"`
	RefundRequestSource string       `json:"refund_request_source,omitempty"` // API or VENDOR_PLATFORM
	// Raw holds the outer fields, Info the fields of the decrypted req_info.
	Raw  map[string]string `json:"-"`
	Info map[string]string `json:"-"`
}

// ParseRefundNotify parses a v2 refund notify body (at most
// MaxNotifyBytes) and decrypts its req_info with apiKey (AES-256-ECB, key =
// lower-case hex md5(apiKey), PKCS#7). return_code FAIL is a *ReturnError;
// a missing req_info, or one that does not decrypt to a <root> document
// with out_refund_no, refund_id and refund_status, is ErrInvalidReqInfo
// (forged, or another merchant's key); a body that is not v2 XML is
// ErrMalformed. The caller checks the refund against its own records, applies
// it once and answers with NotifyReply.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func ParseRefundNotify(body []byte, apiKey string) (*RefundNotify, error) {
	if len(body) > MaxNotifyBytes {
		return nil, fmt.Errorf("%w: notify larger than %d bytes", ErrMalformed, MaxNotifyBytes)
	}
	m, err := DecodeXML(body)
	if err != nil {
		return nil, fmt.Errorf("pay: refund notify: %w", err)
	}
	if m["return_code"] != "SUCCESS" {
		return nil, &ReturnError{ReturnMsg: m["return_msg"]}
	}
	if m["req_info"] == "" {
		return nil, fmt.Errorf("pay: refund notify: %w: no req_info", ErrInvalidReqInfo)
	}
	pt, err := DecryptRefundReqInfo(apiKey, m["req_info"])
	if err != nil {
		return nil, fmt.Errorf("pay: refund notify: %w", err)
	}
	info, err := decodeFlat(pt, "root")
	if err != nil {
		return nil, fmt.Errorf("pay: refund notify: %w: plaintext: %w", ErrInvalidReqInfo, err)
	}
	f := &fieldReader{m: info}
	n := &RefundNotify{
		AppID:               m["appid"],
		MchID:               m["mch_id"],
		NonceStr:            m["nonce_str"],
		TransactionID:       f.str("transaction_id"),
		OutTradeNo:          f.str("out_trade_no"),
		RefundID:            f.str("refund_id"),
		OutRefundNo:         f.str("out_refund_no"),
		TotalFee:            f.int64("total_fee"),
		SettlementTotalFee:  f.int64("settlement_total_fee"),
		RefundFee:           f.int64("refund_fee"),
		SettlementRefundFee: f.int64("settlement_refund_fee"),
		RefundStatus:        RefundStatus(f.str("refund_status")),
		SuccessTime:         f.time("success_time", layoutSpaced),
		RecvAccount:         f.str("refund_recv_accout"),
		RefundAccount:       f.str("refund_account"),
		RefundRequestSource: f.str("refund_request_source"),
		Raw:                 m,
		Info:                info,
	}
	if f.err != nil {
		return nil, fmt.Errorf("pay: refund notify: %w", f.err)
	}
	if n.OutRefundNo == "" || n.RefundID == "" || n.RefundStatus == "" {
		return nil, fmt.Errorf("pay: refund notify: %w: out_refund_no, refund_id or refund_status missing", ErrInvalidReqInfo)
	}
	return n, nil
}

// ParseRefundNotify is ParseRefundNotify with the client's API key, and
// checks that the notify is for the client's appid and mch_id
// (ErrMismatch otherwise).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func (c *Client) ParseRefundNotify(body []byte) (*RefundNotify, error) {
	n, err := ParseRefundNotify(body, c.apiKey)
	if err != nil {
		return nil, err
	}
	if n.AppID != c.appID || n.MchID != c.mchID {
		return nil, fmt.Errorf("%w: appid %q, mch_id %q", ErrMismatch, n.AppID, n.MchID)
	}
	return n, nil
}
