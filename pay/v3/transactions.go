package payv3

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// TradeState is the state of an order (trade_state), with the platform's
// names.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type TradeState string

// The trade states.
const (
	TradeStateSuccess    TradeState = "SUCCESS"    // paid
	TradeStateRefund     TradeState = "REFUND"     // a refund was made
	TradeStateNotPay     TradeState = "NOTPAY"     // not paid yet
	TradeStateClosed     TradeState = "CLOSED"     // closed
	TradeStateRevoked    TradeState = "REVOKED"    // revoked (payment code)
	TradeStateUserPaying TradeState = "USERPAYING" // the user is paying (entering the password)
	TradeStatePayError   TradeState = "PAYERROR"   // the payment failed (bank refused)
)

// TradeType is how an order is paid (trade_type).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type TradeType string

// The trade types.
const (
	TradeTypeJSAPI    TradeType = "JSAPI"    // Official Account page or Mini Program
	TradeTypeNative   TradeType = "NATIVE"   // QR code
	TradeTypeApp      TradeType = "APP"      // mobile app
	TradeTypeMicropay TradeType = "MICROPAY" // payment code
	TradeTypeMWeb     TradeType = "MWEB"     // H5
	TradeTypeFacePay  TradeType = "FACEPAY"  // face payment
)

// CurrencyCNY is the only currency of domestic payments, and the default.
const CurrencyCNY = "CNY"

// Amount is an order's amount in fen (1/100 yuan).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type Amount struct {
	Total    int64  `json:"total"`
	Currency string `json:"currency,omitempty"` // default CNY
}

// Payer is the paying user: the OpenID under the order's AppID.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type Payer struct {
	OpenID string `json:"openid"`
}

// GoodsDetail is one line of an order's detail; prices in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type GoodsDetail struct {
	MerchantGoodsID  string `json:"merchant_goods_id"`
	WechatpayGoodsID string `json:"wechatpay_goods_id,omitempty"`
	GoodsName        string `json:"goods_name,omitempty"`
	Quantity         int64  `json:"quantity"`
	UnitPrice        int64  `json:"unit_price"`
}

// OrderDetail is an order's optional detail (for discounts).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type OrderDetail struct {
	CostPrice   int64         `json:"cost_price,omitempty"`
	InvoiceID   string        `json:"invoice_id,omitempty"`
	GoodsDetail []GoodsDetail `json:"goods_detail,omitempty"`
}

// StoreInfo is the shop an order is placed in.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type StoreInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	AreaCode string `json:"area_code,omitempty"`
	Address  string `json:"address,omitempty"`
}

// SceneInfo is where an order is placed.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type SceneInfo struct {
	PayerClientIP string     `json:"payer_client_ip"`
	DeviceID      string     `json:"device_id,omitempty"`
	StoreInfo     *StoreInfo `json:"store_info,omitempty"`
}

// SettleInfo holds an order's settlement options.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type SettleInfo struct {
	ProfitSharing bool `json:"profit_sharing,omitempty"`
}

// PrepayRequest is the body of a JSAPI or Native prepay. AppID, MchID,
// Description, OutTradeNo, NotifyURL and Amount.Total are required (MchID
// and NotifyURL are filled from the client when empty, Amount.Currency
// defaults to CNY); a JSAPI prepay needs Payer.OpenID too. TimeExpire, when
// set, is the last moment the user may pay (sent in RFC 3339, seconds).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type PrepayRequest struct {
	AppID         string       `json:"appid"`
	MchID         string       `json:"mchid"`
	Description   string       `json:"description"`
	OutTradeNo    string       `json:"out_trade_no"`
	TimeExpire    time.Time    `json:"time_expire,omitzero"`
	Attach        string       `json:"attach,omitempty"`
	NotifyURL     string       `json:"notify_url"`
	GoodsTag      string       `json:"goods_tag,omitempty"`
	SupportFapiao bool         `json:"support_fapiao,omitempty"`
	Amount        Amount       `json:"amount"`
	Payer         *Payer       `json:"payer,omitempty"`
	Detail        *OrderDetail `json:"detail,omitempty"`
	SceneInfo     *SceneInfo   `json:"scene_info,omitempty"`
	SettleInfo    *SettleInfo  `json:"settle_info,omitempty"`
}

