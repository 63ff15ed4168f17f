package payv3

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wxkit/wxkit/internal/wxhttp"
	"github.com/wxkit/wxkit/pay/tradebill"
)

// ErrBillHash: a downloaded bill's SHA1 is not the hash_value TradeBill
// gave; the content is not returned.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/bill-download/download-bill.html
var ErrBillHash = errors.New("payv3: downloaded bill does not match its hash_value")

// TradeBillOptions names the trade bill TradeBill asks for.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
type TradeBillOptions struct {
	// BillDate is bill_date, the day (China time) as yyyy-MM-dd
	// ("2019-06-11"). The platform keeps three months of bills and makes a
	// day's bill the next day (download after 10:00).
	BillDate string
	// BillType is bill_type; empty means tradebill.TypeAll.
	BillType tradebill.Type
	// Gzip asks for the file compressed (tar_type=GZIP); DownloadBill
	// decompresses it.
	Gzip bool
}

// BillDownload is TradeBill's answer: where to download the bill (for 5
// minutes) and the hash of its uncompressed content.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
type BillDownload struct {
	HashType    string `json:"hash_type"`  // SHA1
	HashValue   string `json:"hash_value"` // hex SHA1 of the bill (decompressed if gzip)
	DownloadURL string `json:"download_url"`
}

// TradeBill asks for a day's trade bill (GET v3/bill/tradebill) and
// returns where to download it; DownloadBill fetches it. A day without
// payments or refunds is ErrNoStatementExist; a day whose bill is not made
// yet is ErrStatementCreating.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
func (c *Client) TradeBill(ctx context.Context, o *TradeBillOptions) (*BillDownload, error) {
	if o == nil {
		return nil, errors.New("payv3: TradeBill: nil options")
	}
	if _, err := time.Parse(time.DateOnly, o.BillDate); err != nil || len(o.BillDate) != len(time.DateOnly) {
		return nil, fmt.Errorf("payv3: TradeBill: BillDate %q: want yyyy-MM-dd", o.BillDate)
	}
	bt := o.BillType
	if bt == "" {
		bt = tradebill.TypeAll
	}
	if !bt.Valid() {
		return nil, fmt.Errorf("payv3: TradeBill: unknown BillType %q", bt)
	}
	q := url.Values{"bill_date": {o.BillDate}, "bill_type": {string(bt)}}
	if o.Gzip {
		q.Set("tar_type", tradebill.TarTypeGZIP)
	}
	var d BillDownload
	if err := c.do(ctx, "GET", "v3/bill/tradebill?"+q.Encode(), nil, &d); err != nil {
		return nil, err
	}
	if d.DownloadURL == "" || d.HashValue == "" {
		return nil, fmt.Errorf("payv3: GET v3/bill/tradebill: reply without download_url or hash_value")
	}
	return &d, nil
}

// DownloadBill downloads the bill d points to (a GET signed like every
// call) and returns its text, decompressed when it came as gzip. The
// platform does not sign the download; instead its SHA1 must equal
// d.HashValue, else the error is ErrBillHash and no content is returned.
// download_url must be on the host of the client's base URL (or, for the
// platform, on another host of mch.weixin.qq.com over https), so that the
// signed request goes nowhere else.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/bill-download/download-bill.html
func (c *Client) DownloadBill(ctx context.Context, d *BillDownload) ([]byte, error) {
	if d == nil {
		return nil, errors.New("payv3: DownloadBill: nil BillDownload")
	}
	if !strings.EqualFold(d.HashType, "SHA1") {
		return nil, fmt.Errorf("payv3: DownloadBill: hash_type %q, want SHA1", d.HashType)
	}
	want, err := hex.DecodeString(d.HashValue)
	if err != nil || len(want) != sha1.Size {
		return nil, fmt.Errorf("payv3: DownloadBill: hash_value %q is not a hex SHA1", d.HashValue)
	}
	u, err := url.Parse(d.DownloadURL)
	if err != nil {
		return nil, fmt.Errorf("payv3: DownloadBill: download_url: %w", err)
	}
	if !c.billHost(u) {
		return nil, fmt.Errorf("payv3: DownloadBill: download_url host %q is not the API's", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("payv3: DownloadBill: %w", err)
	}
	dl := *c.raw // not signed by the platform; a bill is larger than an API reply
	dl.MaxBody = tradebill.MaxSize
	resp, err := dl.DoRaw(req, wxhttp.Idempotent())
	if err != nil {
		return nil, err
	}
	body := resp.Body
	if tradebill.IsGzip(body) {
		if body, err = tradebill.Gunzip(body); err != nil {
			return nil, fmt.Errorf("payv3: DownloadBill: %w", err)
		}
	}
	got := sha1.Sum(body)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return nil, fmt.Errorf("%w: SHA1 %x, hash_value %s", ErrBillHash, got, d.HashValue)
	}
	return body, nil
}

// billHost reports whether a download_url may be sent the merchant's
// signature: the base URL's scheme and host, or https on a host of
// mch.weixin.qq.com when the base URL is one too (the platform's main and
// backup domains).
func (c *Client) billHost(u *url.URL) bool {
	b := c.api.BaseURL
	if u.Scheme == b.Scheme && strings.EqualFold(u.Host, b.Host) {
		return true
	}
	wechat := func(h string) bool { return strings.HasSuffix(strings.ToLower(h), ".mch.weixin.qq.com") }
	return u.Scheme == "https" && b.Scheme == "https" && wechat(u.Hostname()) && wechat(b.Hostname()) && u.Port() == ""
}

// DownloadTradeBill asks for a day's trade bill, downloads it, checks its
// hash and parses it (TradeBill, DownloadBill, tradebill.Parse).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
func (c *Client) DownloadTradeBill(ctx context.Context, o *TradeBillOptions) (*tradebill.Bill, error) {
	d, err := c.TradeBill(ctx, o)
	if err != nil {
		return nil, err
	}
	data, err := c.DownloadBill(ctx, d)
	if err != nil {
		return nil, err
	}
	b, err := tradebill.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("payv3: DownloadTradeBill: %w", err)
	}
	return b, nil
}
