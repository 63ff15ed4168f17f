package pay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/pay/tradebill"
)

// DownloadBillRequest names the trade bill to download.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
type DownloadBillRequest struct {
	// BillDate is bill_date, the day (China time) as yyyyMMdd ("20141110").
	// The platform keeps three months of bills and makes a day's bill from
	// 09:00 the next day (download after 10:00).
	BillDate string
	// BillType is bill_type; empty means tradebill.TypeAll.
	BillType tradebill.Type
	// Gzip asks for the bill compressed (tar_type=GZIP); DownloadBill
	// decompresses it.
	Gzip bool
}

// DownloadBill downloads a day's trade bill (pay/downloadbill) and parses
// it (see package tradebill): rows of payments and refunds with amounts in
// fen, and the summary. A day without payments or refunds, or whose bill
// is not made yet, is ErrNoBill (a *ReturnError with error_code 20002).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
func (c *Client) DownloadBill(ctx context.Context, r *DownloadBillRequest) (*tradebill.Bill, error) {
	data, err := c.DownloadBillData(ctx, r)
	if err != nil {
		return nil, err
	}
	b, err := tradebill.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("pay: pay/downloadbill: %w", err)
	}
	return b, nil
}

// DownloadBillData downloads a day's trade bill (pay/downloadbill) and
// returns its text (decompressed when Gzip was asked for), to keep or to
// parse with tradebill.Parse. A success reply is the bill itself, which
// the platform does not sign, so only its form is checked; an error reply
// is XML with return_code FAIL, a *ReturnError: ErrNoBill (error_code
// 20002) for a day without a bill.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
func (c *Client) DownloadBillData(ctx context.Context, r *DownloadBillRequest) ([]byte, error) {
	const path = "pay/downloadbill"
	if r == nil {
		return nil, errors.New("pay: DownloadBill: nil request")
	}
	if _, err := time.Parse("20060102", r.BillDate); err != nil || len(r.BillDate) != 8 {
		return nil, fmt.Errorf("pay: DownloadBill: BillDate %q: want yyyyMMdd", r.BillDate)
	}
	bt := r.BillType
	if bt == "" {
		bt = tradebill.TypeAll
	}
	if !bt.Valid() {
		return nil, fmt.Errorf("pay: DownloadBill: unknown BillType %q", bt)
	}
	p := params{}
	p.set("bill_date", r.BillDate)
	p.set("bill_type", string(bt))
	if r.Gzip {
		p.set("tar_type", tradebill.TarTypeGZIP)
	}
	api := *c.api // a bill is larger than an API reply
	api.MaxBody = tradebill.MaxSize
	req, err := c.newRequest(ctx, &api, path, p)
	if err != nil {
		return nil, err
	}
	resp, err := api.DoRaw(req)
	if err != nil {
		return nil, fmt.Errorf("pay: %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("pay: %s: HTTP %d", path, resp.StatusCode)
	}
	body := resp.Body
	if tradebill.IsGzip(body) {
		return tradebill.Gunzip(body)
	}
	if t := bytes.TrimSpace(body); bytes.HasPrefix(t, []byte("<xml")) {
		m, err := DecodeXML(t)
		if err != nil {
			return nil, fmt.Errorf("pay: %s: reply: %w", path, err)
		}
		if m["return_code"] == "FAIL" {
			return nil, &ReturnError{Path: path, ReturnMsg: m["return_msg"], ErrorCode: m["error_code"]}
		}
		return nil, fmt.Errorf("pay: %s: XML reply with return_code %q and no bill", path, m["return_code"])
	}
	if r.Gzip {
		return nil, fmt.Errorf("pay: %s: asked for GZIP, the reply is neither gzip nor an error", path)
	}
	return body, nil
}