// JSAPIPrepay is the reply of a JSAPI prepay: the prepay_id that
// JSAPIParams turns into the front end's parameters (valid 2 hours).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
type JSAPIPrepay struct {
	PrepayID string `json:"prepay_id"`
}

// NativePrepay is the reply of a Native prepay: the weixin://wxpay/...
// URL to show as a QR code (valid 2 hours).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/native-payment/direct-jsons/native-prepay.html
type NativePrepay struct {
	CodeURL string `json:"code_url"`
}

// TransactionAmount is a paid order's amount, in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type TransactionAmount struct {
	Total         int64  `json:"total"`
	PayerTotal    int64  `json:"payer_total"`
	Currency      string `json:"currency,omitempty"`
	PayerCurrency string `json:"payer_currency,omitempty"`
}

// PromotionGoods is one line of a promotion's goods detail; amounts in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type PromotionGoods struct {
	GoodsID        string `json:"goods_id"`
	Quantity       int64  `json:"quantity"`
	UnitPrice      int64  `json:"unit_price"`
	DiscountAmount int64  `json:"discount_amount"`
	GoodsRemark    string `json:"goods_remark,omitempty"`
}

// Promotion is a coupon or discount applied to an order; amounts in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type Promotion struct {
	CouponID            string           `json:"coupon_id"`
	Name                string           `json:"name,omitempty"`
	Scope               string           `json:"scope,omitempty"`
	Type                string           `json:"type,omitempty"`
	Amount              int64            `json:"amount"`
	StockID             string           `json:"stock_id,omitempty"`
	WechatpayContribute int64            `json:"wechatpay_contribute,omitempty"`
	MerchantContribute  int64            `json:"merchant_contribute,omitempty"`
	OtherContribute     int64            `json:"other_contribute,omitempty"`
	Currency            string           `json:"currency,omitempty"`
	GoodsDetail         []PromotionGoods `json:"goods_detail,omitempty"`
}

// TransactionSceneInfo is the device a paid order came from.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type TransactionSceneInfo struct {
	DeviceID string `json:"device_id,omitempty"`
}

// Transaction is an order as the platform has it: the reply of a query and
// the plaintext of a TRANSACTION.SUCCESS notify. TransactionID, Payer,
// BankType and SuccessTime are set once the order is paid.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
type Transaction struct {
	AppID           string                `json:"appid"`
	MchID           string                `json:"mchid"`
	OutTradeNo      string                `json:"out_trade_no"`
	TransactionID   string                `json:"transaction_id,omitempty"`
	TradeType       TradeType             `json:"trade_type,omitempty"`
	TradeState      TradeState            `json:"trade_state"`
	TradeStateDesc  string                `json:"trade_state_desc,omitempty"`
	BankType        string                `json:"bank_type,omitempty"`
	Attach          string                `json:"attach,omitempty"`
	SuccessTime     time.Time             `json:"success_time,omitzero"`
	Payer           Payer                 `json:"payer,omitzero"`
	Amount          TransactionAmount     `json:"amount,omitzero"`
	SceneInfo       *TransactionSceneInfo `json:"scene_info,omitempty"`
	PromotionDetail []Promotion           `json:"promotion_detail,omitempty"`
}

// PrepayJSAPI places a JSAPI order (Official Account pages and Mini
// Programs) and returns its prepay_id. Placing again the same OutTradeNo
// with the same parameters returns a prepay_id for the same order; with
// other parameters it is refused (ErrInvalidRequest), and a paid order
// gives ErrOrderPaid. On an unknown outcome (ErrOutcomeUnknown), query the
// order or place it again with the same parameters.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/direct-jsons/jsapi-prepay.html
func (c *Client) PrepayJSAPI(ctx context.Context, r *PrepayRequest) (*JSAPIPrepay, error) {
	body, err := c.prepayBody(r, true)
	if err != nil {
		return nil, err
	}
	var out JSAPIPrepay
	if err := c.do(ctx, "POST", "v3/pay/transactions/jsapi", body, &out); err != nil {
		return nil, err
	}
	if out.PrepayID == "" {
		return nil, &OutcomeUnknownError{Method: "POST", Path: "v3/pay/transactions/jsapi", Err: errors.New("reply without prepay_id")}
	}
	return &out, nil
}

