package pay

import (
	"context"
	"errors"
)

// OrderQueryRequest names the order to query: TransactionID (which wins
// when both are set) or OutTradeNo.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
type OrderQueryRequest struct {
	TransactionID string // transaction_id
	OutTradeNo    string // out_trade_no
}

// Order is the result of OrderQuery: the payment fields, filled once the
// order is paid, and its TradeState.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
type Order struct {
	Payment
	TradeState     TradeState `json:"trade_state"`
	TradeStateDesc string     `json:"trade_state_desc,omitempty"`
	NonceStr       string     `json:"nonce_str,omitempty"`
	// Raw holds every field of the verified reply.
	Raw map[string]string `json:"-"`
}

// OrderQuery queries an order (pay/orderquery): the way to learn an order's
// state when a notify is late, and after an ErrOutcomeUnknown. An unknown
// order is ErrOrderNotExist.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
func (c *Client) OrderQuery(ctx context.Context, r *OrderQueryRequest) (*Order, error) {
	if r == nil || (r.TransactionID == "" && r.OutTradeNo == "") {
		return nil, errors.New("pay: OrderQuery: TransactionID or OutTradeNo is required")
	}
	p := params{}
	p.set("transaction_id", r.TransactionID)
	p.set("out_trade_no", r.OutTradeNo)
	const path = "pay/orderquery"
	m, err := c.call(ctx, path, p, false)
	if err != nil {
		return nil, err
	}
	return decodeOrder(path, m)
}

func decodeOrder(path string, m map[string]string) (*Order, error) {
	f := &fieldReader{m: m}
	o := &Order{
		Payment:        f.payment(),
		TradeState:     TradeState(m["trade_state"]),
		TradeStateDesc: m["trade_state_desc"],
		NonceStr:       m["nonce_str"],
		Raw:            m,
	}
	if f.err != nil {
		return nil, replyError(path, f.err)
	}
	if o.TradeState == "" {
		return nil, replyError(path, errors.New("reply has no trade_state"))
	}
	return o, nil
}
