package payv3

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// RefundStatus is the state of a refund (status in replies, refund_status
// in notifies).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-refund-no.html
type RefundStatus string

// The refund states.
const (
	RefundStatusSuccess    RefundStatus = "SUCCESS"    // refunded
	RefundStatusClosed     RefundStatus = "CLOSED"     // closed
	RefundStatusProcessing RefundStatus = "PROCESSING" // in progress
	RefundStatusAbnormal   RefundStatus = "ABNORMAL"   // failed: the user's card is gone, handle it on the merchant platform
)

// FundsFrom is the share of a refund taken from one account, in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/create.html
type FundsFrom struct {
	Account string `json:"account"` // AVAILABLE | UNAVAILABLE
	Amount  int64  `json:"amount"`
}

// RefundAmount is the amount part of a refund request, in fen: Refund of
// the order's Total.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/create.html
type RefundAmount struct {
	Refund   int64       `json:"refund"`
	Total    int64       `json:"total"`
	Currency string      `json:"currency"` // default CNY
	From     []FundsFrom `json:"from,omitempty"`
}

// RefundGoods is one line of a refund's goods detail; prices in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/create.html
type RefundGoods struct {
	MerchantGoodsID  string `json:"merchant_goods_id"`
	WechatpayGoodsID string `json:"wechatpay_goods_id,omitempty"`
	GoodsName        string `json:"goods_name,omitempty"`
	UnitPrice        int64  `json:"unit_price"`
	RefundAmount     int64  `json:"refund_amount"`
	RefundQuantity   int64  `json:"refund_quantity"`
}

// RefundRequest is the body of a refund: one of TransactionID and
// OutTradeNo names the order; OutRefundNo numbers the refund (the same
// number makes a repeat the same refund); Amount.Refund and Amount.Total
// are required. NotifyURL is filled from the client when empty.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/create.html
type RefundRequest struct {
	TransactionID string        `json:"transaction_id,omitempty"`
	OutTradeNo    string        `json:"out_trade_no,omitempty"`
	OutRefundNo   string        `json:"out_refund_no"`
	Reason        string        `json:"reason,omitempty"`
	NotifyURL     string        `json:"notify_url,omitempty"`
	FundsAccount  string        `json:"funds_account,omitempty"`
	Amount        RefundAmount  `json:"amount"`
	GoodsDetail   []RefundGoods `json:"goods_detail,omitempty"`
}

// RefundDetailAmount is a refund's amounts as the platform reports them, in
// fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-refund-no.html
type RefundDetailAmount struct {
	Total            int64       `json:"total"`
	Refund           int64       `json:"refund"`
	From             []FundsFrom `json:"from,omitempty"`
	PayerTotal       int64       `json:"payer_total"`
	PayerRefund      int64       `json:"payer_refund"`
	SettlementRefund int64       `json:"settlement_refund"`
	SettlementTotal  int64       `json:"settlement_total"`
	DiscountRefund   int64       `json:"discount_refund"`
	Currency         string      `json:"currency,omitempty"`
	RefundFee        int64       `json:"refund_fee,omitempty"`
}

// RefundPromotion is a promotion's share of a refund, in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-refund-no.html
type RefundPromotion struct {
	PromotionID  string        `json:"promotion_id"`
	Scope        string        `json:"scope,omitempty"`
	Type         string        `json:"type,omitempty"`
	Amount       int64         `json:"amount"`
	RefundAmount int64         `json:"refund_amount"`
	GoodsDetail  []RefundGoods `json:"goods_detail,omitempty"`
}

// Refund is a refund as the platform has it: the reply of Refund and
// QueryRefund.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-refund-no.html
type Refund struct {
	RefundID            string             `json:"refund_id"`
	OutRefundNo         string             `json:"out_refund_no"`
	TransactionID       string             `json:"transaction_id"`
	OutTradeNo          string             `json:"out_trade_no"`
	Channel             string             `json:"channel,omitempty"`
	UserReceivedAccount string             `json:"user_received_account,omitempty"`
	SuccessTime         time.Time          `json:"success_time,omitzero"`
	CreateTime          time.Time          `json:"create_time,omitzero"`
	Status              RefundStatus       `json:"status"`
	FundsAccount        string             `json:"funds_account,omitempty"`
	Amount              RefundDetailAmount `json:"amount"`
	PromotionDetail     []RefundPromotion  `json:"promotion_detail,omitempty"`
}

// Refund asks for a refund and returns it, usually PROCESSING (the result
// comes by notify, REFUND.SUCCESS, or by QueryRefund). It moves money: it is
// never retried by the client, and when its outcome is not known
// (ErrOutcomeUnknown) query it with QueryRefund(OutRefundNo) and retry only
// with the same OutRefundNo. A balance too low is ErrNotEnough.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/create.html
func (c *Client) Refund(ctx context.Context, r *RefundRequest) (*Refund, error) {
	if r == nil {
		return nil, errors.New("payv3: Refund: nil request")
	}
	b := *r
	if b.NotifyURL == "" {
		b.NotifyURL = c.notifyURL
	}
	if b.Amount.Currency == "" {
		b.Amount.Currency = CurrencyCNY
	}
	switch {
	case b.TransactionID == "" && b.OutTradeNo == "":
		return nil, errors.New("payv3: Refund: TransactionID or OutTradeNo is required")
	case b.OutRefundNo == "":
		return nil, errors.New("payv3: Refund: OutRefundNo is required")
	case b.Amount.Refund <= 0 || b.Amount.Total <= 0 || b.Amount.Refund > b.Amount.Total:
		return nil, errors.New("payv3: Refund: want 0 < Amount.Refund <= Amount.Total (fen)")
	}
	var out Refund
	if err := c.do(ctx, "POST", "v3/refund/domestic/refunds", &b, &out); err != nil {
		return nil, err
	}
	if out.OutRefundNo == "" || out.Status == "" {
		return nil, &OutcomeUnknownError{Method: "POST", Path: "v3/refund/domestic/refunds", Err: errors.New("reply without out_refund_no or status")}
	}
	return &out, nil
}

// QueryRefund returns the refund the merchant numbered outRefundNo; one
// that does not exist is ErrResourceNotExists.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-refund-no.html
func (c *Client) QueryRefund(ctx context.Context, outRefundNo string) (*Refund, error) {
	if outRefundNo == "" {
		return nil, errors.New("payv3: QueryRefund: empty out_refund_no")
	}
	var out Refund
	if err := c.do(ctx, "GET", "v3/refund/domestic/refunds/"+url.PathEscape(outRefundNo), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
