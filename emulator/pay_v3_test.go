package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// jsapiBody is a v3 JSAPI prepay request.
func jsapiBody(f *payFixture, outTradeNo string, total int64) map[string]any {
	return map[string]any{
		"appid": testAppID, "mchid": testMchID, "description": "Image形象店-深圳腾大-QQ公仔", "out_trade_no": outTradeNo,
		"notify_url": f.notify, "amount": map[string]any{"total": total, "currency": "CNY"},
		"payer": map[string]any{"openid": testOpenID},
	}
}

// prepayV3 places a v3 JSAPI order and returns its prepay_id.
func (f *payFixture) prepayV3(outTradeNo string, total int64) string {
	f.t.Helper()
	r := f.v3("POST", "/v3/pay/transactions/jsapi", jsapiBody(f, outTradeNo, total))
	var out struct {
		PrepayID string `json:"prepay_id"`
	}
	if r.Status != 200 {
		f.t.Fatalf("jsapi prepay %s: %d %s", outTradeNo, r.Status, r.Body)
	}
	r.json(f.t, &out)
	return out.PrepayID
}

// jsapiPayParams are the front-end parameters of a v3 JSAPI payment, signed
// with the merchant key as the merchant's server makes them.
func jsapiPayParams(t *testing.T, key *rsa.PrivateKey, appID, prepayID string) map[string]string {
	t.Helper()
	p := map[string]string{"appId": appID, "timeStamp": "1740794400", "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
		"package": "prepay_id=" + prepayID, "signType": "RSA"}
	msg := p["appId"] + "\n" + p["timeStamp"] + "\n" + p["nonceStr"] + "\n" + p["package"] + "\n"
	sum := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	p["paySign"] = base64.StdEncoding.EncodeToString(sig)
	return p
}

// openNotify verifies a v3 notify as the merchant does and returns the
// envelope and the decrypted resource.
func (f *payFixture) openNotify(rc received) (v3Notify, map[string]any) {
	f.t.Helper()
	if err := clientVerify(f.platformKeys(), rc.Header, rc.Body, f.e.Now()); err != nil {
		f.t.Fatalf("notify signature: %v", err)
	}
	var n v3Notify
	if err := json.Unmarshal(rc.Body, &n); err != nil {
		f.t.Fatalf("notify body: %v: %s", err, rc.Body)
	}
	plain := clientGCMOpen(f.t, testAPIv3Key, n.Resource.Nonce, n.Resource.AssociatedData, n.Resource.Ciphertext)
	var res map[string]any
	if err := json.Unmarshal(plain, &res); err != nil {
		f.t.Fatal(err)
	}
	return n, res
}

