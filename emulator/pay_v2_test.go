package emulator

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPayV2HappyPath(t *testing.T) {
	t.Parallel()
	for _, signType := range []string{"", "MD5", "HMAC-SHA256"} {
		t.Run("sign_type "+signType, func(t *testing.T) {
			t.Parallel()
			f := newPayFixture(t, nil)
			extra := map[string]string{"sign_type": signType, "attach": "附加数据"}
			prepay := f.unifiedOrder("V2ORDER001", 888, extra)
			if !regexp.MustCompile(`^wx20250301100000[0-9a-f]{20}$`).MatchString(prepay) {
				t.Errorf("prepay_id = %q, want wx + yyyyMMddHHmmss + 20 hex", prepay)
			}
			q := f.v2("/pay/orderquery", map[string]string{"out_trade_no": "V2ORDER001", "sign_type": signType})
			if q["trade_state"] != "NOTPAY" || q["trade_state_desc"] != "订单未支付" || q["total_fee"] != "888" {
				t.Errorf("orderquery before pay = %v", q)
			}

			txn := f.pay(prepay, Payment{})
			if !regexp.MustCompile(`^4200\d{24}$`).MatchString(txn) {
				t.Errorf("transaction_id = %q, want 28 digits starting 4200", txn)
			}
			got := f.srv.received()
			if len(got) != 1 {
				t.Fatalf("notifies received = %d, want 1", len(got))
			}
			n := clientParseXML(t, got[0].Body)
			st := signType
			if st == "" {
				st = "MD5"
			}
			if clientV2Sign(n, testAPIKey, st) != n["sign"] {
				t.Errorf("notify sign does not verify (%s): %s", st, got[0].Body)
			}
			want := map[string]string{
				"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": testAppID, "mch_id": testMchID,
				"openid": testOpenID, "is_subscribe": "Y", "trade_type": "JSAPI", "bank_type": "OTHERS",
				"total_fee": "888", "cash_fee": "888", "fee_type": "CNY", "transaction_id": txn,
				"out_trade_no": "V2ORDER001", "attach": "附加数据", "time_end": "20250301100000",
			}
			if signType == "HMAC-SHA256" {
				want["sign_type"] = "HMAC-SHA256"
			}
			for k, v := range want {
				if n[k] != v {
					t.Errorf("notify %s = %q, want %q", k, n[k], v)
				}
			}
			if ct := got[0].Header.Get("Content-Type"); !strings.Contains(ct, "xml") {
				t.Errorf("notify Content-Type = %q", ct)
			}

			q = f.v2("/pay/orderquery", map[string]string{"transaction_id": txn, "sign_type": signType})
			if q["trade_state"] != "SUCCESS" || q["transaction_id"] != txn || q["openid"] != testOpenID || q["time_end"] == "" {
				t.Errorf("orderquery after pay = %v", q)
			}

			r := f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "V2ORDER001", "out_refund_no": "R001",
				"total_fee": "888", "refund_fee": "300", "notify_url": f.srv.URL + "/pay/refund/notify", "sign_type": signType})
			if r["result_code"] != "SUCCESS" || r["refund_fee"] != "300" || r["transaction_id"] != txn ||
				!regexp.MustCompile(`^503\d{26}$`).MatchString(r["refund_id"]) {
				t.Fatalf("refund = %v", r)
			}
			f.settle()
			rq := f.v2("/pay/refundquery", map[string]string{"out_trade_no": "V2ORDER001", "sign_type": signType})
			if rq["refund_count"] != "1" || rq["refund_status_0"] != "SUCCESS" || rq["out_refund_no_0"] != "R001" ||
				rq["refund_fee_0"] != "300" || rq["refund_success_time_0"] != "2025-03-01 10:00:00" {
				t.Errorf("refundquery = %v", rq)
			}
			q = f.v2("/pay/orderquery", map[string]string{"out_trade_no": "V2ORDER001", "sign_type": signType})
			if q["trade_state"] != "REFUND" {
				t.Errorf("trade_state after refund = %q, want REFUND", q["trade_state"])
			}

			got = f.srv.received()
			if len(got) != 2 {
				t.Fatalf("notifies received = %d, want 2 (pay, refund)", len(got))
			}
			rn := clientParseXML(t, got[1].Body)
			if rn["return_code"] != "SUCCESS" || rn["appid"] != testAppID || rn["mch_id"] != testMchID || rn["sign"] != "" {
				t.Errorf("refund notify = %v (it carries no sign)", rn)
			}
			info := clientParseXML(t, []byte(clientECBDecrypt(t, testAPIKey, rn["req_info"])))
			for k, v := range map[string]string{"out_refund_no": "R001", "out_trade_no": "V2ORDER001", "refund_fee": "300",
				"total_fee": "888", "refund_status": "SUCCESS", "transaction_id": txn, "refund_id": r["refund_id"],
				"success_time": "2025-03-01 10:00:00"} {
				if info[k] != v {
					t.Errorf("req_info %s = %q, want %q", k, info[k], v)
				}
			}
		})
	}
}

