package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/pay"
	"github.com/wxkit/wxkit/pay/tradebill"
	payv3 "github.com/wxkit/wxkit/pay/v3"
)

// TradeBill downloads merchant mchID's trade bill of day (China time,
// "2006-01-02") with its configured API: v2 pay/downloadbill or v3
// v3/bill/tradebill and the hash-checked download. It returns the parsed
// bill and its text. A day without a bill is pay.ErrNoBill (v2) or
// payv3.ErrNoStatementExist / payv3.ErrStatementCreating (v3).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6 ,
// https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
func (p *Payments) TradeBill(ctx context.Context, mchID, day string, billType tradebill.Type) (*tradebill.Bill, []byte, error) {
	m := p.merchants[mchID]
	if m == nil {
		return nil, nil, fmt.Errorf("pay: merchant %q is not configured", mchID)
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return nil, nil, fmt.Errorf("pay: bill date %q: want yyyy-MM-dd", day)
	}
	var data []byte
	switch {
	case m.v3 != nil:
		dl, err := m.v3.TradeBill(ctx, &payv3.TradeBillOptions{BillDate: day, BillType: billType, Gzip: true})
		if err != nil {
			return nil, nil, err
		}
		if data, err = m.v3.DownloadBill(ctx, dl); err != nil {
			return nil, nil, err
		}
	case m.v2first != nil:
		data, err = m.v2first.DownloadBillData(ctx, &pay.DownloadBillRequest{BillDate: d.Format("20060102"), BillType: billType, Gzip: true})
		if err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("pay: merchant %q has no API client", mchID)
	}
	b, err := tradebill.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("pay: bill of %s for %s: %w", day, mchID, err)
	}
	return b, data, nil
}

// MerchantIDs returns the configured merchants' mch_ids, in configuration
// order.
func (p *Payments) MerchantIDs() []string {
	ids := make([]string, 0, len(p.list))
	for _, m := range p.list {
		ids = append(ids, m.cfg.MchID)
	}
	return ids
}
