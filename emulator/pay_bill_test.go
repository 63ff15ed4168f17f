package emulator

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// downloadBillV2 posts a signed downloadbill and returns the raw answer.
func (f *payFixture) downloadBillV2(p map[string]string) []byte {
	f.t.Helper()
	q := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n" + strconv.Itoa(randomInt(1, 1e9))}
	for k, v := range p {
		q[k] = v
	}
	q["sign"] = clientV2Sign(q, testAPIKey, q["sign_type"])
	req := httptest.NewRequestWithContext(f.t.Context(), "POST", "/pay/downloadbill", strings.NewReader(clientXML(q)))
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, req)
	if w.Code != 200 {
		f.t.Fatalf("downloadbill: HTTP %d %s", w.Code, w.Body)
	}
	return w.Body.Bytes()
}

// billFixture pays two orders on 2025-03-01 (China time), 888 fen with a
// 100-fen NO_CASH coupon and 1 fen, refunds 300 of the first, and pays a
// third order the next day.
func billFixture(t *testing.T) (f *payFixture, txn1, txn2 string) {
	f = newPayFixture(t, nil)
	txn1 = f.pay(f.unifiedOrder("BILL001", 888, map[string]string{"attach": "a`b"}), Payment{Coupons: []Coupon{{ID: "C1", Type: "NO_CASH", Amount: 100}}})
	f.advance(time.Minute)
	txn2 = f.pay(f.unifiedOrder("BILL002", 1, nil), Payment{})
	f.advance(time.Minute)
	r := f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "BILL001", "out_refund_no": "RBILL001",
		"total_fee": "888", "refund_fee": "300"})
	if r["result_code"] != "SUCCESS" {
		t.Fatalf("refund = %v", r)
	}
	f.settle()
	f.advance(16 * time.Hour) // 2025-03-02 02:02
	f.pay(f.unifiedOrder("BILL003", 5, nil), Payment{})
	return f, txn1, txn2
}