func TestPayV2Authentication(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	good := map[string]string{"out_trade_no": "X"}
	tests := []struct {
		name string
		body func() string
		want string // return_msg
	}{
		{"empty body", func() string { return "" }, "post数据为空"},
		{"not XML", func() string { return "{\"appid\":1}" }, "XML格式错误"},
		{"unknown mch_id", func() string {
			p := map[string]string{"appid": testAppID, "mch_id": "999", "nonce_str": "n", "out_trade_no": "X"}
			p["sign"] = clientV2Sign(p, testAPIKey, "MD5")
			return clientXML(p)
		}, "商户号mch_id不存在"},
		{"bad sign", func() string {
			p := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n", "out_trade_no": "X"}
			p["sign"] = clientV2Sign(p, "ffffffffffffffffffffffffffffffff", "MD5")
			return clientXML(p)
		}, "签名错误，请检查后再试"},
		{"sign of other fields", func() string {
			p := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n", "out_trade_no": "X"}
			p["sign"] = clientV2Sign(p, testAPIKey, "MD5")
			p["attach"] = "added after signing"
			return clientXML(p)
		}, "签名错误，请检查后再试"},
		{"MD5 sign declared HMAC-SHA256", func() string {
			p := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n", "sign_type": "HMAC-SHA256"}
			p["sign"] = clientV2Sign(p, testAPIKey, "MD5")
			return clientXML(p)
		}, "签名错误，请检查后再试"},
		{"unknown sign_type", func() string {
			p := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n", "sign_type": "RSA"}
			p["sign"] = clientV2Sign(p, testAPIKey, "MD5")
			return clientXML(p)
		}, "sign_type参数格式错误"},
		{"missing sign", func() string {
			return clientXML(map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n"})
		}, "签名错误，请检查后再试"},
		{"appid not bound", func() string {
			p := map[string]string{"appid": otherAppID, "mch_id": testMchID, "nonce_str": "n", "out_trade_no": "X"}
			p["sign"] = clientV2Sign(p, testAPIKey, "MD5")
			return clientXML(p)
		}, "appid和mch_id不匹配"},
	}
	for _, path := range []string{"/pay/unifiedorder", "/pay/orderquery", "/pay/closeorder", "/secapi/pay/refund", "/pay/refundquery"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				a := f.v2Raw(path, tt.body(), "MD5")
				if diff := cmp.Diff(map[string]string{"return_code": "FAIL", "return_msg": tt.want}, a); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			})
		}
	}
	// Sanity: the same request signed right is accepted.
	if a := f.v2("/pay/orderquery", good); a["return_code"] != "SUCCESS" {
		t.Errorf("signed orderquery = %v", a)
	}
	if n := f.e.Stats().Count("/pay/orderquery", testAppID); n.Errors == 0 || n.Calls < 2 {
		t.Errorf("stats of /pay/orderquery = %+v, want calls and errors counted", n)
	}
}

func TestPayV2GETRefused(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	w := call0(t, f.e, "GET", "/pay/unifiedorder")
	if a := clientParseXML(t, w); a["return_code"] != "FAIL" || a["return_msg"] != "请使用post方法" {
		t.Errorf("GET = %v", a)
	}
}

