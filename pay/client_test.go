package pay

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wire returns the fields a request must carry: the client's own plus
// the given ones (sign excluded: the platform checks it).
func wire(signType SignType, fields map[string]string) map[string]string {
	m := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": testNonce, "sign_type": string(signType)}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// checkWire compares the one request the platform received with want.
func checkWire(t *testing.T, p *platform, want map[string]string) {
	t.Helper()
	reqs := p.received()
	if len(reqs) != 1 {
		t.Fatalf("platform received %d requests, want 1", len(reqs))
	}
	if diff := cmp.Diff(want, without(reqs[0], "sign")); diff != "" {
		t.Errorf("request fields (-want +got):\n%s", diff)
	}
}

func TestUnifiedOrder(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) // 18:00 in China
	tests := []struct {
		name     string
		signType SignType
		req      *UnifiedOrderRequest
		wantWire map[string]string
		reply    map[string]string
		want     *Prepay
	}{
		{
			name:     "JSAPI, MD5",
			signType: SignTypeMD5,
			req: &UnifiedOrderRequest{
				Body: "腾讯充值中心-QQ会员充值", OutTradeNo: "20250301000001", TotalFee: 1, SpbillCreateIP: "203.0.113.7",
				NotifyURL: "https://example.com/pay/notify/1900000109", TradeType: TradeTypeJSAPI, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
				Attach: "a&b=c <x>", Detail: `{"goods_detail":[]}`,
			},
			wantWire: map[string]string{
				"body": "腾讯充值中心-QQ会员充值", "out_trade_no": "20250301000001", "total_fee": "1", "spbill_create_ip": "203.0.113.7",
				"notify_url": "https://example.com/pay/notify/1900000109", "trade_type": "JSAPI", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
				"attach": "a&b=c <x>", "detail": `{"goods_detail":[]}`,
			},
			reply: ok(map[string]string{"trade_type": "JSAPI", "prepay_id": "wx201411101639507cbf6ffd8b0779950874"}),
			want:  &Prepay{TradeType: TradeTypeJSAPI, PrepayID: "wx201411101639507cbf6ffd8b0779950874", NonceStr: "IITRi8Iabbblz1Jc"},
		},
		{
			name:     "NATIVE, HMAC-SHA256, times in China time",
			signType: SignTypeHMACSHA256,
			req: &UnifiedOrderRequest{
				Body: "QR", OutTradeNo: "N1", TotalFee: 12345, SpbillCreateIP: "198.51.100.1", NotifyURL: "http://example.com/n",
				TradeType: TradeTypeNative, ProductID: "sku-1", TimeStart: start, TimeExpire: start.Add(2 * time.Hour), LimitPay: "no_credit",
			},
			wantWire: map[string]string{
				"body": "QR", "out_trade_no": "N1", "total_fee": "12345", "spbill_create_ip": "198.51.100.1", "notify_url": "http://example.com/n",
				"trade_type": "NATIVE", "product_id": "sku-1", "time_start": "20250301180000", "time_expire": "20250301200000", "limit_pay": "no_credit",
			},
			reply: ok(map[string]string{"trade_type": "NATIVE", "prepay_id": "wx2", "code_url": "weixin://wxpay/bizpayurl?pr=abc"}),
			want:  &Prepay{TradeType: TradeTypeNative, PrepayID: "wx2", CodeURL: "weixin://wxpay/bizpayurl?pr=abc", NonceStr: "IITRi8Iabbblz1Jc"},
		},
		{
			name:     "MWEB with extra fields, and a field the code does not know in the reply",
			signType: SignTypeMD5,
			req: &UnifiedOrderRequest{
				Body: "H5", OutTradeNo: "M1", TotalFee: 100, SpbillCreateIP: "192.0.2.1", NotifyURL: "https://example.com/n",
				TradeType: TradeTypeMWEB, SceneInfo: `{"h5_info":{"type":"Wap","wap_url":"https://m.example.com","wap_name":"x"}}`,
				DeviceInfo: "WEB", FeeType: "CNY", Extra: map[string]string{"sub_openid": "o2"},
			},
			wantWire: map[string]string{
				"body": "H5", "out_trade_no": "M1", "total_fee": "100", "spbill_create_ip": "192.0.2.1", "notify_url": "https://example.com/n",
				"trade_type": "MWEB", "scene_info": `{"h5_info":{"type":"Wap","wap_url":"https://m.example.com","wap_name":"x"}}`,
				"device_info": "WEB", "fee_type": "CNY", "sub_openid": "o2",
			},
			reply: ok(map[string]string{"trade_type": "MWEB", "prepay_id": "wx3", "mweb_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx3&package=1", "device_info": "WEB", "future_field": "x"}),
			want:  &Prepay{TradeType: TradeTypeMWEB, PrepayID: "wx3", MwebURL: "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx3&package=1", DeviceInfo: "WEB", NonceStr: "IITRi8Iabbblz1Jc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t, tt.signType)
			p.handle("pay/unifiedorder", func(map[string]string) reply { return reply{fields: tt.reply} })
			got, err := p.client(t).UnifiedOrder(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("UnifiedOrder = %v", err)
			}
			checkWire(t, p, wire(tt.signType, tt.wantWire))
			tt.want.Raw = signed(tt.reply, testKey, tt.signType)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("UnifiedOrder (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrderQuery(t *testing.T) {
	t.Parallel()
	paid := ok(map[string]string{
		"openid": "oUpF8uN95-Ptaags6E_roPHg7AG0", "is_subscribe": "N", "trade_type": "JSAPI", "bank_type": "CMC",
		"total_fee": "1000", "settlement_total_fee": "900", "fee_type": "CNY", "cash_fee": "700", "cash_fee_type": "CNY",
		"coupon_fee": "300", "coupon_count": "2", "coupon_id_0": "c0", "coupon_type_0": "CASH", "coupon_fee_0": "100",
		"coupon_id_1": "c1", "coupon_type_1": "NO_CASH", "coupon_fee_1": "200",
		"transaction_id": "4200000001", "out_trade_no": "T1", "attach": "x", "time_end": "20250301180102",
		"trade_state": "SUCCESS", "trade_state_desc": "支付成功",
	})
	tests := []struct {
		name     string
		req      *OrderQueryRequest
		wantWire map[string]string
		reply    map[string]string
		want     *Order
	}{
		{
			name:     "paid, with coupons, by out_trade_no",
			req:      &OrderQueryRequest{OutTradeNo: "T1"},
			wantWire: map[string]string{"out_trade_no": "T1"},
			reply:    paid,
			want: &Order{
				Payment: Payment{
					AppID: testAppID, MchID: testMchID, OpenID: "oUpF8uN95-Ptaags6E_roPHg7AG0", IsSubscribe: "N", TradeType: TradeTypeJSAPI,
					BankType: "CMC", TotalFee: 1000, SettlementTotalFee: 900, FeeType: "CNY", CashFee: 700, CashFeeType: "CNY",
					CouponFee: 300, CouponCount: 2,
					Coupons:       []Coupon{{ID: "c0", Type: CouponTypeCash, Fee: 100}, {ID: "c1", Type: CouponTypeNoCash, Fee: 200}},
					TransactionID: "4200000001", OutTradeNo: "T1", Attach: "x",
					TimeEnd: mustChinaTime(t, "2006-01-02 15:04:05", "2025-03-01 18:01:02"),
				},
				TradeState: TradeStateSuccess, TradeStateDesc: "支付成功", NonceStr: "IITRi8Iabbblz1Jc",
			},
		},
		{
			name:     "not paid, by transaction_id",
			req:      &OrderQueryRequest{TransactionID: "4200000002"},
			wantWire: map[string]string{"transaction_id": "4200000002"},
			reply:    ok(map[string]string{"out_trade_no": "T2", "trade_state": "NOTPAY", "trade_state_desc": "订单未支付"}),
			want: &Order{
				Payment:    Payment{AppID: testAppID, MchID: testMchID, OutTradeNo: "T2"},
				TradeState: TradeStateNotPay, TradeStateDesc: "订单未支付", NonceStr: "IITRi8Iabbblz1Jc",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t, SignTypeMD5)
			p.handle("pay/orderquery", func(map[string]string) reply { return reply{fields: tt.reply} })
			got, err := p.client(t).OrderQuery(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("OrderQuery = %v", err)
			}
			checkWire(t, p, wire(SignTypeMD5, tt.wantWire))
			tt.want.Raw = signed(tt.reply, testKey, SignTypeMD5)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("OrderQuery (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCloseOrder(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, SignTypeHMACSHA256)
	p.handle("pay/closeorder", func(map[string]string) reply { return reply{fields: ok(map[string]string{"result_msg": "OK"})} })
	if err := p.client(t).CloseOrder(t.Context(), "T1"); err != nil {
		t.Fatalf("CloseOrder = %v", err)
	}
	checkWire(t, p, wire(SignTypeHMACSHA256, map[string]string{"out_trade_no": "T1"}))
}

func TestRefundQuery(t *testing.T) {
	t.Parallel()
	fields := ok(map[string]string{
		"transaction_id": "4200000001", "out_trade_no": "T1", "total_fee": "1000", "settlement_total_fee": "1000", "fee_type": "CNY", "cash_fee": "1000",
		"total_refund_count": "2", "refund_count": "2",
		"out_refund_no_0": "R0", "refund_id_0": "5000", "refund_channel_0": "ORIGINAL", "refund_fee_0": "300", "settlement_refund_fee_0": "300",
		"refund_status_0": "SUCCESS", "refund_account_0": "REFUND_SOURCE_UNSETTLED_FUNDS", "refund_recv_accout_0": "支付用户的零钱",
		"refund_success_time_0": "2025-03-02 09:10:11",
		"coupon_refund_fee_0":   "50", "coupon_refund_count_0": "2",
		"coupon_refund_id_0_0": "cr0", "coupon_type_0_0": "CASH", "coupon_refund_fee_0_0": "20",
		"coupon_refund_id_0_1": "cr1", "coupon_type_0_1": "NO_CASH", "coupon_refund_fee_0_1": "30",
		"out_refund_no_1": "R1", "refund_id_1": "5001", "refund_fee_1": "100", "refund_status_1": "PROCESSING",
	})
	p := newPlatform(t, SignTypeMD5)
	p.handle("pay/refundquery", func(map[string]string) reply { return reply{fields: fields} })
	got, err := p.client(t).RefundQuery(t.Context(), &RefundQueryRequest{OutTradeNo: "T1", Offset: 10})
	if err != nil {
		t.Fatalf("RefundQuery = %v", err)
	}
	checkWire(t, p, wire(SignTypeMD5, map[string]string{"out_trade_no": "T1", "offset": "10"}))
	want := &OrderRefunds{
		TransactionID: "4200000001", OutTradeNo: "T1", TotalFee: 1000, SettlementTotalFee: 1000, FeeType: "CNY", CashFee: 1000,
		TotalRefundCount: 2, RefundCount: 2, NonceStr: "IITRi8Iabbblz1Jc",
		Refunds: []RefundRecord{
			{
				OutRefundNo: "R0", RefundID: "5000", RefundChannel: "ORIGINAL", RefundFee: 300, SettlementRefundFee: 300,
				CouponRefundFee: 50, CouponRefundCount: 2,
				Coupons: []RefundCoupon{{ID: "cr0", Type: CouponTypeCash, Fee: 20}, {ID: "cr1", Type: CouponTypeNoCash, Fee: 30}},
				Status:  RefundStatusSuccess, Account: "REFUND_SOURCE_UNSETTLED_FUNDS", RecvAccount: "支付用户的零钱",
				SuccessTime: mustChinaTime(t, "2006-01-02 15:04:05", "2025-03-02 09:10:11"),
			},
			{OutRefundNo: "R1", RefundID: "5001", RefundFee: 100, Status: RefundStatusProcessing},
		},
		Raw: signed(fields, testKey, SignTypeMD5),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RefundQuery (-want +got):\n%s", diff)
	}
}

// method is one client call, with the reply fields of its success.
type method struct {
	name    string
	path    string
	success map[string]string
	call    func(ctx context.Context, c *Client) error
}

var methods = []method{
	{"UnifiedOrder", "pay/unifiedorder", map[string]string{"trade_type": "JSAPI", "prepay_id": "wx1"}, func(ctx context.Context, c *Client) error {
		_, err := c.UnifiedOrder(ctx, &UnifiedOrderRequest{Body: "b", OutTradeNo: "T1", TotalFee: 1, SpbillCreateIP: "192.0.2.1",
			NotifyURL: "https://example.com/n", TradeType: TradeTypeJSAPI, OpenID: "o1"})
		return err
	}},
	{"OrderQuery", "pay/orderquery", map[string]string{"out_trade_no": "T1", "trade_state": "NOTPAY"}, func(ctx context.Context, c *Client) error {
		_, err := c.OrderQuery(ctx, &OrderQueryRequest{OutTradeNo: "T1"})
		return err
	}},
	{"CloseOrder", "pay/closeorder", nil, func(ctx context.Context, c *Client) error {
		return c.CloseOrder(ctx, "T1")
	}},
	{"Refund", "secapi/pay/refund", map[string]string{"out_trade_no": "T1", "out_refund_no": "R1", "refund_id": "50000", "refund_fee": "1", "total_fee": "1", "cash_fee": "1"}, func(ctx context.Context, c *Client) error {
		_, err := c.Refund(ctx, &RefundRequest{OutTradeNo: "T1", OutRefundNo: "R1", TotalFee: 1, RefundFee: 1})
		return err
	}},
	{"RefundQuery", "pay/refundquery", map[string]string{"out_trade_no": "T1", "refund_count": "0"}, func(ctx context.Context, c *Client) error {
		_, err := c.RefundQuery(ctx, &RefundQueryRequest{OutRefundNo: "R1"})
		return err
	}},
}

// TestReplyErrors runs every method against every way a reply can fail,
// and checks how the error is classified.
func TestReplyErrors(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	cert := ca.issue(t, testMchID)
	type want struct {
		unknown   bool   // wraps ErrOutcomeUnknown
		is        error  // errors.Is target, if any
		returnMsg string // a *ReturnError with this return_msg
		errCode   string // an *Error with this err_code
	}
	tests := []struct {
		name  string
		reply func(m method) reply
		want  want
	}{
		{"success", func(m method) reply { return reply{fields: ok(m.success)} }, want{}},
		{"return_code FAIL", func(method) reply {
			return reply{fields: map[string]string{"return_code": "FAIL", "return_msg": "签名失败"}, unsigned: true}
		}, want{returnMsg: "签名失败"}},
		{"result_code FAIL ORDERPAID", func(method) reply {
			return reply{fields: ok(map[string]string{"result_code": "FAIL", "err_code": "ORDERPAID", "err_code_des": "该订单已支付"})}
		}, want{is: ErrOrderPaid, errCode: "ORDERPAID"}},
		{"result_code FAIL SYSTEMERROR", func(method) reply {
			return reply{fields: ok(map[string]string{"result_code": "FAIL", "err_code": "SYSTEMERROR", "err_code_des": "系统错误"})}
		}, want{is: ErrSystemError, errCode: "SYSTEMERROR"}},
		{"forged sign", func(m method) reply {
			return reply{fields: with(ok(m.success), "sign", strings.Repeat("A", 32)), unsigned: true}
		}, want{unknown: true, is: ErrInvalidSignature}},
		{"signed with another key", func(m method) reply {
			return reply{fields: signed(ok(m.success), "another-key", SignTypeMD5), unsigned: true}
		}, want{unknown: true, is: ErrInvalidSignature}},
		{"no sign", func(m method) reply { return reply{fields: ok(m.success), unsigned: true} }, want{unknown: true, is: ErrInvalidSignature}},
		{"result_code FAIL with a forged sign", func(method) reply {
			return reply{fields: with(ok(map[string]string{"result_code": "FAIL", "err_code": "ORDERCLOSED"}), "sign", strings.Repeat("B", 32)), unsigned: true}
		}, want{unknown: true, is: ErrInvalidSignature}},
		{"reply for another appid", func(m method) reply {
			return reply{fields: with(ok(m.success), "appid", "wx9999999999999999")}
		}, want{unknown: true}},
		{"reply for another mch_id", func(m method) reply {
			return reply{fields: with(ok(m.success), "mch_id", "1900000999")}
		}, want{unknown: true}},
		{"no result_code", func(m method) reply { return reply{fields: without(ok(m.success), "result_code")} }, want{unknown: true}},
		{"HTTP 500", func(method) reply { return reply{raw: []byte("<html>busy</html>"), status: 500} }, want{unknown: true}},
		{"HTTP 200, HTML", func(method) reply { return reply{raw: []byte("<html><body>gateway</body></html>")} }, want{unknown: true, is: ErrMalformed}},
		{"HTTP 200, empty", func(method) reply { return reply{raw: []byte{}} }, want{unknown: true, is: ErrMalformed}},
		{"too large", func(method) reply {
			return reply{raw: []byte("<xml><a>" + strings.Repeat("x", MaxReplyBytes) + "</a></xml>")}
		}, want{unknown: true}},
		{"fee not a number", func(m method) reply {
			return reply{fields: ok(map[string]string{"out_trade_no": "T1", "out_refund_no": "R1", "refund_id": "1", "trade_state": "SUCCESS", "prepay_id": "wx1",
				"total_fee": "1.00", "refund_fee": "x", "refund_count": "x"})}
		}, want{unknown: true, is: ErrMalformed}},
	}
	for _, tt := range tests {
		for _, m := range methods {
			if tt.name == "fee not a number" && (m.name == "UnifiedOrder" || m.name == "CloseOrder") {
				continue // no amount in their replies
			}
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				p := newTLSPlatform(t, SignTypeMD5, tlsVerifyIfGiven, ca.pool())
				p.handle(m.path, func(map[string]string) reply { return tt.reply(m) })
				err := m.call(t.Context(), p.client(t, WithCertificate(cert)))
				if n := len(p.received()); n != 1 {
					t.Fatalf("platform received %d requests, want 1", n)
				}
				if tt.want == (want{}) {
					if err != nil {
						t.Fatalf("%s = %v, want nil", m.name, err)
					}
					return
				}
				if err == nil {
					t.Fatalf("%s = nil, want an error", m.name)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error %q carries the API key", err)
				}
				if got := errors.Is(err, ErrOutcomeUnknown); got != tt.want.unknown {
					t.Errorf("%s = %v; errors.Is(ErrOutcomeUnknown) = %v, want %v", m.name, err, got, tt.want.unknown)
				}
				if tt.want.unknown && !strings.Contains(err.Error(), "outcome unknown") {
					t.Errorf("error %q does not say the outcome is unknown", err)
				}
				if tt.want.is != nil && !errors.Is(err, tt.want.is) {
					t.Errorf("%s = %v, want errors.Is %v", m.name, err, tt.want.is)
				}
				if re, ok := errors.AsType[*ReturnError](err); ok != (tt.want.returnMsg != "") || ok && (re.ReturnMsg != tt.want.returnMsg || re.Path != m.path) {
					t.Errorf("%s = %#v, want a *ReturnError with return_msg %q", m.name, err, tt.want.returnMsg)
				}
				if pe, ok := errors.AsType[*Error](err); ok != (tt.want.errCode != "") || ok && (pe.ErrCode != tt.want.errCode || pe.Path != m.path) {
					t.Errorf("%s = %#v, want an *Error with err_code %q", m.name, err, tt.want.errCode)
				}
			})
		}
	}
}

// TestNotSent checks that a call that could not connect is not reported
// as of unknown outcome.
func TestNotSent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := NewClient(testAppID, testMchID, testKey, WithBaseURL(url))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CloseOrder(t.Context(), "T1")
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("CloseOrder to a closed port = %v, want an error that is not ErrOutcomeUnknown", err)
	}
}

// TestRequestValidation checks that bad requests fail before anything is
// sent.
func TestRequestValidation(t *testing.T) {
	t.Parallel()
	uo := func(f func(r *UnifiedOrderRequest)) *UnifiedOrderRequest {
		r := &UnifiedOrderRequest{Body: "b", OutTradeNo: "T1", TotalFee: 1, SpbillCreateIP: "192.0.2.1",
			NotifyURL: "https://example.com/n", TradeType: TradeTypeJSAPI, OpenID: "o1"}
		f(r)
		return r
	}
	rf := func(f func(r *RefundRequest)) *RefundRequest {
		r := &RefundRequest{OutTradeNo: "T1", OutRefundNo: "R1", TotalFee: 10, RefundFee: 10}
		f(r)
		return r
	}
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) error
	}{
		{"UnifiedOrder nil", func(ctx context.Context, c *Client) error { _, err := c.UnifiedOrder(ctx, nil); return err }},
		{"UnifiedOrder no body", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.Body = "" }))
			return err
		}},
		{"UnifiedOrder zero fee", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.TotalFee = 0 }))
			return err
		}},
		{"UnifiedOrder JSAPI without openid", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.OpenID = "" }))
			return err
		}},
		{"UnifiedOrder NATIVE without product_id", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.TradeType = TradeTypeNative }))
			return err
		}},
		{"UnifiedOrder notify_url with a query", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.NotifyURL = "https://example.com/n?order=1" }))
			return err
		}},
		{"UnifiedOrder relative notify_url", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.NotifyURL = "/n" }))
			return err
		}},
		{"UnifiedOrder Extra sets sign", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.Extra = map[string]string{"sign": "X"} }))
			return err
		}},
		{"UnifiedOrder Extra repeats a field", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.Extra = map[string]string{"body": "x"} }))
			return err
		}},
		{"UnifiedOrder control character", func(ctx context.Context, c *Client) error {
			_, err := c.UnifiedOrder(ctx, uo(func(r *UnifiedOrderRequest) { r.Body = "a\x00b" }))
			return err
		}},
		{"OrderQuery no id", func(ctx context.Context, c *Client) error {
			_, err := c.OrderQuery(ctx, &OrderQueryRequest{})
			return err
		}},
		{"CloseOrder no id", func(ctx context.Context, c *Client) error { return c.CloseOrder(ctx, "") }},
		{"Refund no order", func(ctx context.Context, c *Client) error {
			_, err := c.Refund(ctx, rf(func(r *RefundRequest) { r.OutTradeNo = "" }))
			return err
		}},
		{"Refund more than paid", func(ctx context.Context, c *Client) error {
			_, err := c.Refund(ctx, rf(func(r *RefundRequest) { r.RefundFee = 11 }))
			return err
		}},
		{"Refund no out_refund_no", func(ctx context.Context, c *Client) error {
			_, err := c.Refund(ctx, rf(func(r *RefundRequest) { r.OutRefundNo = "" }))
			return err
		}},
		{"RefundQuery no id", func(ctx context.Context, c *Client) error {
			_, err := c.RefundQuery(ctx, &RefundQueryRequest{})
			return err
		}},
		{"RefundQuery negative offset", func(ctx context.Context, c *Client) error {
			_, err := c.RefundQuery(ctx, &RefundQueryRequest{OutTradeNo: "T1", Offset: -1})
			return err
		}},
	}
	p := newPlatform(t, SignTypeMD5)
	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Errorf("request sent: %s", r.URL.Path) })
	ca := newTestCA(t)
	c := p.client(t, WithCertificate(ca.issue(t, testMchID)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(t.Context(), c); err == nil {
				t.Errorf("%s = nil, want an error", tt.name)
			} else if errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("%s = %v, must not be ErrOutcomeUnknown (nothing was sent)", tt.name, err)
			}
		})
	}
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	cert := ca.issue(t, testMchID)
	tests := []struct {
		name  string
		appID string
		mchID string
		key   string
		opts  []Option
	}{
		{"no appid", "", testMchID, testKey, nil},
		{"no mch_id", testAppID, "", testKey, nil},
		{"no key", testAppID, testMchID, "", nil},
		{"bad sign type", testAppID, testMchID, testKey, []Option{WithSignType("SHA1")}},
		{"relative base URL", testAppID, testMchID, testKey, []Option{WithBaseURL("/mch/")}},
		{"base URL with a query", testAppID, testMchID, testKey, []Option{WithBaseURL("https://example.com/?a=1")}},
		{"nil HTTP client", testAppID, testMchID, testKey, []Option{WithHTTPClient(nil)}},
		{"nil clock", testAppID, testMchID, testKey, []Option{WithClock(nil)}},
		{"nil nonce", testAppID, testMchID, testKey, []Option{WithNonce(nil)}},
		{"empty certificate", testAppID, testMchID, testKey, []Option{WithCertificate(tls.Certificate{})}},
		{"missing certificate files", testAppID, testMchID, testKey, []Option{WithCertificateFiles("/nonexistent/cert.pem", "/nonexistent/key.pem")}},
		{"certificate with a custom transport", testAppID, testMchID, testKey, []Option{
			WithHTTPClient(&http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })}),
			WithCertificate(cert),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, err := NewClient(tt.appID, tt.mchID, tt.key, tt.opts...); err == nil {
				t.Errorf("NewClient = %v, nil; want an error", c)
			}
		})
	}
	c, err := NewClient(testAppID, testMchID, testKey, nil, WithSignType(SignTypeHMACSHA256))
	if err != nil {
		t.Fatal(err)
	}
	if c.AppID() != testAppID || c.MchID() != testMchID || c.SignType() != SignTypeHMACSHA256 {
		t.Errorf("accessors = %s, %s, %s", c.AppID(), c.MchID(), c.SignType())
	}
	if got := c.api.BaseURL.String(); got != DefaultBaseURL {
		t.Errorf("default base URL %s, want %s", got, DefaultBaseURL)
	}
	if c.certAPI != nil {
		t.Error("a client without a certificate has a certificate client")
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