func TestPayV3HappyPath(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	f.srv.setAnswer(func(int, received) (int, string) { return 204, "" })
	prepay := f.prepayV3("V3ORDER0001", 100)
	if !regexp.MustCompile(`^wx20250301100000[0-9a-f]{20}$`).MatchString(prepay) {
		t.Errorf("prepay_id = %q", prepay)
	}
	if again := f.prepayV3("V3ORDER0001", 100); again != prepay {
		t.Errorf("same order again: prepay_id %q, want %q", again, prepay)
	}
	var q map[string]any
	r := f.v3("GET", "/v3/pay/transactions/out-trade-no/V3ORDER0001?mchid="+testMchID, nil)
	r.json(t, &q)
	if r.Status != 200 || q["trade_state"] != "NOTPAY" || q["trade_state_desc"] != "订单未支付" {
		t.Errorf("query before pay = %d %s", r.Status, r.Body)
	}

	txn, err := f.e.PayOrder(prepay, Payment{PayParams: jsapiPayParams(t, f.mk, testAppID, prepay)})
	if err != nil {
		t.Fatalf("PayOrder = %v", err)
	}
	f.settle()
	got := f.srv.received()
	if len(got) != 1 {
		t.Fatalf("notifies = %d, want 1", len(got))
	}
	n, res := f.openNotify(got[0])
	if n.EventType != "TRANSACTION.SUCCESS" || n.ResourceType != "encrypt-resource" || n.Summary != "支付成功" ||
		n.Resource.Algorithm != "AEAD_AES_256_GCM" || n.Resource.OriginalType != "transaction" ||
		n.Resource.AssociatedData != "transaction" || len(n.Resource.Nonce) != 12 || n.CreateTime != "2025-03-01T10:00:00+08:00" ||
		!regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(n.ID) {
		t.Errorf("notify envelope = %+v", n)
	}
	want := map[string]any{
		"appid": testAppID, "mchid": testMchID, "out_trade_no": "V3ORDER0001", "transaction_id": txn, "trade_type": "JSAPI",
		"trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
		"success_time": "2025-03-01T10:00:00+08:00", "payer": map[string]any{"openid": testOpenID},
		"amount": map[string]any{"total": 100.0, "payer_total": 100.0, "currency": "CNY", "payer_currency": "CNY"},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("notify resource (-want +got):\n%s", diff)
	}
	if ct := got[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("notify Content-Type = %q", ct)
	}

	var byID map[string]any
	r = f.v3("GET", "/v3/pay/transactions/id/"+txn+"?mchid="+testMchID, nil)
	r.json(t, &byID)
	if diff := cmp.Diff(want, byID); r.Status != 200 || diff != "" {
		t.Errorf("query by id: %d (-want +got):\n%s", r.Status, diff)
	}
	if r := f.v3("POST", "/v3/pay/transactions/out-trade-no/V3ORDER0001/close", map[string]string{"mchid": testMchID}); r.Status != 403 {
		t.Errorf("close a paid order: %d %s, want 403 ORDERPAID", r.Status, r.Body)
	} else if code, _ := r.code(t); code != "ORDERPAID" {
		t.Errorf("close a paid order: code %s", code)
	}

	r = f.v3("POST", "/v3/refund/domestic/refunds", map[string]any{
		"out_trade_no": "V3ORDER0001", "out_refund_no": "V3REFUND01", "reason": "不想要了", "notify_url": f.srv.URL + "/pay/v3/notify",
		"amount": map[string]any{"refund": 40, "total": 100, "currency": "CNY"},
	})
	var rf map[string]any
	r.json(t, &rf)
	if r.Status != 200 || rf["status"] != "PROCESSING" || rf["out_refund_no"] != "V3REFUND01" || rf["transaction_id"] != txn ||
		!regexp.MustCompile(`^503\d{26}$`).MatchString(fmt.Sprint(rf["refund_id"])) {
		t.Fatalf("refund = %d %s", r.Status, r.Body)
	}
	f.settle()
	r = f.v3("GET", "/v3/refund/domestic/refunds/V3REFUND01", nil)
	var rq map[string]any
	r.json(t, &rq)
	if r.Status != 200 || rq["status"] != "SUCCESS" || rq["success_time"] != "2025-03-01T10:00:00+08:00" {
		t.Errorf("refund query = %d %s", r.Status, r.Body)
	}
	got = f.srv.received()
	if len(got) != 2 {
		t.Fatalf("notifies = %d, want 2 (pay, refund)", len(got))
	}
	n, res = f.openNotify(got[1])
	if n.EventType != "REFUND.SUCCESS" || n.Resource.OriginalType != "refund" || n.Summary != "退款成功" {
		t.Errorf("refund notify = %+v", n)
	}
	wantRefund := map[string]any{
		"mchid": testMchID, "transaction_id": txn, "out_trade_no": "V3ORDER0001", "refund_id": rf["refund_id"],
		"out_refund_no": "V3REFUND01", "refund_status": "SUCCESS", "success_time": "2025-03-01T10:00:00+08:00",
		"user_received_account": "支付用户零钱",
		"amount":                map[string]any{"total": 100.0, "refund": 40.0, "payer_total": 100.0, "payer_refund": 40.0},
	}
	if diff := cmp.Diff(wantRefund, res); diff != "" {
		t.Errorf("refund notify resource (-want +got):\n%s", diff)
	}
	o, err := f.e.MerchantOrder(testMchID, "V3ORDER0001")
	if err != nil || o.State != TradeStateRefund || o.Refunded != 40 || len(o.Notifies) != 2 || !o.Notifies[1].Acknowledged {
		t.Errorf("MerchantOrder = %+v, %v", o, err)
	}
}