func TestPayV2UnifiedOrderErrors(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	base := func() map[string]string {
		return map[string]string{"body": "b", "out_trade_no": "E1", "total_fee": "1", "spbill_create_ip": "10.0.0.1",
			"notify_url": f.notify, "trade_type": "JSAPI", "openid": testOpenID}
	}
	tests := []struct {
		name    string
		change  map[string]string
		errCode string
		errDes  string
	}{
		{"no body", map[string]string{"body": "-"}, "LACK_PARAMS", "缺少参数body"},
		{"no notify_url", map[string]string{"notify_url": "-"}, "LACK_PARAMS", "缺少参数notify_url"},
		{"JSAPI without openid", map[string]string{"openid": "-"}, "PARAM_ERROR", "JSAPI支付必须传openid"},
		{"openid of another app", map[string]string{"openid": "oSomeoneElse"}, "PARAM_ERROR", "appid和openid不匹配"},
		{"zero total_fee", map[string]string{"total_fee": "0"}, "PARAM_ERROR", "invalid total_fee"},
		{"yuan total_fee", map[string]string{"total_fee": "0.01"}, "PARAM_ERROR", "invalid total_fee"},
		{"bad ip", map[string]string{"spbill_create_ip": "localhost"}, "PARAM_ERROR", "invalid spbill_create_ip"},
		{"notify_url with query", map[string]string{"notify_url": f.notify + "?a=1"}, "PARAM_ERROR", "notify_url参数格式错误"},
		{"bad trade_type", map[string]string{"trade_type": "MICROPAY"}, "PARAM_ERROR", "trade_type参数格式错误"},
		{"long out_trade_no", map[string]string{"out_trade_no": strings.Repeat("1", 33)}, "PARAM_ERROR", "out_trade_no参数长度有误或含非法字符"},
		{"body too long", map[string]string{"body": strings.Repeat("长", 43)}, "PARAM_ERROR", "body参数长度有误"},
		{"time_expire too soon", map[string]string{"time_expire": "20250301100100"}, "PARAM_ERROR", "time_expire时间过短，刷卡至少1分钟，其他5分钟"},
		{"time_expire bad", map[string]string{"time_expire": "2025-03-01"}, "PARAM_ERROR", "time_expire时间格式错误"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			for k, v := range tt.change {
				p[k] = v
			}
			a := f.v2("/pay/unifiedorder", p)
			if a["return_code"] != "SUCCESS" || a["result_code"] != "FAIL" || a["err_code"] != tt.errCode || a["err_code_des"] != tt.errDes {
				t.Errorf("answer = %v, want result_code FAIL %s %q", a, tt.errCode, tt.errDes)
			}
			if a["prepay_id"] != "" {
				t.Errorf("prepay_id %q in a failed answer", a["prepay_id"])
			}
		})
	}
}