func TestDownloadBill(t *testing.T) {
	t.Parallel()
	f, txn1, txn2 := billFixture(t)

	// 2025-03-02 02:02: the bill of 03-01 is not made yet.
	if a := clientParseXML(t, f.downloadBillV2(map[string]string{"bill_date": "20250301"})); a["return_msg"] != "No Bill Exist" || a["error_code"] != "20002" {
		t.Errorf("downloadbill before 10:00 = %v", a)
	}
	if code, _ := f.v3("GET", "/v3/bill/tradebill?bill_date=2025-03-01", nil).code(t); code != "STATEMENT_CREATING" {
		t.Errorf("tradebill before 10:00 = %s, want STATEMENT_CREATING", code)
	}
	f.advance(8 * time.Hour) // 10:02

	var refundID string
	for _, r := range f.e.pay.merchant(testMchID).refunds {
		refundID = r.refundID
	}
	wantAll := "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\n" +
		"`2025-03-01 10:00:00,`" + testAppID + ",`" + testMchID + ",`0,`,`" + txn1 + ",`BILL001,`" + testOpenID + ",`JSAPI,`SUCCESS,`OTHERS,`CNY,`7.88,`1.00,`0,`0,`0.00,`0.00,`,`,`测试商品,`a'b,`0.05000,`0.60%,`8.88,`0.00,`\n" +
		"`2025-03-01 10:01:00,`" + testAppID + ",`" + testMchID + ",`0,`,`" + txn2 + ",`BILL002,`" + testOpenID + ",`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`测试商品,`,`0.00000,`0.60%,`0.01,`0.00,`\n" +
		"`2025-03-01 10:02:00,`" + testAppID + ",`" + testMchID + ",`0,`,`" + txn1 + ",`BILL001,`" + testOpenID + ",`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`" + refundID + ",`RBILL001,`3.00,`0.00,`ORIGINAL,`SUCCESS,`测试商品,`a'b,`-0.02000,`0.60%,`0.00,`3.00,`\n" +
		"总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n" +
		"`3,`7.89,`3.00,`0.00,`0.03000,`8.89,`3.00\n"
	if got := string(f.downloadBillV2(map[string]string{"bill_date": "20250301", "sign_type": "HMAC-SHA256"})); got != wantAll {
		t.Errorf("downloadbill ALL =\n%s\nwant\n%s", got, wantAll)
	}

	succ := string(f.downloadBillV2(map[string]string{"bill_date": "20250301", "bill_type": "SUCCESS"}))
	if lines := strings.Split(strings.TrimSpace(succ), "\n"); len(lines) != 5 || lines[3] != "总交易单数,应结订单总金额,手续费总金额,订单总金额" ||
		lines[4] != "`2,`7.89,`0.05000,`8.89" || strings.Count(lines[1], ",`") != 19 {
		t.Errorf("downloadbill SUCCESS =\n%s", succ)
	}
	ref := string(f.downloadBillV2(map[string]string{"bill_date": "20250301", "bill_type": "REFUND"}))
	if lines := strings.Split(strings.TrimSpace(ref), "\n"); len(lines) != 4 || !strings.Contains(lines[1], ",`REFUND,`OTHERS,`CNY,`0.00,`0.00,`2025-03-01 10:02:00,`2025-03-01 10:02:00,`"+refundID) ||
		lines[3] != "`1,`0.00,`3.00,`0.00,`-0.02000,`0.00,`3.00" {
		t.Errorf("downloadbill REFUND =\n%s", ref)
	}

	// GZIP: the same bill, compressed.
	zr, err := gzip.NewReader(bytes.NewReader(f.downloadBillV2(map[string]string{"bill_date": "20250301", "tar_type": "GZIP"})))
	if err != nil {
		t.Fatalf("downloadbill GZIP: %v", err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != wantAll {
		t.Errorf("downloadbill GZIP = %s", plain)
	}

	// v3: tradebill, then the download_url on the emulator's host, signed.
	for _, tar := range []string{"", "&tar_type=GZIP"} {
		a := f.v3("GET", "/v3/bill/tradebill?bill_date=2025-03-01&bill_type=ALL"+tar, nil)
		var d struct{ HashType, HashValue, DownloadURL string }
		a.json(t, &struct {
			HashType    *string `json:"hash_type"`
			HashValue   *string `json:"hash_value"`
			DownloadURL *string `json:"download_url"`
		}{&d.HashType, &d.HashValue, &d.DownloadURL})
		sum := sha1.Sum([]byte(wantAll))
		if a.Status != 200 || d.HashType != "SHA1" || d.HashValue != hex.EncodeToString(sum[:]) || !strings.HasPrefix(d.DownloadURL, "http://example.com/v3/billdownload/file?token=") {
			t.Fatalf("tradebill = %d %s", a.Status, a.Body)
		}
		uri := strings.TrimPrefix(d.DownloadURL, "http://example.com")
		dl := f.v3("GET", uri, nil)
		if dl.Status != 200 || dl.Header.Get("Wechatpay-Signature") != "" {
			t.Fatalf("download = %d %v %s", dl.Status, dl.Header, dl.Body)
		}
		body := dl.Body
		if tar != "" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if string(body) != wantAll {
			t.Errorf("download%s = %s", tar, body)
		}
		if tar == "" {
			// Unsigned downloads are refused; the URL lasts 5 minutes.
			req := httptest.NewRequestWithContext(t.Context(), "GET", uri, nil)
			w := httptest.NewRecorder()
			f.e.ServeHTTP(w, req)
			if w.Code != 401 {
				t.Errorf("unsigned download = %d", w.Code)
			}
			f.advance(6 * time.Minute)
			if code, _ := f.v3("GET", uri, nil).code(t); code != "INVALID_REQUEST" {
				t.Errorf("download after 6 minutes = %s", code)
			}
		}
	}
}

func TestDownloadBillRefused(t *testing.T) {
	t.Parallel()
	f, _, _ := billFixture(t)
	f.advance(24 * time.Hour) // 2025-03-03 02:02: 03-02's bill is not made, 03-01's is
	for _, tc := range []struct {
		date, billType string
		v2Code, v2Msg  string
		v3Status       int
		v3Code         string
	}{
		{"20250302", "", "20002", "No Bill Exist", 400, "STATEMENT_CREATING"},
		{"20250303", "", "20002", "No Bill Exist", 400, "STATEMENT_CREATING"},
		{"20250304", "", "20002", "No Bill Exist", 400, "INVALID_REQUEST"},
		{"20250228", "", "20002", "No Bill Exist", 400, "NO_STATEMENT_EXIST"},
		{"20241101", "", "20002", "No Bill Exist", 400, "INVALID_REQUEST"},
		{"20250301", "RECHARGE_REFUND", "20002", "No Bill Exist", 400, "NO_STATEMENT_EXIST"},
		{"2025031", "", "20001", "invalid bill_date", 400, "PARAM_ERROR"},
		{"20250301", "all", "20001", "invalid bill_type", 400, "PARAM_ERROR"},
	} {
		a := clientParseXML(t, f.downloadBillV2(map[string]string{"bill_date": tc.date, "bill_type": tc.billType}))
		if a["return_code"] != "FAIL" || a["error_code"] != tc.v2Code || a["return_msg"] != tc.v2Msg || a["sign"] != "" {
			t.Errorf("downloadbill %s %s = %v", tc.date, tc.billType, a)
		}
		d := tc.date
		if len(d) == 8 {
			d = d[:4] + "-" + d[4:6] + "-" + d[6:]
		}
		q := "/v3/bill/tradebill?bill_date=" + d
		if tc.billType != "" {
			q += "&bill_type=" + tc.billType
		}
		r := f.v3("GET", q, nil)
		if code, _ := r.code(t); r.Status != tc.v3Status || code != tc.v3Code {
			t.Errorf("tradebill %s %s = %d %s, want %d %s", d, tc.billType, r.Status, r.Body, tc.v3Status, tc.v3Code)
		}
	}
	// A bad sign is refused before anything else.
	q := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "x", "bill_date": "20250301", "sign": strings.Repeat("A", 32)}
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/pay/downloadbill", strings.NewReader(clientXML(q)))
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, req)
	if a := clientParseXML(t, w.Body.Bytes()); a["return_msg"] != "签名错误，请检查后再试" {
		t.Errorf("downloadbill with a bad sign = %v", a)
	}
}

func TestBillFee(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]int64{0: 0, 1: 0, 83: 0, 84: 1, 100: 1, 250: 2, 249: 1, 788: 5, 300: 2, -300: -2, 10000: 60, 1_000_000_00: 6_000_00} {
		if got := billFee(in); got != want {
			t.Errorf("billFee(%d) = %d, want %d", in, got, want)
		}
	}
}
