package pay

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// payNotify returns the fields of a pay notify (coupons included), unsigned.
func payNotify() map[string]string {
	return map[string]string{
		"return_code": "SUCCESS", "appid": testAppID, "mch_id": testMchID, "nonce_str": "5d2b6c2a8db53831f7eda20af46e531c",
		"result_code": "SUCCESS", "openid": "oUpF8uMEb4qRXf22hE3X68TekukE", "is_subscribe": "Y", "trade_type": "JSAPI",
		"bank_type": "CFT", "total_fee": "1000", "settlement_total_fee": "1000", "fee_type": "CNY", "cash_fee": "700",
		"coupon_fee": "300", "coupon_count": "2",
		"coupon_type_0": "CASH", "coupon_id_0": "10000", "coupon_fee_0": "100",
		"coupon_type_1": "NO_CASH", "coupon_id_1": "10001", "coupon_fee_1": "200",
		"transaction_id": "1004400740201409030005092168", "out_trade_no": "1409811653", "attach": "支付测试",
		"time_end": "20140903131540",
	}
}

func TestParseNotify(t *testing.T) {
	t.Parallel()
	base := payNotify()
	wantPayment := Payment{
		AppID: testAppID, MchID: testMchID, OpenID: "oUpF8uMEb4qRXf22hE3X68TekukE", IsSubscribe: "Y", TradeType: TradeTypeJSAPI,
		BankType: "CFT", TotalFee: 1000, SettlementTotalFee: 1000, FeeType: "CNY", CashFee: 700, CouponFee: 300, CouponCount: 2,
		Coupons:       []Coupon{{ID: "10000", Type: CouponTypeCash, Fee: 100}, {ID: "10001", Type: CouponTypeNoCash, Fee: 200}},
		TransactionID: "1004400740201409030005092168", OutTradeNo: "1409811653", Attach: "支付测试",
		TimeEnd: mustChinaTime(t, "20060102150405", "20140903131540"),
	}
	tests := []struct {
		name     string
		fields   map[string]string
		signType SignType
		want     *Notify
	}{
		{"MD5 with coupons", base, SignTypeMD5,
			&Notify{Payment: wantPayment, ResultCode: "SUCCESS", NonceStr: "5d2b6c2a8db53831f7eda20af46e531c"}},
		{"HMAC-SHA256 with sign_type", with(base, "sign_type", "HMAC-SHA256"), SignTypeHMACSHA256,
			&Notify{Payment: wantPayment, ResultCode: "SUCCESS", SignType: SignTypeHMACSHA256, NonceStr: "5d2b6c2a8db53831f7eda20af46e531c"}},
		{"fields the code does not know, covered by the sign", with(with(base, "promotion_detail", `{"id":"1"}`), "coupon_batch_id_0", "b0"), SignTypeMD5,
			&Notify{Payment: wantPayment, ResultCode: "SUCCESS", NonceStr: "5d2b6c2a8db53831f7eda20af46e531c"}},
		{"coupons without coupon_count", without(base, "coupon_count"), SignTypeMD5,
			&Notify{Payment: func() Payment { p := wantPayment; p.CouponCount = 0; return p }(), ResultCode: "SUCCESS", NonceStr: "5d2b6c2a8db53831f7eda20af46e531c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fields := signed(tt.fields, testKey, tt.signType)
			got, err := ParseNotify(wireRender(fields), testKey, tt.signType)
			if err != nil {
				t.Fatalf("ParseNotify = %v", err)
			}
			tt.want.Raw = fields
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseNotify (-want +got):\n%s", diff)
			}
			// Any field changed, removed, or added after signing: refused.
			for k := range fields {
				if k == "sign" {
					continue
				}
				for what, m := range map[string]map[string]string{
					"changed": with(fields, k, fields[k]+"1"),
					"removed": without(fields, k),
				} {
					if _, err := ParseNotify(wireRender(m), testKey, tt.signType); err == nil {
						t.Errorf("ParseNotify(%s %s) = nil, want an error", k, what)
					}
				}
			}
			if _, err := ParseNotify(wireRender(with(fields, "coupon_id_2", "1")), testKey, tt.signType); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("ParseNotify(field added) = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestParseNotifyRefused(t *testing.T) {
	t.Parallel()
	good := signed(payNotify(), testKey, SignTypeMD5)
	tests := []struct {
		name     string
		body     []byte
		signType SignType
		want     error
	}{
		{"no sign", wireRender(without(good, "sign")), SignTypeMD5, ErrInvalidSignature},
		{"empty sign", wireRender(with(good, "sign", "")), SignTypeMD5, ErrInvalidSignature},
		{"wrong key", wireRender(signed(payNotify(), "another-key", SignTypeMD5)), SignTypeMD5, ErrInvalidSignature},
		{"other sign type", wireRender(good), SignTypeHMACSHA256, ErrInvalidSignature},
		{"declared sign_type differs", wireRender(signed(with(payNotify(), "sign_type", "HMAC-SHA256"), testKey, SignTypeMD5)), SignTypeMD5, ErrInvalidSignature},
		{"unknown sign type", wireRender(good), "SHA1", ErrInvalidSignType},
		{"total_fee given twice", []byte(strings.Replace(string(wireRender(good)), "</xml>", "<total_fee>1</total_fee></xml>", 1)), SignTypeMD5, ErrMalformed},
		{"nested field", []byte(strings.Replace(string(wireRender(good)), "</xml>", "<detail><a>1</a></detail></xml>", 1)), SignTypeMD5, ErrMalformed},
		{"not XML", []byte(`{"return_code":"SUCCESS"}`), SignTypeMD5, ErrMalformed},
		{"too large", []byte("<xml><a>" + strings.Repeat("x", MaxNotifyBytes) + "</a></xml>"), SignTypeMD5, ErrMalformed},
		{"total_fee not a number", wireRender(signed(with(payNotify(), "total_fee", "0.01"), testKey, SignTypeMD5)), SignTypeMD5, ErrMalformed},
		{"negative total_fee", wireRender(signed(with(payNotify(), "total_fee", "-1"), testKey, SignTypeMD5)), SignTypeMD5, ErrMalformed},
		{"coupon index out of range", wireRender(signed(with(payNotify(), "coupon_fee_99999", "1"), testKey, SignTypeMD5)), SignTypeMD5, ErrMalformed},
		{"no transaction_id", wireRender(signed(without(payNotify(), "transaction_id"), testKey, SignTypeMD5)), SignTypeMD5, ErrMalformed},
		{"no result_code", wireRender(signed(without(payNotify(), "result_code"), testKey, SignTypeMD5)), SignTypeMD5, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := ParseNotify(tt.body, testKey, tt.signType)
			if !errors.Is(err, tt.want) || n != nil {
				t.Errorf("ParseNotify = %v, %v; want nil, %v", n, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q carries the API key", err)
			}
		})
	}

	t.Run("return_code FAIL", func(t *testing.T) {
		t.Parallel()
		body := wireRender(signed(map[string]string{"return_code": "FAIL", "return_msg": "参数格式校验错误"}, testKey, SignTypeMD5))
		if _, err := ParseNotify(body, testKey, SignTypeMD5); !errors.As(err, new(*ReturnError)) {
			t.Errorf("ParseNotify = %v, want a *ReturnError", err)
		}
	})
	t.Run("payment failed", func(t *testing.T) {
		t.Parallel()
		fields := signed(with(with(with(payNotify(), "result_code", "FAIL"), "err_code", "NOTENOUGH"), "err_code_des", "余额不足"), testKey, SignTypeMD5)
		n, err := ParseNotify(wireRender(fields), testKey, SignTypeMD5)
		if !errors.Is(err, ErrNotEnough) || n == nil || n.ResultCode != "FAIL" || n.OutTradeNo != "1409811653" {
			t.Errorf("ParseNotify = %+v, %v; want the verified notify and ErrNotEnough", n, err)
		}
		if pe, ok := errors.AsType[*Error](err); !ok || pe.ErrCodeDes != "余额不足" {
			t.Errorf("ParseNotify error %#v, want an *Error with err_code_des", err)
		}
	})
}

func TestClientParseNotify(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testAppID, testMchID, testKey, WithSignType(SignTypeHMACSHA256))
	if err != nil {
		t.Fatal(err)
	}
	fields := payNotify()
	if n, err := c.ParseNotify(wireRender(signed(fields, testKey, SignTypeHMACSHA256))); err != nil || n.OutTradeNo != "1409811653" {
		t.Errorf("Client.ParseNotify = %v, %v", n, err)
	}
	if _, err := c.ParseNotify(wireRender(signed(fields, testKey, SignTypeMD5))); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("Client.ParseNotify(MD5 notify, HMAC client) = %v, want ErrInvalidSignature", err)
	}
	for _, k := range []string{"appid", "mch_id"} {
		body := wireRender(signed(with(fields, k, "other"), testKey, SignTypeHMACSHA256))
		if _, err := c.ParseNotify(body); !errors.Is(err, ErrMismatch) {
			t.Errorf("Client.ParseNotify(another %s) = %v, want ErrMismatch", k, err)
		}
	}
	failed := signed(with(with(fields, "result_code", "FAIL"), "err_code", "SYSTEMERROR"), testKey, SignTypeHMACSHA256)
	if n, err := c.ParseNotify(wireRender(failed)); n == nil || !errors.Is(err, ErrSystemError) {
		t.Errorf("Client.ParseNotify(failed payment) = %v, %v; want the notify and ErrSystemError", n, err)
	}
}

func TestNotifyReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ok   bool
		msg  string
		want string
	}{
		{true, "", "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"},
		{false, "", "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[FAIL]]></return_msg></xml>"},
		{false, "签名失败", "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名失败]]></return_msg></xml>"},
		{false, "a]]>b", "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[a]]]]><![CDATA[>b]]></return_msg></xml>"},
		{false, "nul\x00\xff\r", "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[nul\uFFFD\uFFFD\uFFFD]]></return_msg></xml>"},
	}
	for _, tt := range tests {
		got := NotifyReply(tt.ok, tt.msg)
		if string(got) != tt.want {
			t.Errorf("NotifyReply(%v, %q) = %s, want %s", tt.ok, tt.msg, got, tt.want)
		}
		m := wireParse(t, got)
		wantMsg := tt.msg
		if strings.ContainsAny(wantMsg, "\x00\xff\r") || wantMsg == "" {
			wantMsg = m["return_msg"] // checked byte for byte above
		}
		if m["return_msg"] != wantMsg || (m["return_code"] == "SUCCESS") != tt.ok {
			t.Errorf("NotifyReply(%v, %q) parses as %v", tt.ok, tt.msg, m)
		}
	}
}