func TestPayV3Native(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	body := jsapiBody(f, "NATIVE0001", 1)
	delete(body, "payer")
	r := f.v3("POST", "/v3/pay/transactions/native", body)
	var out map[string]string
	r.json(t, &out)
	if r.Status != 200 || !regexp.MustCompile(`^weixin://wxpay/bizpayurl\?pr=\w{7}$`).MatchString(out["code_url"]) || len(out) != 1 {
		t.Errorf("native prepay = %d %s", r.Status, r.Body)
	}
}

func TestPayV3Authorization(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	uri := "/v3/pay/transactions/out-trade-no/NOPE0001?mchid=" + testMchID
	now := f.e.Now().Unix()
	ts := func(d time.Duration) string { return strconv.FormatInt(now+int64(d/time.Second), 10) }
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"no header", "", 401, "SIGN_ERROR", "Http头缺少Authorization"},
		{"garbage", "Bearer xyz", 401, "SIGN_ERROR", "Http头Authorization格式错误"},
		{"other scheme", strings.Replace(clientAuthorization(f.mk, testMchID, testSerial, "GET", uri, ts(0), "n1", ""),
			"WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA", 1), 401, "SIGN_ERROR", "错误的签名方式WECHATPAY2-SHA256-RSA，请使用WECHATPAY2-SHA256-RSA2048"},
		{"unknown mchid", clientAuthorization(f.mk, "1900000000", testSerial, "GET", uri, ts(0), "n1", ""), 400, "MCH_NOT_EXISTS", "商户号不存在"},
		{"other serial", clientAuthorization(f.mk, testMchID, "1234ABCD", "GET", uri, ts(0), "n1", ""), 401, "SIGN_ERROR",
			"商户证书序列号有误。请使用签名私钥匹配的证书序列号"},
		{"timestamp 6 minutes old", clientAuthorization(f.mk, testMchID, testSerial, "GET", uri, ts(-6*time.Minute), "n1", ""), 401, "SIGN_ERROR",
			"Http头Authorization中的timestamp与系统时间相差过大"},
		{"timestamp 6 minutes ahead", clientAuthorization(f.mk, testMchID, testSerial, "GET", uri, ts(6*time.Minute), "n1", ""), 401, "SIGN_ERROR",
			"Http头Authorization中的timestamp与系统时间相差过大"},
		{"signed by another key", clientAuthorization(other, testMchID, testSerial, "GET", uri, ts(0), "n1", ""), 401, "SIGN_ERROR", "签名错误，请检查后再试"},
		{"signed another URL", clientAuthorization(f.mk, testMchID, testSerial, "GET", "/v3/pay/transactions/out-trade-no/NOPE0001", ts(0), "n1", ""),
			401, "SIGN_ERROR", "签名错误，请检查后再试"},
		{"signed another method", clientAuthorization(f.mk, testMchID, testSerial, "POST", uri, ts(0), "n1", ""), 401, "SIGN_ERROR", "签名错误，请检查后再试"},
		{"no nonce", strings.Replace(clientAuthorization(f.mk, testMchID, testSerial, "GET", uri, ts(0), "n1", ""), `nonce_str="n1"`, `nonce_str=""`, 1),
			401, "SIGN_ERROR", "Http头Authorization中缺少nonce_str"},
		{"lower-case serial, 4m59s old", clientAuthorization(f.mk, testMchID, strings.ToLower(testSerial), "GET", uri, ts(-299*time.Second), "n1", ""),
			404, "ORDER_NOT_EXIST", "订单不存在"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.v3With("GET", uri, nil, func(r *http.Request, _ string) {
				if tt.header != "" {
					r.Header.Set("Authorization", tt.header)
				}
			})
			code, msg := r.code(t)
			if r.Status != tt.wantStatus || code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("answer = %d %s %q, want %d %s %q", r.Status, code, msg, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
		})
	}
	t.Run("body signed differently", func(t *testing.T) {
		body := `{"mchid":"` + testMchID + `"}`
		r := f.v3With("POST", "/v3/pay/transactions/out-trade-no/NOPE0001/close", body, func(r *http.Request, _ string) {
			r.Header.Set("Authorization", clientAuthorization(f.mk, testMchID, testSerial, "POST",
				"/v3/pay/transactions/out-trade-no/NOPE0001/close", ts(0), "n2", `{"mchid":"1"}`))
		})
		var e struct {
			Code   string
			Detail struct {
				SignInformation struct {
					TruncatedSignMessage string `json:"truncated_sign_message"`
				} `json:"sign_information"`
			}
		}
		r.json(t, &e)
		wantMsg := "POST\n/v3/pay/transactions/out-trade-no/NOPE0001/close\n" + ts(0) + "\nn2\n" + body + "\n"
		if r.Status != 401 || e.Code != "SIGN_ERROR" || e.Detail.SignInformation.TruncatedSignMessage != wantMsg {
			t.Errorf("answer = %d %s", r.Status, r.Body)
		}
	})
}