func TestPayV2OrderLifecycleErrors(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	order := func(no string, amount string) map[string]string {
		return map[string]string{"body": "b", "out_trade_no": no, "total_fee": amount, "spbill_create_ip": "10.0.0.1",
			"notify_url": f.notify, "trade_type": "JSAPI", "openid": testOpenID}
	}
	fail := func(t *testing.T, a map[string]string, code string) {
		t.Helper()
		if a["return_code"] != "SUCCESS" || a["result_code"] != "FAIL" || a["err_code"] != code {
			t.Errorf("answer = %v, want err_code %s", a, code)
		}
	}
	t.Run("idempotent unifiedorder", func(t *testing.T) {
		a := f.v2("/pay/unifiedorder", order("L1", "100"))
		b := f.v2("/pay/unifiedorder", order("L1", "100"))
		if a["prepay_id"] == "" || a["prepay_id"] != b["prepay_id"] {
			t.Errorf("prepay_ids %q, %q: want the same", a["prepay_id"], b["prepay_id"])
		}
		c := f.v2("/pay/unifiedorder", order("L1", "101"))
		fail(t, c, "INVALID_REQUEST")
		if c["err_code_des"] != "201 商户订单号重复" {
			t.Errorf("err_code_des = %q", c["err_code_des"])
		}
	})
	t.Run("paid order", func(t *testing.T) {
		prepay := f.v2("/pay/unifiedorder", order("L2", "100"))["prepay_id"]
		f.pay(prepay, Payment{})
		fail(t, f.v2("/pay/unifiedorder", order("L2", "100")), "ORDERPAID")
		fail(t, f.v2("/pay/closeorder", map[string]string{"out_trade_no": "L2"}), "ORDERPAID")
	})
	t.Run("closed order", func(t *testing.T) {
		prepay := f.v2("/pay/unifiedorder", order("L3", "100"))["prepay_id"]
		if a := f.v2("/pay/closeorder", map[string]string{"out_trade_no": "L3"}); a["result_code"] != "SUCCESS" {
			t.Fatalf("closeorder = %v", a)
		}
		fail(t, f.v2("/pay/closeorder", map[string]string{"out_trade_no": "L3"}), "ORDERCLOSED")
		fail(t, f.v2("/pay/unifiedorder", order("L3", "100")), "ORDERCLOSED")
		if q := f.v2("/pay/orderquery", map[string]string{"out_trade_no": "L3"}); q["trade_state"] != "CLOSED" {
			t.Errorf("trade_state = %q, want CLOSED", q["trade_state"])
		}
		if _, err := f.e.PayOrder(prepay, Payment{}); err == nil {
			t.Error("PayOrder of a closed order succeeded")
		}
	})
	t.Run("unknown order", func(t *testing.T) {
		fail(t, f.v2("/pay/orderquery", map[string]string{"out_trade_no": "NOPE"}), "ORDERNOTEXIST")
		fail(t, f.v2("/pay/orderquery", map[string]string{"out_trade_no": "-"}), "LACK_PARAMS")
		fail(t, f.v2("/pay/refundquery", map[string]string{"out_refund_no": "NOPE"}), "REFUNDNOTEXIST")
		fail(t, f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "NOPE", "out_refund_no": "R",
			"total_fee": "1", "refund_fee": "1"}), "ORDERNOTEXIST")
		// As on the platform, closing an unknown order number succeeds.
		if a := f.v2("/pay/closeorder", map[string]string{"out_trade_no": "NOPE"}); a["result_code"] != "SUCCESS" {
			t.Errorf("closeorder of an unknown order = %v", a)
		}
	})
	t.Run("prepay_id renewed after 2h", func(t *testing.T) {
		a := f.v2("/pay/unifiedorder", order("L4", "100"))
		advance(t, f.e, 2*time.Hour)
		if _, err := f.e.PayOrder(a["prepay_id"], Payment{}); err == nil {
			t.Error("PayOrder with a 2h-old prepay_id succeeded")
		}
		b := f.v2("/pay/unifiedorder", order("L4", "100"))
		if b["prepay_id"] == "" || b["prepay_id"] == a["prepay_id"] {
			t.Errorf("prepay_id after 2h = %q, want a new one (was %q)", b["prepay_id"], a["prepay_id"])
		}
		f.pay(b["prepay_id"], Payment{})
	})
	t.Run("refunds", func(t *testing.T) {
		prepay := f.v2("/pay/unifiedorder", order("L5", "100"))["prepay_id"]
		refund := func(no, total, fee string) map[string]string {
			return f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "L5", "out_refund_no": no, "total_fee": total, "refund_fee": fee})
		}
		fail(t, refund("RN0", "100", "10"), "TRADE_STATE_ERROR")
		f.pay(prepay, Payment{})
		if a := refund("RN1", "100", "60"); a["result_code"] != "SUCCESS" {
			t.Fatalf("refund 60 = %v", a)
		}
		again := refund("RN1", "100", "60")
		if again["result_code"] != "SUCCESS" {
			t.Errorf("the same refund again = %v, want SUCCESS", again)
		}
		fail(t, refund("RN1", "100", "61"), "INVALID_REQUEST")
		over := refund("RN2", "100", "41")
		fail(t, over, "INVALID_REQUEST")
		if over["err_code_des"] != "refund_fee大于可退金额" {
			t.Errorf("err_code_des = %q", over["err_code_des"])
		}
		fail(t, refund("RN3", "99", "1"), "INVALID_REQUEST")
		if a := refund("RN4", "100", "40"); a["result_code"] != "SUCCESS" {
			t.Errorf("refund of the rest = %v", a)
		}
		f.settle()
		q := f.v2("/pay/refundquery", map[string]string{"out_trade_no": "L5"})
		if q["refund_count"] != "2" || q["out_refund_no_0"] != "RN1" || q["out_refund_no_1"] != "RN4" {
			t.Errorf("refundquery = %v", q)
		}
		one := f.v2("/pay/refundquery", map[string]string{"refund_id": q["refund_id_1"]})
		if one["refund_count"] != "1" || one["out_refund_no_0"] != "RN4" || one["total_refund_count"] != "2" {
			t.Errorf("refundquery by refund_id = %v", one)
		}
	})
}

