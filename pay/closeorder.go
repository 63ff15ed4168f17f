package pay

import (
	"context"
	"errors"
)

// CloseOrder closes an unpaid order (pay/closeorder), so that it can no
// longer be paid; the platform allows it from 5 minutes after the order was
// created. A paid order is ErrOrderPaid (treat the order as paid); an order
// already closed is ErrOrderClosed (nothing more to do).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_3
func (c *Client) CloseOrder(ctx context.Context, outTradeNo string) error {
	if outTradeNo == "" {
		return errors.New("pay: CloseOrder: outTradeNo is required")
	}
	_, err := c.call(ctx, "pay/closeorder", params{"out_trade_no": outTradeNo}, false)
	return err
}