func TestPayV3Errors(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	paid := f.prepayV3("PAID000001", 100)
	f.pay(paid, Payment{})
	f.prepayV3("CLOSED0001", 100)
	if r := f.v3("POST", "/v3/pay/transactions/out-trade-no/CLOSED0001/close", map[string]string{"mchid": testMchID}); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("close = %d %s, want 204 and no body", r.Status, r.Body)
	}
	f.prepayV3("OPEN000001", 100)
	with := func(change func(map[string]any)) map[string]any {
		b := jsapiBody(f, "NEW0000001", 100)
		change(b)
		return b
	}
	refund := func(no, out string, refund, total int64) map[string]any {
		return map[string]any{"out_trade_no": no, "out_refund_no": out, "amount": map[string]any{"refund": refund, "total": total, "currency": "CNY"}}
	}
	tests := []struct {
		name         string
		method, uri  string
		body         any
		status       int
		code, prefix string // prefix of the message
	}{
		{"missing description", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { delete(b, "description") }),
			400, "PARAM_ERROR", "输入源“/body/description”映射到值字段“商品描述”必填性规则校验失败，此字段为必填项"},
		{"missing payer", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { delete(b, "payer") }),
			400, "PARAM_ERROR", "输入源“/body/payer”映射到值字段“支付者”必填性规则校验失败"},
		{"missing amount.total", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["amount"] = map[string]any{} }),
			400, "PARAM_ERROR", "输入源“/body/amount/total”映射到值字段“总金额”必填性规则校验失败"},
		{"unknown field", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["total_fee"] = 1 }),
			400, "PARAM_ERROR", "请求中含有未在API文档中定义的参数"},
		{"amount as a string", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["amount"] = map[string]any{"total": "1"} }),
			400, "PARAM_ERROR", "输入源“/body/amount/total”"},
		{"zero total", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["amount"] = map[string]any{"total": 0} }),
			400, "PARAM_ERROR", "输入源“/body/amount/total”映射到值字段“总金额”整数规则校验失败"},
		{"appid not bound", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["appid"] = otherAppID }),
			400, "APPID_MCHID_NOT_MATCH", "AppID和mch_id不匹配"},
		{"other mchid in body", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["mchid"] = "1900000000" }),
			400, "PARAM_ERROR", "输入源“/body/mchid”"},
		{"openid of another app", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["payer"] = map[string]any{"openid": "oX"} }),
			400, "PARAM_ERROR", "openid和appid不匹配"},
		{"notify_url with query", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["notify_url"] = f.notify + "?x=1" }),
			400, "PARAM_ERROR", "输入源“/body/notify_url”"},
		{"short out_trade_no", "POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["out_trade_no"] = "12345" }),
			400, "PARAM_ERROR", "输入源“/body/out_trade_no”"},
		{"not JSON", "POST", "/v3/pay/transactions/jsapi", "appid=wx", 400, "PARAM_ERROR", "无法将JSON解析为请求参数"},
		{"same out_trade_no, other amount", "POST", "/v3/pay/transactions/jsapi", jsapiBody(f, "OPEN000001", 101),
			400, "INVALID_REQUEST", "201 商户订单号重复"},
		{"paid out_trade_no", "POST", "/v3/pay/transactions/jsapi", jsapiBody(f, "PAID000001", 100), 403, "ORDERPAID", "该订单已支付"},
		{"closed out_trade_no", "POST", "/v3/pay/transactions/jsapi", jsapiBody(f, "CLOSED0001", 100), 400, "ORDER_CLOSED", "订单已关闭"},
		{"query unknown", "GET", "/v3/pay/transactions/out-trade-no/NOPE000001?mchid=" + testMchID, nil, 404, "ORDER_NOT_EXIST", "订单不存在"},
		{"query unknown id", "GET", "/v3/pay/transactions/id/4200000000000000000000000000?mchid=" + testMchID, nil, 404, "ORDER_NOT_EXIST", "订单不存在"},
		{"query without mchid", "GET", "/v3/pay/transactions/out-trade-no/OPEN000001", nil, 400, "PARAM_ERROR", "输入源“/query/mchid”"},
		{"query other mchid", "GET", "/v3/pay/transactions/out-trade-no/OPEN000001?mchid=1900000000", nil, 400, "PARAM_ERROR", "输入源“/query/mchid”"},
		{"close unknown", "POST", "/v3/pay/transactions/out-trade-no/NOPE000001/close", map[string]string{"mchid": testMchID}, 404, "ORDER_NOT_EXIST", "订单不存在"},
		{"close without mchid", "POST", "/v3/pay/transactions/out-trade-no/OPEN000001/close", map[string]string{}, 400, "PARAM_ERROR", "输入源“/body/mchid”"},
		{"refund unknown order", "POST", "/v3/refund/domestic/refunds", refund("NOPE000001", "RF00000001", 1, 1), 404, "RESOURCE_NOT_EXISTS", "订单不存在"},
		{"refund unpaid order", "POST", "/v3/refund/domestic/refunds", refund("OPEN000001", "RF00000002", 1, 100), 403, "TRADE_ERROR", "订单未支付，不能退款"},
		{"refund too much", "POST", "/v3/refund/domestic/refunds", refund("PAID000001", "RF00000003", 101, 100), 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额"},
		{"refund with wrong total", "POST", "/v3/refund/domestic/refunds", refund("PAID000001", "RF00000004", 1, 99), 400, "INVALID_REQUEST", "订单金额total与实际订单金额不一致"},
		{"refund without currency", "POST", "/v3/refund/domestic/refunds", map[string]any{"out_trade_no": "PAID000001", "out_refund_no": "RF00000005",
			"amount": map[string]any{"refund": 1, "total": 100}}, 400, "PARAM_ERROR", "输入源“/body/amount/currency”"},
		{"refund query unknown", "GET", "/v3/refund/domestic/refunds/NOPE000001", nil, 404, "RESOURCE_NOT_EXISTS", "退款单不存在"},
		{"unknown path", "GET", "/v3/pay/transactions/nothing", nil, 404, "NOT_FOUND", "请求的资源不存在"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.v3(tt.method, tt.uri, tt.body)
			code, msg := r.code(t)
			if r.Status != tt.status || code != tt.code || !strings.HasPrefix(msg, tt.prefix) {
				t.Errorf("answer = %d %s %q, want %d %s %q...", r.Status, code, msg, tt.status, tt.code, tt.prefix)
			}
		})
	}
	t.Run("unknown field detail", func(t *testing.T) {
		r := f.v3("POST", "/v3/pay/transactions/jsapi", with(func(b map[string]any) { b["total_fee"] = 1 }))
		var e struct {
			Detail struct {
				Location string   `json:"location"`
				Value    []string `json:"value"`
			} `json:"detail"`
		}
		r.json(t, &e)
		if e.Detail.Location != "body" || len(e.Detail.Value) != 1 || e.Detail.Value[0] != "/body/total_fee" {
			t.Errorf("detail = %+v", e.Detail)
		}
	})
	t.Run("a refund repeated is the same refund", func(t *testing.T) {
		a := f.v3("POST", "/v3/refund/domestic/refunds", refund("PAID000001", "RF00000010", 10, 100))
		b := f.v3("POST", "/v3/refund/domestic/refunds", refund("PAID000001", "RF00000010", 10, 100))
		var ra, rb map[string]any
		a.json(t, &ra)
		b.json(t, &rb)
		if a.Status != 200 || b.Status != 200 || ra["refund_id"] != rb["refund_id"] {
			t.Errorf("refunds = %s / %s", a.Body, b.Body)
		}
		c := f.v3("POST", "/v3/refund/domestic/refunds", refund("PAID000001", "RF00000010", 11, 100))
		if code, _ := c.code(t); c.Status != 400 || code != "INVALID_REQUEST" {
			t.Errorf("same out_refund_no, other amount = %d %s", c.Status, c.Body)
		}
	})
}