// PrepayNative places a Native order (the user scans a QR code) and returns
// its code_url. Repeats and unknown outcomes are as for PrepayJSAPI.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/native-payment/direct-jsons/native-prepay.html
func (c *Client) PrepayNative(ctx context.Context, r *PrepayRequest) (*NativePrepay, error) {
	body, err := c.prepayBody(r, false)
	if err != nil {
		return nil, err
	}
	var out NativePrepay
	if err := c.do(ctx, "POST", "v3/pay/transactions/native", body, &out); err != nil {
		return nil, err
	}
	if out.CodeURL == "" {
		return nil, &OutcomeUnknownError{Method: "POST", Path: "v3/pay/transactions/native", Err: errors.New("reply without code_url")}
	}
	return &out, nil
}

// prepayBody checks r and returns a copy with the client's defaults.
func (c *Client) prepayBody(r *PrepayRequest, jsapi bool) (*PrepayRequest, error) {
	if r == nil {
		return nil, errors.New("payv3: prepay: nil request")
	}
	b := *r
	if b.MchID == "" {
		b.MchID = c.mchID
	}
	if b.NotifyURL == "" {
		b.NotifyURL = c.notifyURL
	}
	if b.Amount.Currency == "" {
		b.Amount.Currency = CurrencyCNY
	}
	b.TimeExpire = b.TimeExpire.Truncate(time.Second)
	switch {
	case b.AppID == "":
		return nil, errors.New("payv3: prepay: AppID is required")
	case b.Description == "":
		return nil, errors.New("payv3: prepay: Description is required")
	case b.OutTradeNo == "":
		return nil, errors.New("payv3: prepay: OutTradeNo is required")
	case b.NotifyURL == "":
		return nil, errors.New("payv3: prepay: NotifyURL is required (or WithNotifyURL)")
	case b.Amount.Total <= 0:
		return nil, errors.New("payv3: prepay: Amount.Total must be positive (fen)")
	case jsapi && (b.Payer == nil || b.Payer.OpenID == ""):
		return nil, errors.New("payv3: prepay: Payer.OpenID is required for JSAPI")
	}
	return &b, nil
}

// QueryByOutTradeNo returns the order the merchant numbered outTradeNo.
// An order that does not exist is ErrOrderNotExist.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-out-trade-no.html
func (c *Client) QueryByOutTradeNo(ctx context.Context, outTradeNo string) (*Transaction, error) {
	if outTradeNo == "" {
		return nil, errors.New("payv3: QueryByOutTradeNo: empty out_trade_no")
	}
	var t Transaction
	err := c.do(ctx, "GET", "v3/pay/transactions/out-trade-no/"+url.PathEscape(outTradeNo)+"?mchid="+url.QueryEscape(c.mchID), nil, &t)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// QueryByTransactionID returns the order the platform numbered
// transactionID. An order that does not exist is ErrOrderNotExist.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/query-by-wx-trade-no.html
func (c *Client) QueryByTransactionID(ctx context.Context, transactionID string) (*Transaction, error) {
	if transactionID == "" {
		return nil, errors.New("payv3: QueryByTransactionID: empty transaction_id")
	}
	var t Transaction
	err := c.do(ctx, "GET", "v3/pay/transactions/id/"+url.PathEscape(transactionID)+"?mchid="+url.QueryEscape(c.mchID), nil, &t)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Close closes the unpaid order outTradeNo (the platform answers 204), so
// that it can no longer be paid. Closing a paid order is ErrOrderPaid. On
// an unknown outcome (ErrOutcomeUnknown), query the order.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/close-order.html
func (c *Client) Close(ctx context.Context, outTradeNo string) error {
	if outTradeNo == "" {
		return errors.New("payv3: Close: empty out_trade_no")
	}
	return c.do(ctx, "POST", "v3/pay/transactions/out-trade-no/"+url.PathEscape(outTradeNo)+"/close",
		struct {
			MchID string `json:"mchid"`
		}{c.mchID}, nil)
}
