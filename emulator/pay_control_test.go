package emulator

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPayControlContract(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("CTRL000001", 123, nil)

	var sheet map[string]any
	if code := control(t, f.e, "GET", "/_emulator/pay/"+prepay, "", &sheet); code != 200 {
		t.Fatalf("GET /_emulator/pay/{prepay_id} = %d", code)
	}
	if sheet["merchant_name"] != "测试商户" || sheet["amount"] != 123.0 || sheet["description"] != "测试商品" ||
		sheet["out_trade_no"] != "CTRL000001" || sheet["state"] != "NOTPAY" || sheet["appid"] != testAppID {
		t.Errorf("pay sheet = %v", sheet)
	}

	var paid map[string]any
	if code := control(t, f.e, "POST", "/_emulator/pay/"+prepay+"/pay", `{"openid":"`+testOpenID+`"}`, &paid); code != 200 {
		t.Fatalf("POST pay = %d", code)
	}
	if len(paid) != 1 || !strings.HasPrefix(fmt.Sprint(paid["transaction_id"]), "4200") {
		t.Errorf("POST pay = %v, want {transaction_id}", paid)
	}
	f.settle()

	var order map[string]any
	if code := control(t, f.e, "GET", "/_emulator/merchants/"+testMchID+"/orders/CTRL000001", "", &order); code != 200 {
		t.Fatalf("GET order = %d", code)
	}
	for k, want := range map[string]any{"out_trade_no": "CTRL000001", "state": "SUCCESS", "amount": 123.0, "transaction_id": paid["transaction_id"]} {
		if order[k] != want {
			t.Errorf("order %s = %v, want %v", k, order[k], want)
		}
	}
	notifies, _ := order["notifies"].([]any)
	if len(notifies) != 1 {
		t.Fatalf("order notifies = %v", order["notifies"])
	}
	n := notifies[0].(map[string]any)
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(n["at"]))
	if err != nil || !at.Equal(t0) || n["http_status"] != 200.0 || n["body"] != v2Success {
		t.Errorf("notify attempt = %v", n)
	}

	var copies map[string][]map[string]any
	if code := control(t, f.e, "POST", "/_emulator/merchants/"+testMchID+"/orders/CTRL000001/notify", `{"copies":3}`, &copies); code != 200 {
		t.Fatalf("POST notify = %d", code)
	}
	if len(copies["notifies"]) != 3 || copies["notifies"][0]["http_status"] != 200.0 {
		t.Errorf("POST notify = %v", copies)
	}
	if got := len(f.srv.received()); got != 4 {
		t.Errorf("deliveries = %d, want 4", got)
	}

	var pk map[string]any
	if code := control(t, f.e, "GET", "/_emulator/merchants/"+testMchID+"/platform_key", "", &pk); code != 200 {
		t.Fatalf("GET platform_key = %d", code)
	}
	for _, k := range []string{"public_key_id", "public_key_pem", "serial_no", "certificate_pem"} {
		if _, ok := pk[k]; !ok {
			t.Errorf("platform_key lacks %q: %v", k, pk)
		}
	}
	var ms map[string][]MerchantInfo
	control(t, f.e, "GET", "/_emulator/merchants", "", &ms)
	if len(ms["merchants"]) != 1 || ms["merchants"][0].MchID != testMchID || ms["merchants"][0].Orders != 1 ||
		!ms["merchants"][0].V2 || !ms["merchants"][0].V3 || ms["merchants"][0].SerialNo != testSerial {
		t.Errorf("merchants = %+v", ms)
	}
	if strings.Contains(fmt.Sprint(ms), testAPIKey) || strings.Contains(fmt.Sprint(ms), testAPIv3Key) {
		t.Error("merchant listing shows a key")
	}
}