func TestPayV3PlatformModes(t *testing.T) {
	t.Parallel()
	t.Run("public_key", func(t *testing.T) {
		t.Parallel()
		f := newPayFixture(t, nil)
		r := f.v3("GET", "/v3/certificates", nil)
		code, msg := r.code(t)
		if r.Status != 404 || code != "RESOURCE_NOT_EXISTS" ||
			msg != "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/doc/v3/merchant/4012153196" {
			t.Errorf("/v3/certificates = %d %s", r.Status, r.Body)
		}
		serial := r.Header.Get("Wechatpay-Serial")
		if !regexp.MustCompile(`^PUB_KEY_ID_01` + testMchID + `20250301\d{14}$`).MatchString(serial) {
			t.Errorf("Wechatpay-Serial = %q, want PUB_KEY_ID_01 + mch_id + date + 14 digits", serial)
		}
		pk, err := f.e.PlatformKey(testMchID)
		if err != nil || pk.PublicKeyID != serial || pk.SerialNo != "" || pk.CertificatePEM != "" || pk.PlatformMode != PlatformModePublicKey {
			t.Errorf("PlatformKey = %+v, %v", pk, err)
		}
		// The public key is the configured platform key.
		blk, _ := pem.Decode([]byte(pk.PublicKeyPEM))
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil || !pub.(*rsa.PublicKey).Equal(&testRSAKeys()[1].PublicKey) {
			t.Errorf("public_key_pem is not the configured platform key")
		}
	})
	t.Run("certificate", func(t *testing.T) {
		t.Parallel()
		f := newPayFixture(t, func(m *MerchantConfig) { m.PlatformMode = PlatformModeCertificate })
		r := f.v3("GET", "/v3/certificates", nil)
		if r.Status != 200 {
			t.Fatalf("/v3/certificates = %d %s", r.Status, r.Body)
		}
		var certs struct {
			Data []struct {
				SerialNo           string `json:"serial_no"`
				EffectiveTime      string `json:"effective_time"`
				ExpireTime         string `json:"expire_time"`
				EncryptCertificate struct {
					Algorithm, Nonce, Ciphertext string
					AssociatedData               string `json:"associated_data"`
				} `json:"encrypt_certificate"`
			} `json:"data"`
		}
		r.json(t, &certs)
		if len(certs.Data) != 1 {
			t.Fatalf("certificates = %s", r.Body)
		}
		c := certs.Data[0]
		ec := c.EncryptCertificate
		if ec.Algorithm != "AEAD_AES_256_GCM" || ec.AssociatedData != "certificate" {
			t.Errorf("encrypt_certificate = %+v", ec)
		}
		plain := clientGCMOpen(t, testAPIv3Key, ec.Nonce, ec.AssociatedData, ec.Ciphertext)
		blk, _ := pem.Decode(plain)
		if blk == nil {
			t.Fatalf("decrypted certificate is not PEM: %q", plain)
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		serial := fmt.Sprintf("%X", cert.SerialNumber)
		if serial != c.SerialNo || len(serial) != 40 || r.Header.Get("Wechatpay-Serial") != serial {
			t.Errorf("serials: certificate %s, serial_no %s, Wechatpay-Serial %s", serial, c.SerialNo, r.Header.Get("Wechatpay-Serial"))
		}
		if c.EffectiveTime != "2025-03-01T09:00:00+08:00" || c.ExpireTime != "2030-03-01T10:00:00+08:00" {
			t.Errorf("validity %s .. %s", c.EffectiveTime, c.ExpireTime)
		}
		if !cert.PublicKey.(*rsa.PublicKey).Equal(&testRSAKeys()[1].PublicKey) {
			t.Error("the certificate is not of the configured platform key")
		}
		// A response verifies with the downloaded certificate alone.
		q := f.v3("GET", "/v3/pay/transactions/out-trade-no/NOPE000001?mchid="+testMchID, nil)
		if err := clientVerify(map[string]*rsa.PublicKey{serial: cert.PublicKey.(*rsa.PublicKey)}, q.Header, q.Body, f.e.Now()); err != nil {
			t.Error(err)
		}
	})
	t.Run("both", func(t *testing.T) {
		t.Parallel()
		f := newPayFixture(t, func(m *MerchantConfig) { m.PlatformMode = PlatformModeBoth })
		f.srv.setAnswer(func(int, received) (int, string) { return 200, "" })
		pk, err := f.e.PlatformKey(testMchID)
		if err != nil || pk.PublicKeyID == "" || pk.SerialNo == "" {
			t.Fatalf("PlatformKey = %+v, %v", pk, err)
		}
		if r := f.v3("GET", "/v3/certificates", nil); r.Status != 200 {
			t.Errorf("/v3/certificates = %d", r.Status)
		}
		var serials []string
		for range 4 {
			r := f.v3("GET", "/v3/pay/transactions/out-trade-no/NOPE000001?mchid="+testMchID, nil) // verified by v3With
			serials = append(serials, r.Header.Get("Wechatpay-Serial"))
		}
		// The certificates answer above used one key; the next four alternate.
		first, second := serials[0], serials[1]
		if first == second || (first != pk.PublicKeyID && first != pk.SerialNo) || (second != pk.PublicKeyID && second != pk.SerialNo) {
			t.Fatalf("serials = %v, want the public key id and the certificate serial in turn", serials)
		}
		if diff := cmp.Diff([]string{first, second, first, second}, serials); diff != "" {
			t.Errorf("serials (-want +got):\n%s", diff)
		}
		prepay := f.prepayV3("BOTH000001", 5)
		f.pay(prepay, Payment{})
		f.e.ResendNotify(t.Context(), testMchID, "BOTH000001", 3)
		seen := map[string]bool{}
		for _, rc := range f.srv.received() {
			f.openNotify(rc) // verifies with the key of its serial
			seen[rc.Header.Get("Wechatpay-Serial")] = true
		}
		if !seen[pk.PublicKeyID] || !seen[pk.SerialNo] {
			t.Errorf("notify serials = %v, want both keys used", seen)
		}
	})
}
