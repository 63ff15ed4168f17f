package pay

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/pay/tradebill"
)

func docBill(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("tradebill/testdata/downloadbill_v2_doc.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDownloadBill(t *testing.T) {
	t.Parallel()
	for _, st := range []SignType{SignTypeMD5, SignTypeHMACSHA256} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t, st)
			p.handle("pay/downloadbill", func(map[string]string) reply { return reply{raw: docBill(t)} })
			b, err := p.client(t).DownloadBill(t.Context(), &DownloadBillRequest{BillDate: "20141110"})
			if err != nil {
				t.Fatalf("DownloadBill = %v", err)
			}
			checkWire(t, p, wire(st, map[string]string{"bill_date": "20141110", "bill_type": "ALL"}))
			if len(b.Rows) != 2 || b.Rows[1].OutTradeNo != "1415635270" || b.Summary.Count != 2 || b.Summary.SettlementTotalFee != 2 {
				t.Errorf("bill = %+v", b)
			}
		})
	}
}

func TestDownloadBillGzip(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, SignTypeMD5)
	p.handle("pay/downloadbill", func(map[string]string) reply { return reply{raw: gz(t, docBill(t))} })
	data, err := p.client(t).DownloadBillData(t.Context(), &DownloadBillRequest{BillDate: "20141110", BillType: tradebill.TypeSuccess, Gzip: true})
	if err != nil {
		t.Fatalf("DownloadBillData = %v", err)
	}
	if !bytes.Equal(data, docBill(t)) {
		t.Errorf("DownloadBillData = %q, want the decompressed bill", data)
	}
	checkWire(t, p, wire(SignTypeMD5, map[string]string{"bill_date": "20141110", "bill_type": "SUCCESS", "tar_type": "GZIP"}))
}

func TestDownloadBillErrors(t *testing.T) {
	t.Parallel()
	noBill := []byte("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg><error_code><![CDATA[20002]]></error_code></xml>")
	for _, tc := range []struct {
		name   string
		req    DownloadBillRequest
		body   []byte
		status int
		noBill bool
		want   string
	}{
		{name: "no bill", body: noBill, noBill: true, want: "No Bill Exist (error_code 20002)"},
		{name: "no bill for gzip", req: DownloadBillRequest{Gzip: true}, body: noBill, noBill: true, want: "20002"},
		{name: "sign error", body: []byte("<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>"), want: "return_code FAIL: 签名错误"},
		{name: "other error code", body: []byte("<xml><return_code>FAIL</return_code><return_msg>invalid bill_date</return_msg><error_code>20001</error_code></xml>"), want: "20001"},
		{name: "xml without FAIL", body: []byte("<xml><return_code>SUCCESS</return_code></xml>"), want: "no bill"},
		{name: "http 500", body: []byte("oops"), status: 500, want: "HTTP 500"},
		{name: "not a bill", body: []byte("hello"), want: "tradebill"},
		{name: "gzip asked, text answered", req: DownloadBillRequest{Gzip: true}, body: docBill(t), want: "neither gzip"},
		{name: "broken gzip", req: DownloadBillRequest{Gzip: true}, body: gz(t, docBill(t))[:20], want: "gunzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t, SignTypeMD5)
			p.handle("pay/downloadbill", func(map[string]string) reply { return reply{raw: tc.body, status: tc.status} })
			req := tc.req
			req.BillDate = "20141110"
			_, err := p.client(t).DownloadBill(t.Context(), &req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("DownloadBill = %v, want an error containing %q", err, tc.want)
			}
			if got := errors.Is(err, ErrNoBill); got != tc.noBill {
				t.Errorf("errors.Is(err, ErrNoBill) = %v, want %v", got, tc.noBill)
			}
		})
	}
}

func TestDownloadBillValidation(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, SignTypeMD5)
	c := p.client(t)
	for _, r := range []*DownloadBillRequest{nil, {}, {BillDate: "2014-11-10"}, {BillDate: "20141310"}, {BillDate: "20141110", BillType: "all"}} {
		if _, err := c.DownloadBill(t.Context(), r); err == nil {
			t.Errorf("DownloadBill(%+v) = nil error", r)
		}
	}
	if n := len(p.received()); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}