func TestPayControlErrors(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("CE00000001", 10, nil)
	expired := f.unifiedOrder("CE00000002", 10, nil)
	native := f.unifiedOrder("CE00000003", 10, map[string]string{"trade_type": "NATIVE", "openid": "-"})
	tests := []struct {
		name, method, target, body string
		status                     int
	}{
		{"unknown prepay", "POST", "/_emulator/pay/wxnope/pay", `{}`, 404},
		{"unknown prepay sheet", "GET", "/_emulator/pay/wxnope", "", 404},
		{"another user", "POST", "/_emulator/pay/" + prepay + "/pay", `{"openid":"oSomebodyElse"}`, 409},
		{"unknown field", "POST", "/_emulator/pay/" + prepay + "/pay", `{"open_id":"x"}`, 400},
		{"coupon covering all", "POST", "/_emulator/pay/" + prepay + "/pay", `{"coupons":[{"id":"1","amount":10}]}`, 400},
		{"coupon without id", "POST", "/_emulator/pay/" + prepay + "/pay", `{"coupons":[{"amount":1}]}`, 400},
		{"bad pay_params", "POST", "/_emulator/pay/" + prepay + "/pay", `{"pay_params":{"appId":"` + testAppID + `"}}`, 400},
		{"unknown merchant order", "GET", "/_emulator/merchants/1/orders/CE00000001", "", 404},
		{"unknown order", "GET", "/_emulator/merchants/" + testMchID + "/orders/NOPE", "", 404},
		{"unknown merchant key", "GET", "/_emulator/merchants/1/platform_key", "", 404},
		{"merchant key not generated", "GET", "/_emulator/merchants/" + testMchID + "/merchant_key", "", 409},
		{"decline unknown", "POST", "/_emulator/pay/wxnope/decline", "", 404},
		{"native payer not a user", "POST", "/_emulator/pay/" + native + "/pay", `{"openid":"oStranger"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e struct{ Error string }
			if code := control(t, f.e, tt.method, tt.target, tt.body, &e); code != tt.status || e.Error == "" {
				t.Errorf("%s %s = %d %q, want %d and an error", tt.method, tt.target, code, e.Error, tt.status)
			}
		})
	}
	advance(t, f.e, 2*time.Hour)
	var e struct{ Error string }
	if code := control(t, f.e, "POST", "/_emulator/pay/"+expired+"/pay", "", &e); code != 409 || !strings.Contains(e.Error, "expired") {
		t.Errorf("expired prepay_id = %d %q", code, e.Error)
	}
	// The sheet still finds the order of an expired prepay_id.
	if code := control(t, f.e, "GET", "/_emulator/pay/"+expired, "", nil); code != 200 {
		t.Errorf("sheet of an expired prepay_id = %d", code)
	}
}

func TestPayControlDecline(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("DC00000001", 10, nil)
	var st map[string]string
	if code := control(t, f.e, "POST", "/_emulator/pay/"+prepay+"/decline", "", &st); code != 200 || st["state"] != "NOTPAY" {
		t.Errorf("decline = %d %v", code, st)
	}
	if code := control(t, f.e, "POST", "/_emulator/pay/"+prepay+"/decline", `{"fail":true}`, &st); code != 200 || st["state"] != "PAYERROR" {
		t.Errorf("decline fail = %d %v", code, st)
	}
	if code := control(t, f.e, "POST", "/_emulator/pay/"+prepay+"/pay", "", nil); code != 409 {
		t.Errorf("pay after PAYERROR = %d, want 409", code)
	}
}

func TestPayParamsChecked(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	v2Params := func(prepay, signType, key string) map[string]string {
		p := map[string]string{"appId": testAppID, "timeStamp": "1740794400", "nonceStr": "abc", "package": "prepay_id=" + prepay, "signType": signType}
		p["paySign"] = clientV2Sign(p, key, signType)
		return p
	}
	tests := []struct {
		name    string
		v3      bool
		params  func(prepay string) map[string]string
		wantErr bool
	}{
		{"v2 MD5", false, func(p string) map[string]string { return v2Params(p, "MD5", testAPIKey) }, false},
		{"v2 HMAC-SHA256", false, func(p string) map[string]string { return v2Params(p, "HMAC-SHA256", testAPIKey) }, false},
		{"v2 other key", false, func(p string) map[string]string { return v2Params(p, "MD5", strings.Repeat("0", 32)) }, true},
		{"v2 other prepay", false, func(p string) map[string]string { return v2Params("wx123", "MD5", testAPIKey) }, true},
		{"v2 RSA", false, func(p string) map[string]string { return jsapiPayParams(t, f.mk, testAppID, p) }, true},
		{"v3 RSA", true, func(p string) map[string]string { return jsapiPayParams(t, f.mk, testAppID, p) }, false},
		{"v3 RSA other app", true, func(p string) map[string]string { return jsapiPayParams(t, f.mk, otherAppID, p) }, true},
		{"v3 RSA other key", true, func(p string) map[string]string { return jsapiPayParams(t, testRSAKeys()[1], testAppID, p) }, true},
		{"v3 MD5", true, func(p string) map[string]string { return v2Params(p, "MD5", testAPIKey) }, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			no := "PP0000000" + strconv.Itoa(i)
			var prepay string
			if tt.v3 {
				prepay = f.prepayV3(no, 10)
			} else {
				prepay = f.unifiedOrder(no, 10, nil)
			}
			b, _ := json.Marshal(Payment{PayParams: tt.params(prepay)})
			var e struct{ Error string }
			code := control(t, f.e, "POST", "/_emulator/pay/"+prepay+"/pay", string(b), &e)
			if tt.wantErr && (code != 400 || !strings.Contains(e.Error, "支付验证签名失败")) {
				t.Errorf("pay = %d %q, want 400 支付验证签名失败", code, e.Error)
			}
			if !tt.wantErr && code != 200 {
				t.Errorf("pay = %d %q, want 200", code, e.Error)
			}
		})
	}
	f.settle()
}

func TestPayV3Coupons(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.prepayV3("V3COUPON01", 1000)
	if code := control(t, f.e, "POST", "/_emulator/pay/"+prepay+"/pay", `{"coupons":[{"id":"C1","type":"NO_CASH","amount":100}],"bank_type":"CMB_CREDIT"}`, nil); code != 200 {
		t.Fatalf("pay = %d", code)
	}
	f.settle()
	_, res := f.openNotify(f.srv.received()[0])
	amount := res["amount"].(map[string]any)
	promo, _ := res["promotion_detail"].([]any)
	if amount["total"] != 1000.0 || amount["payer_total"] != 900.0 || res["bank_type"] != "CMB_CREDIT" || len(promo) != 1 {
		t.Fatalf("resource = %v", res)
	}
	p := promo[0].(map[string]any)
	if p["coupon_id"] != "C1" || p["type"] != "NOCASH" || p["amount"] != 100.0 {
		t.Errorf("promotion_detail = %v", p)
	}
}

func TestPayDemoMerchant(t *testing.T) {
	t.Parallel()
	e, err := New(DefaultConfig(), WithClock(FixedClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	var mk MerchantKey
	if code := control(t, e, "GET", "/_emulator/merchants/"+DemoMchID+"/merchant_key", "", &mk); code != 200 {
		t.Fatalf("GET merchant_key = %d", code)
	}
	blk, _ := pem.Decode([]byte(mk.PrivateKeyPEM))
	if blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatalf("private_key_pem = %q", mk.PrivateKeyPEM)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key := k.(*rsa.PrivateKey)
	cblk, _ := pem.Decode([]byte(mk.CertificatePEM))
	cert, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%X", cert.SerialNumber) != mk.SerialNo || len(mk.SerialNo) != 40 || !cert.PublicKey.(*rsa.PublicKey).Equal(&key.PublicKey) {
		t.Errorf("merchant certificate serial %X / key do not match serial_no %s", cert.SerialNumber, mk.SerialNo)
	}
	// The demo merchant is fixed across runs but for its generated keys.
	if want := deriveSerial("merchant-serial:" + DemoMchID); mk.SerialNo != want {
		t.Errorf("demo serial_no = %s, want the stable %s", mk.SerialNo, want)
	}

	user := e.Config().Apps[0].Users[0].OpenID
	body := `{"appid":"` + DemoAppID + `","mchid":"` + DemoMchID + `","description":"演示","out_trade_no":"DEMO000001",` +
		`"notify_url":"http://127.0.0.1:8080/pay/v3/notify/` + DemoMchID + `","amount":{"total":1},"payer":{"openid":"` + user + `"}}`
	req := newV3Request(t, e, key, mk.SerialNo, DemoMchID, "POST", "/v3/pay/transactions/jsapi", body)
	w := serveHTTP(e, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"prepay_id":"wx`) {
		t.Fatalf("demo jsapi prepay = %d %s", w.Code, w.Body)
	}
	pk, err := e.PlatformKey(DemoMchID)
	if err != nil || pk.PlatformMode != PlatformModePublicKey || !strings.HasPrefix(pk.PublicKeyID, "PUB_KEY_ID_01"+DemoMchID) {
		t.Errorf("demo PlatformKey = %+v, %v", pk, err)
	}
	pblk, _ := pem.Decode([]byte(pk.PublicKeyPEM))
	pub, err := x509.ParsePKIXPublicKey(pblk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := clientVerify(map[string]*rsa.PublicKey{pk.PublicKeyID: pub.(*rsa.PublicKey)}, w.Header(), w.Body.Bytes(), e.Now()); err != nil {
		t.Error(err)
	}
	// v2 with the demo API key.
	p := map[string]string{"appid": DemoAppID, "mch_id": DemoMchID, "nonce_str": "n1", "out_trade_no": "DEMO000001"}
	p["sign"] = clientV2Sign(p, DemoAPIKey, "MD5")
	w = serveHTTP(e, newRequest(t, "POST", "/pay/orderquery", clientXML(p)))
	if a := clientParseXML(t, w.Body.Bytes()); a["trade_state"] != "NOTPAY" {
		t.Errorf("demo v2 orderquery = %v", a)
	}
	info := e.Merchants()
	if len(info) != 1 || info[0].Name != "wxkit 演示商户" || !slices.Equal(info[0].AppIDs, []string{DemoAppID}) {
		t.Errorf("Merchants() = %+v", info)
	}
}

// newV3Request builds a signed v3 request.
func newV3Request(t *testing.T, e *Emulator, key *rsa.PrivateKey, serial, mchID, method, uri, body string) *http.Request {
	t.Helper()
	req := newRequest(t, method, uri, body)
	req.Header.Set("Authorization", clientAuthorization(key, mchID, serial, method, uri, strconv.FormatInt(e.Now().Unix(), 10), "nonce1", body))
	return req
}

func TestPayStatsByRoute(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	f.prepayV3("STATS00001", 1)
	f.v3("GET", "/v3/pay/transactions/out-trade-no/STATS00001?mchid="+testMchID, nil)
	f.v3("GET", "/v3/pay/transactions/out-trade-no/STATS00002?mchid="+testMchID, nil)
	st := f.e.Stats()
	got := st.Calls["/v3/pay/transactions/out-trade-no/{out_trade_no}"]
	var calls, errs int
	for _, c := range got {
		calls += c.Calls
		errs += c.Errors
	}
	if calls != 2 || errs != 1 {
		t.Errorf("calls of the query route = %+v, want 2 calls, 1 error", got)
	}
	for p := range maps.Keys(st.Calls) {
		if strings.Contains(p, "STATS0000") {
			t.Errorf("stats keyed by a concrete path %q", p)
		}
	}
	if c := st.Calls["/v3/pay/transactions/jsapi"][testAppID]; c.Calls != 1 {
		t.Errorf("jsapi calls of %s = %+v", testAppID, st.Calls["/v3/pay/transactions/jsapi"])
	}
}

func TestPayConcurrentPay(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("RACE000001", 1, nil)
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := f.e.PayOrder(prepay, Payment{})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		if <-errs == nil {
			ok++
		}
	}
	f.settle()
	if ok != 1 {
		t.Errorf("successful payments = %d, want 1", ok)
	}
	if o, _ := f.e.MerchantOrder(testMchID, "RACE000001"); len(o.Notifies) != 1 {
		t.Errorf("notifies = %d, want 1", len(o.Notifies))
	}
	if diff := cmp.Diff(1, f.e.Stats().Pay[testMchID].Paid); diff != "" {
		t.Errorf("paid count (-want +got):\n%s", diff)
	}
}

// TestPayRefundFail: PROCESSING refunds failed through the control API
// settle as CLOSED (its amount refundable again) and ABNORMAL (its amount
// still refunded), with the platform's wording in each API's query and
// notify (v2 REFUNDCLOSE and CHANGE, v3 CLOSED and ABNORMAL, no success
// time); they stay so when their delay passes, and a refund that is not
// PROCESSING cannot fail.
func TestPayRefundFail(t *testing.T) {
	for _, version := range []string{"v2", "v3"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			f := newPayFixture(t, func(m *MerchantConfig) { m.RefundDelay = time.Hour })
			no := "RF" + version + "000001"
			// refund asks for a refund of fen and reports whether the
			// platform took it.
			var refund func(outRefundNo string, fen int64) bool
			// query returns the platform's answer about a refund: its
			// status and success time.
			var query func(outRefundNo string) (status, successTime string)
			// lastNotify returns the last refund notify: its event type (v3),
			// summary (v3) and plaintext fields.
			var lastNotify func() (event, summary string, fields map[string]any)
			switch version {
			case "v2":
				f.pay(f.unifiedOrder(no, 100, nil), Payment{})
				refund = func(outRefundNo string, fen int64) bool {
					r := f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": no, "out_refund_no": outRefundNo,
						"total_fee": "100", "refund_fee": strconv.FormatInt(fen, 10), "notify_url": f.srv.URL + "/refund"})
					return r["result_code"] == "SUCCESS"
				}
				query = func(outRefundNo string) (string, string) {
					q := f.v2("/pay/refundquery", map[string]string{"out_refund_no": outRefundNo})
					return q["refund_status_0"], q["refund_success_time_0"]
				}
				lastNotify = func() (string, string, map[string]any) {
					got := f.srv.received()
					rn := clientParseXML(t, got[len(got)-1].Body)
					info := clientParseXML(t, []byte(clientECBDecrypt(t, testAPIKey, rn["req_info"])))
					out := map[string]any{}
					for k, v := range info {
						out[k] = v
					}
					return "", "", out
				}
			case "v3":
				f.srv.setAnswer(func(int, received) (int, string) { return 204, "" })
				f.pay(f.prepayV3(no, 100), Payment{})
				refund = func(outRefundNo string, fen int64) bool {
					r := f.v3("POST", "/v3/refund/domestic/refunds", map[string]any{"out_trade_no": no, "out_refund_no": outRefundNo,
						"notify_url": f.notify, "amount": map[string]any{"refund": fen, "total": 100, "currency": "CNY"}})
					return r.Status == 200
				}
				query = func(outRefundNo string) (string, string) {
					var q struct {
						Status      string `json:"status"`
						SuccessTime string `json:"success_time"`
					}
					f.v3("GET", "/v3/refund/domestic/refunds/"+outRefundNo, nil).json(t, &q)
					return q.Status, q.SuccessTime
				}
				lastNotify = func() (string, string, map[string]any) {
					got := f.srv.received()
					n, res := f.openNotify(got[len(got)-1])
					return n.EventType, n.Summary, res
				}
			}

			if !refund("RF1", 60) || !refund("RF2", 40) {
				t.Fatal("refunds of 60 and 40 fen refused")
			}
			if refund("RF3", 1) {
				t.Error("a refund beyond the amount was taken")
			}
			notifies := len(f.srv.received())

			failPath := func(outRefundNo string) string {
				return "/_emulator/merchants/" + testMchID + "/refunds/" + outRefundNo + "/fail"
			}
			var ri RefundInfo
			if code := control(t, f.e, "POST", failPath("RF1"), `{"status":"CLOSED"}`, &ri); code != 200 ||
				ri.State != "CLOSED" || ri.OutRefundNo != "RF1" || ri.Amount != 60 || ri.SuccessAt != nil {
				t.Fatalf("POST fail CLOSED = %d %+v", code, ri)
			}
			f.settle()
			wantClosed := map[string]string{"v2": "REFUNDCLOSE", "v3": "CLOSED"}[version]
			if st, at := query("RF1"); st != wantClosed || at != "" {
				t.Errorf("query of the closed refund = %q, success time %q; want %s and none", st, at, wantClosed)
			}
			if got := len(f.srv.received()); got != notifies+1 {
				t.Fatalf("notifies = %d, want %d (the closed refund's)", got, notifies+1)
			}
			event, summary, fields := lastNotify()
			if fields["out_refund_no"] != "RF1" || fields["refund_status"] != wantClosed || fields["success_time"] != nil {
				t.Errorf("notify of the closed refund = %v, want refund_status %s and no success_time", fields, wantClosed)
			}
			if version == "v3" && (event != "REFUND.CLOSED" || summary != "退款关闭") {
				t.Errorf("notify event = %s %q, want REFUND.CLOSED 退款关闭", event, summary)
			}

			// The closed refund's 60 fen may be refunded again.
			if !refund("RF4", 60) {
				t.Error("a refund of the closed refund's amount was refused")
			}

			if code := control(t, f.e, "POST", failPath("RF2"), `{"status":"ABNORMAL"}`, &ri); code != 200 || ri.State != "ABNORMAL" {
				t.Fatalf("POST fail ABNORMAL = %d %+v", code, ri)
			}
			f.settle()
			wantAbnormal := map[string]string{"v2": "CHANGE", "v3": "ABNORMAL"}[version]
			if st, at := query("RF2"); st != wantAbnormal || at != "" {
				t.Errorf("query of the abnormal refund = %q, success time %q; want %s and none", st, at, wantAbnormal)
			}
			event, summary, fields = lastNotify()
			if fields["out_refund_no"] != "RF2" || fields["refund_status"] != wantAbnormal || fields["success_time"] != nil {
				t.Errorf("notify of the abnormal refund = %v, want refund_status %s", fields, wantAbnormal)
			}
			if version == "v3" && (event != "REFUND.ABNORMAL" || summary != "退款异常") {
				t.Errorf("notify event = %s %q, want REFUND.ABNORMAL 退款异常", event, summary)
			}
			// The abnormal refund's 40 fen are still refunded.
			if refund("RF5", 1) {
				t.Error("a refund beyond the amount left (the abnormal refund's counts) was taken")
			}

			for _, c := range []struct {
				path, body string
				want       int
			}{
				{failPath("RF1"), `{"status":"ABNORMAL"}`, 409},
				{failPath("RF4"), `{"status":"SUCCESS"}`, 400},
				{failPath("NOPE"), ``, 404},
				{"/_emulator/merchants/999/refunds/RF4/fail", ``, 404},
				{failPath("RF4"), `{"state":"CLOSED"}`, 400},
			} {
				if code := control(t, f.e, "POST", c.path, c.body, nil); code != c.want {
					t.Errorf("POST %s %s = %d, want %d", c.path, c.body, code, c.want)
				}
			}

			// The delay passes: RF4 succeeds, the failed ones stay failed.
			f.advance(time.Hour)
			info, err := f.e.MerchantOrder(testMchID, no)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range info.Refunds {
				got[r.OutRefundNo] = r.State
			}
			if d := cmp.Diff(map[string]string{"RF1": "CLOSED", "RF2": "ABNORMAL", "RF4": "SUCCESS"}, got); d != "" {
				t.Errorf("refunds after the delay (-want +got):\n%s", d)
			}
			if info.Refunded != 100 || info.State != TradeStateRefund {
				t.Errorf("order = %s with %d refunded, want REFUND with 100 (RF2 and RF4)", info.State, info.Refunded)
			}
			if st, _ := query("RF1"); st != wantClosed {
				t.Errorf("closed refund after the delay = %s", st)
			}
		})
	}
}