func TestPayV2NativeAndMWEB(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	a := f.v2("/pay/unifiedorder", map[string]string{"body": "b", "out_trade_no": "N1", "total_fee": "5",
		"spbill_create_ip": "10.0.0.1", "notify_url": f.notify, "trade_type": "NATIVE", "product_id": "P1"})
	if a["trade_type"] != "NATIVE" || !regexp.MustCompile(`^weixin://wxpay/bizpayurl\?pr=\w{7}$`).MatchString(a["code_url"]) {
		t.Errorf("NATIVE unifiedorder = %v", a)
	}
	// A Native order is paid by whoever scans: the app's first user by default.
	txn := f.pay(a["prepay_id"], Payment{})
	if o, _ := f.e.MerchantOrder(testMchID, "N1"); o.OpenID != testOpenID || o.TransactionID != txn {
		t.Errorf("paid Native order = %+v", o)
	}
	m := f.v2("/pay/unifiedorder", map[string]string{"body": "b", "out_trade_no": "M1", "total_fee": "5",
		"spbill_create_ip": "10.0.0.1", "notify_url": f.notify, "trade_type": "MWEB"})
	if !strings.HasPrefix(m["mweb_url"], "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id="+m["prepay_id"]) {
		t.Errorf("MWEB unifiedorder = %v", m)
	}
}

func TestPayV2Coupons(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("C1", 1000, nil)
	f.pay(prepay, Payment{Coupons: []Coupon{{ID: "10000", Amount: 100}, {ID: "10001", Type: "NO_CASH", Amount: 200}}})
	got := f.srv.received()
	n := clientParseXML(t, got[0].Body)
	want := map[string]string{"total_fee": "1000", "cash_fee": "700", "coupon_fee": "300", "coupon_count": "2",
		"coupon_id_0": "10000", "coupon_type_0": "CASH", "coupon_fee_0": "100",
		"coupon_id_1": "10001", "coupon_type_1": "NO_CASH", "coupon_fee_1": "200"}
	for k, v := range want {
		if n[k] != v {
			t.Errorf("notify %s = %q, want %q", k, n[k], v)
		}
	}
	// The sign covers the coupon fields: dropping them breaks it.
	if clientV2Sign(n, testAPIKey, "MD5") != n["sign"] {
		t.Fatal("notify sign does not verify")
	}
	without := map[string]string{}
	for k, v := range n {
		if !strings.HasPrefix(k, "coupon_") {
			without[k] = v
		}
	}
	if clientV2Sign(without, testAPIKey, "MD5") == n["sign"] {
		t.Error("the sign does not cover the coupon fields")
	}
	q := f.v2("/pay/orderquery", map[string]string{"out_trade_no": "C1"})
	if q["coupon_fee"] != "300" || q["coupon_id_1"] != "10001" || q["cash_fee"] != "700" {
		t.Errorf("orderquery coupons = %v", q)
	}
	// A refund gives back the coupon share pro rata.
	r := f.v2("/secapi/pay/refund", map[string]string{"out_trade_no": "C1", "out_refund_no": "CR1", "total_fee": "1000", "refund_fee": "500"})
	if r["cash_refund_fee"] != "350" || r["coupon_refund_fee"] != "150" {
		t.Errorf("refund with coupons = %v", r)
	}
}

func TestPayV2DeclineAndPayError(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("D1", 10, nil)
	if st, err := f.e.DeclinePayment(prepay, false); err != nil || st != TradeStateNotPay {
		t.Fatalf("DeclinePayment(cancel) = %s, %v", st, err)
	}
	if st, err := f.e.DeclinePayment(prepay, true); err != nil || st != TradeStatePayError {
		t.Fatalf("DeclinePayment(fail) = %s, %v", st, err)
	}
	q := f.v2("/pay/orderquery", map[string]string{"out_trade_no": "D1"})
	if q["trade_state"] != "PAYERROR" || q["trade_state_desc"] != "支付失败，请重新下单支付" {
		t.Errorf("orderquery = %v", q)
	}
	if _, err := f.e.PayOrder(prepay, Payment{}); err == nil {
		t.Error("a PAYERROR order was paid")
	}
	if a := f.v2("/pay/closeorder", map[string]string{"out_trade_no": "D1"}); a["result_code"] != "SUCCESS" {
		t.Errorf("closeorder of a PAYERROR order = %v", a)
	}
	if len(f.srv.received()) != 0 {
		t.Error("a notify was sent for an unpaid order")
	}
}

// call0 serves one request without a body in-process and returns the answer's body.
func call0(t *testing.T, e *Emulator, method, target string) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), method, target, nil))
	return w.Body.Bytes()
}
