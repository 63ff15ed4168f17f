package pay

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// UnifiedOrderRequest is the body of unifiedorder (下单). Amounts are int64
// fen. Required: Body, OutTradeNo, TotalFee (> 0), SpbillCreateIP,
// NotifyURL (absolute, without a query string) and TradeType; OpenID for
// JSAPI, ProductID for NATIVE. appid, mch_id, nonce_str, sign_type and sign
// are added by the client.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
type UnifiedOrderRequest struct {
	DeviceInfo     string    // device_info, e.g. "WEB"
	Body           string    // body: "商家名称-销售商品类目", at most 128 bytes
	Detail         string    // detail: JSON goods detail (单品优惠)
	Attach         string    // attach: returned as is in the query and the notify
	OutTradeNo     string    // out_trade_no: at most 32 of [0-9A-Za-z_-|*], unique per merchant
	FeeType        string    // fee_type: default CNY
	TotalFee       int64     // total_fee, fen
	SpbillCreateIP string    // spbill_create_ip: the user's IP (JSAPI, MWEB) or the server's (NATIVE)
	TimeStart      time.Time // time_start (sent as yyyyMMddHHmmss, China time); zero: omitted
	TimeExpire     time.Time // time_expire: at least 1 minute after time_start; zero: omitted (2 hours)
	GoodsTag       string    // goods_tag
	NotifyURL      string    // notify_url: receives the pay notify
	TradeType      TradeType // trade_type: TradeTypeJSAPI, TradeTypeNative or TradeTypeMWEB
	ProductID      string    // product_id: required for NATIVE
	LimitPay       string    // limit_pay: "no_credit" refuses credit cards
	OpenID         string    // openid: the payer, in appid's namespace; required for JSAPI
	Receipt        string    // receipt: "Y" enables the e-invoice entry
	ProfitSharing  string    // profit_sharing: "Y" or "N"
	SceneInfo      string    // scene_info: JSON (h5_info for MWEB, store_info)
	// Extra holds any other request field (sent and signed as is); it must
	// not name a field above or one the client sets.
	Extra map[string]string
}

// Prepay is the result of UnifiedOrder.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
type Prepay struct {
	TradeType  TradeType `json:"trade_type"`
	PrepayID   string    `json:"prepay_id"`          // valid for 2 hours; JSAPIParams turns it into the front-end parameters
	CodeURL    string    `json:"code_url,omitempty"` // NATIVE: the QR code's content
	MwebURL    string    `json:"mweb_url,omitempty"` // MWEB: where to send the browser
	DeviceInfo string    `json:"device_info,omitempty"`
	NonceStr   string    `json:"nonce_str,omitempty"`
	// Raw holds every field of the verified reply.
	Raw map[string]string `json:"-"`
}

// UnifiedOrder creates an order (pay/unifiedorder) and returns its
// prepay_id. Calling it again with the same OutTradeNo and the same
// parameters returns the same prepay_id; with other parameters it is
// ErrInvalidRequest (or ErrOrderPaid, ErrOrderClosed). Errors are as
// described on Client; an ErrOutcomeUnknown order may exist: query it.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (c *Client) UnifiedOrder(ctx context.Context, r *UnifiedOrderRequest) (*Prepay, error) {
	const op = "UnifiedOrder"
	if r == nil {
		return nil, errors.New("pay: UnifiedOrder: nil request")
	}
	switch {
	case r.Body == "":
		return nil, errors.New("pay: UnifiedOrder: Body is required")
	case r.OutTradeNo == "":
		return nil, errors.New("pay: UnifiedOrder: OutTradeNo is required")
	case r.TotalFee <= 0:
		return nil, fmt.Errorf("pay: UnifiedOrder: TotalFee %d: must be positive (fen)", r.TotalFee)
	case r.SpbillCreateIP == "":
		return nil, errors.New("pay: UnifiedOrder: SpbillCreateIP is required")
	case r.TradeType == "":
		return nil, errors.New("pay: UnifiedOrder: TradeType is required")
	case r.TradeType == TradeTypeJSAPI && r.OpenID == "":
		return nil, errors.New("pay: UnifiedOrder: OpenID is required for JSAPI")
	case r.TradeType == TradeTypeNative && r.ProductID == "":
		return nil, errors.New("pay: UnifiedOrder: ProductID is required for NATIVE")
	}
	if err := checkNotifyURL(op, r.NotifyURL, true); err != nil {
		return nil, err
	}
	p := params{}
	p.set("device_info", r.DeviceInfo)
	p.set("body", r.Body)
	p.set("detail", r.Detail)
	p.set("attach", r.Attach)
	p.set("out_trade_no", r.OutTradeNo)
	p.set("fee_type", r.FeeType)
	p.setFee("total_fee", r.TotalFee)
	p.set("spbill_create_ip", r.SpbillCreateIP)
	p.setTime("time_start", r.TimeStart)
	p.setTime("time_expire", r.TimeExpire)
	p.set("goods_tag", r.GoodsTag)
	p.set("notify_url", r.NotifyURL)
	p.set("trade_type", string(r.TradeType))
	p.set("product_id", r.ProductID)
	p.set("limit_pay", r.LimitPay)
	p.set("openid", r.OpenID)
	p.set("receipt", r.Receipt)
	p.set("profit_sharing", r.ProfitSharing)
	p.set("scene_info", r.SceneInfo)
	if err := p.merge(op, r.Extra); err != nil {
		return nil, err
	}
	const path = "pay/unifiedorder"
	m, err := c.call(ctx, path, p, false)
	if err != nil {
		return nil, err
	}
	return decodePrepay(path, m)
}

func decodePrepay(path string, m map[string]string) (*Prepay, error) {
	res := &Prepay{
		TradeType:  TradeType(m["trade_type"]),
		PrepayID:   m["prepay_id"],
		CodeURL:    m["code_url"],
		MwebURL:    m["mweb_url"],
		DeviceInfo: m["device_info"],
		NonceStr:   m["nonce_str"],
		Raw:        m,
	}
	if res.PrepayID == "" {
		return nil, replyError(path, errors.New("reply has no prepay_id"))
	}
	return res, nil
}

// checkNotifyURL checks a notify_url: absolute http(s), no query string
// (the platform drops it) and no fragment.
func checkNotifyURL(op, s string, required bool) error {
	if s == "" {
		if required {
			return fmt.Errorf("pay: %s: NotifyURL is required", op)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("pay: %s: NotifyURL %q: want an absolute http(s) URL", op, s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("pay: %s: NotifyURL %q: must not carry a query string or fragment", op, s)
	}
	return nil
}
