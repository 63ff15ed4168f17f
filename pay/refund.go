package pay

import (
	"context"
	"errors"
	"fmt"
)

// RefundRequest is the body of a refund (申请退款). Required: TransactionID
// or OutTradeNo (TransactionID wins when both are set), OutRefundNo,
// TotalFee and RefundFee (fen, 0 < RefundFee <= TotalFee). NotifyURL, when
// set, overrides the refund notify URL of the merchant platform and must
// carry no query string.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
type RefundRequest struct {
	TransactionID string // transaction_id
	OutTradeNo    string // out_trade_no
	OutRefundNo   string // out_refund_no: at most 64 of [0-9A-Za-z_-|*@]; one refund per value
	TotalFee      int64  // total_fee: the order's amount, fen
	RefundFee     int64  // refund_fee: this refund's amount, fen
	RefundFeeType string // refund_fee_type: default CNY
	RefundDesc    string // refund_desc: shown to the user
	RefundAccount string // refund_account: REFUND_SOURCE_UNSETTLED_FUNDS (default) or REFUND_SOURCE_RECHARGE_FUNDS
	NotifyURL     string // notify_url: receives the refund notify
	// Extra holds any other request field (sent and signed as is); it must
	// not name a field above or one the client sets.
	Extra map[string]string
}

// Refund is the result of a refund request: the platform has accepted it;
// the refund notify or RefundQuery tells when the money has moved.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
type Refund struct {
	TransactionID       string         `json:"transaction_id"`
	OutTradeNo          string         `json:"out_trade_no"`
	OutRefundNo         string         `json:"out_refund_no"`
	RefundID            string         `json:"refund_id"`
	RefundFee           int64          `json:"refund_fee"`
	SettlementRefundFee int64          `json:"settlement_refund_fee,omitempty"`
	TotalFee            int64          `json:"total_fee"`
	SettlementTotalFee  int64          `json:"settlement_total_fee,omitempty"`
	FeeType             string         `json:"fee_type,omitempty"`
	CashFee             int64          `json:"cash_fee"`
	CashFeeType         string         `json:"cash_fee_type,omitempty"`
	CashRefundFee       int64          `json:"cash_refund_fee"`
	CouponRefundFee     int64          `json:"coupon_refund_fee,omitempty"`
	CouponRefundCount   int            `json:"coupon_refund_count,omitempty"`
	Coupons             []RefundCoupon `json:"coupons,omitempty"` // coupon_refund_id_$n, coupon_type_$n, coupon_refund_fee_$n
	NonceStr            string         `json:"nonce_str,omitempty"`
	// Raw holds every field of the verified reply.
	Raw map[string]string `json:"-"`
}

// Refund requests a refund (secapi/pay/refund, mutual TLS with the client
// certificate; ErrNoCertificate without one, before anything is sent).
// Repeating it with the same OutRefundNo refunds once, so after
// ErrOutcomeUnknown, or ErrSystemError / ErrBizNeedRetry, repeat it with the
// same OutRefundNo and amounts (or query first). Insufficient merchant
// balance is ErrNotEnough.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
func (c *Client) Refund(ctx context.Context, r *RefundRequest) (*Refund, error) {
	const op = "Refund"
	switch {
	case r == nil:
		return nil, errors.New("pay: Refund: nil request")
	case r.TransactionID == "" && r.OutTradeNo == "":
		return nil, errors.New("pay: Refund: TransactionID or OutTradeNo is required")
	case r.OutRefundNo == "":
		return nil, errors.New("pay: Refund: OutRefundNo is required")
	case r.TotalFee <= 0 || r.RefundFee <= 0 || r.RefundFee > r.TotalFee:
		return nil, fmt.Errorf("pay: Refund: RefundFee %d, TotalFee %d: want 0 < RefundFee <= TotalFee (fen)", r.RefundFee, r.TotalFee)
	}
	if err := checkNotifyURL(op, r.NotifyURL, false); err != nil {
		return nil, err
	}
	if c.certAPI == nil {
		return nil, ErrNoCertificate
	}
	p := params{}
	p.set("transaction_id", r.TransactionID)
	p.set("out_trade_no", r.OutTradeNo)
	p.set("out_refund_no", r.OutRefundNo)
	p.setFee("total_fee", r.TotalFee)
	p.setFee("refund_fee", r.RefundFee)
	p.set("refund_fee_type", r.RefundFeeType)
	p.set("refund_desc", r.RefundDesc)
	p.set("refund_account", r.RefundAccount)
	p.set("notify_url", r.NotifyURL)
	if err := p.merge(op, r.Extra); err != nil {
		return nil, err
	}
	const path = "secapi/pay/refund"
	m, err := c.call(ctx, path, p, true)
	if err != nil {
		return nil, err
	}
	return decodeRefund(path, m)
}

func decodeRefund(path string, m map[string]string) (*Refund, error) {
	f := &fieldReader{m: m}
	// Older replies (the official sample among them) give the refund's
	// fields with a "_0" suffix, as refundquery does.
	k := func(name string) string {
		if m[name] == "" && m[name+"_0"] != "" {
			return name + "_0"
		}
		return name
	}
	r := &Refund{
		TransactionID:       f.str("transaction_id"),
		OutTradeNo:          f.str("out_trade_no"),
		OutRefundNo:         f.str(k("out_refund_no")),
		RefundID:            f.str(k("refund_id")),
		RefundFee:           f.int64(k("refund_fee")),
		SettlementRefundFee: f.int64(k("settlement_refund_fee")),
		TotalFee:            f.int64("total_fee"),
		SettlementTotalFee:  f.int64("settlement_total_fee"),
		FeeType:             f.str("fee_type"),
		CashFee:             f.int64("cash_fee"),
		CashFeeType:         f.str("cash_fee_type"),
		CashRefundFee:       f.int64("cash_refund_fee"),
		CouponRefundFee:     f.int64("coupon_refund_fee"),
		CouponRefundCount:   f.int("coupon_refund_count"),
		NonceStr:            f.str("nonce_str"),
		Raw:                 m,
	}
	r.Coupons = f.refundCoupons(r.CouponRefundCount, "")
	if f.err != nil {
		return nil, replyError(path, f.err)
	}
	if r.RefundID == "" {
		return nil, replyError(path, errors.New("reply has no refund_id"))
	}
	return r, nil
}
