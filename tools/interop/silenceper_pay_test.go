package interop

import (
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/pay"
	payConfig "github.com/silenceper/wechat/v2/pay/config"
	"github.com/silenceper/wechat/v2/pay/notify"
	"github.com/silenceper/wechat/v2/pay/order"
	"github.com/silenceper/wechat/v2/pay/refund"
	"github.com/silenceper/wechat/v2/util"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/wxkit/wxkit/emulator"
)

// merchantServer is the merchant's notify endpoint, written as the SDK's
// documentation has it: the pay notify is parsed into notify.PaidResult
// and verified with PaidVerifySign, the refund notify's req_info is
// decrypted with DecryptReqInfo, and each is answered SUCCESS only when
// that worked.
type merchantServer struct {
	*httptest.Server
	notify *notify.Notify

	mu      sync.Mutex
	paid    []notify.PaidResult
	refunds []notify.RefundedReqInfo
	errs    []error
}

func newMerchantServer(t *testing.T, p *pay.Pay) *merchantServer {
	t.Helper()
	ms := &merchantServer{notify: p.GetNotify()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pay/notify", ms.servePaid)
	mux.HandleFunc("POST /pay/refund-notify", ms.serveRefunded)
	ms.Server = httptest.NewServer(mux)
	t.Cleanup(ms.Close)
	return ms
}

func (ms *merchantServer) servePaid(w http.ResponseWriter, r *http.Request) {
	var res notify.PaidResult
	err := decodeXML(r, &res)
	if err == nil && !ms.notify.PaidVerifySign(res) {
		err = errors.New("pay notify: PaidVerifySign refused the signature")
	}
	ms.mu.Lock()
	if err == nil {
		ms.paid = append(ms.paid, res)
	} else {
		ms.errs = append(ms.errs, err)
	}
	ms.mu.Unlock()
	answerNotify(w, err)
}

func (ms *merchantServer) serveRefunded(w http.ResponseWriter, r *http.Request) {
	var res notify.RefundedResult
	err := decodeXML(r, &res)
	var info *notify.RefundedReqInfo
	if err == nil {
		info, err = ms.notify.DecryptReqInfo(&res)
	}
	ms.mu.Lock()
	if err == nil {
		ms.refunds = append(ms.refunds, *info)
	} else {
		ms.errs = append(ms.errs, err)
	}
	ms.mu.Unlock()
	answerNotify(w, err)
}

func decodeXML(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return xml.Unmarshal(b, v)
}

// answerNotify answers a v2 notify with the SDK's PaidResp: SUCCESS, or
// FAIL when err is not nil.
func answerNotify(w http.ResponseWriter, err error) {
	resp := notify.PaidResp{ReturnCode: "SUCCESS", ReturnMsg: "OK"}
	if err != nil {
		resp = notify.PaidResp{ReturnCode: "FAIL", ReturnMsg: "bad notify"}
	}
	b, _ := xml.Marshal(struct {
		XMLName struct{} `xml:"xml"`
		notify.PaidResp
	}{PaidResp: resp})
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

// received returns copies of what the server took in so far.
func (ms *merchantServer) received() ([]notify.PaidResult, []notify.RefundedReqInfo, []error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]notify.PaidResult(nil), ms.paid...), append([]notify.RefundedReqInfo(nil), ms.refunds...), append([]error(nil), ms.errs...)
}

// writeMerchantP12 writes the demo merchant's key pair as the merchant
// platform hands it out for v2 (apiclient_cert.p12, whose password is the
// mch_id) and returns its path.
func writeMerchantP12(t *testing.T, emu *emulator.Emulator) string {
	t.Helper()
	mk, err := emu.MerchantKey(emulator.DemoMchID)
	if err != nil {
		t.Fatalf("MerchantKey: %v", err)
	}
	kb, _ := pem.Decode([]byte(mk.PrivateKeyPEM))
	cb, _ := pem.Decode([]byte(mk.CertificatePEM))
	if kb == nil || cb == nil {
		t.Fatal("MerchantKey: PEM blocks missing")
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(kb.Bytes); err != nil {
			t.Fatalf("merchant private key: %v", err)
		}
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatalf("merchant certificate: %v", err)
	}
	// The SDK reads it with golang.org/x/crypto/pkcs12, which only knows
	// the legacy algorithms.
	p12, err := pkcs12.LegacyRC2.Encode(key, cert, nil, emulator.DemoMchID)
	if err != nil {
		t.Fatalf("encode p12: %v", err)
	}
	path := filepath.Join(t.TempDir(), "apiclient_cert.p12")
	if err := os.WriteFile(path, p12, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSilenceperPayV2JSAPI runs JSAPI payments through the SDK's pay
// module, from the unified order to a full refund, with the emulator as
// api.mch.weixin.qq.com: with MD5 (the SDK's default) and with
// HMAC-SHA256 and a coupon, whose coupon_* fields the notify's signature
// covers.
func TestSilenceperPayV2JSAPI(t *testing.T) {
	tests := []struct {
		name     string
		signType string
		amount   int
		coupons  []emulator.Coupon
		wantCash string
	}{
		{name: "MD5", signType: "", amount: 1, wantCash: "1"},
		{name: "HMAC-SHA256 with a coupon", signType: "HMAC-SHA256", amount: 500,
			coupons: []emulator.Coupon{{ID: "interop-coupon-1", Type: "CASH", Amount: 100}}, wantCash: "400"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testPayV2JSAPI(t, fmt.Sprintf("interop2025030100%d", i), tt.signType, tt.amount, tt.coupons, tt.wantCash)
		})
	}
}

func testPayV2JSAPI(t *testing.T, outTradeNo, signType string, amount int, coupons []emulator.Coupon, wantCash string) {
	emu := newEmulator(t)
	p := wechat.NewWechat().GetPay(&payConfig.Config{
		AppID: emulator.DemoAppID,
		MchID: emulator.DemoMchID,
		Key:   emulator.DemoAPIKey,
	})
	ms := newMerchantServer(t, p)
	outRefundNo := outTradeNo + "r1"
	fee := strconv.Itoa(amount)
	wantSignType := signType
	if wantSignType == "" {
		wantSignType = "MD5"
	}

	// Unified order and the JSAPI bridge config (getBrandWCPayRequest's
	// parameters), both from BridgeConfig.
	bridge, err := p.GetOrder().BridgeConfig(&order.Params{
		TotalFee:   fee,
		CreateIP:   "127.0.0.1",
		Body:       "interop 测试商品",
		OutTradeNo: outTradeNo,
		OpenID:     userZhang,
		TradeType:  "JSAPI",
		SignType:   signType,
		NotifyURL:  ms.URL + "/pay/notify",
	})
	if err != nil {
		t.Fatalf("BridgeConfig (unifiedorder): %v", err)
	}
	if bridge.PrePayID == "" || bridge.Package != "prepay_id="+bridge.PrePayID || bridge.SignType != wantSignType {
		t.Fatalf("BridgeConfig = %+v, want a prepay_id in package and signType %s", bridge, wantSignType)
	}
	placed, err := emu.PrepayOrder(bridge.PrePayID)
	if err != nil {
		t.Fatalf("emulator has no order for prepay_id %s: %v", bridge.PrePayID, err)
	}
	if diff := cmp.Diff(
		[]any{outTradeNo, int64(amount), emulator.TradeState("NOTPAY"), "JSAPI", userZhang, "interop 测试商品", ms.URL + "/pay/notify"},
		[]any{placed.OutTradeNo, placed.Amount, placed.State, placed.TradeType, placed.OpenID, placed.Description, placed.NotifyURL},
	); diff != "" {
		t.Errorf("order placed by the SDK (-want +got):\n%s", diff)
	}

	// The user pays on the pay sheet; the emulator checks the SDK's
	// paySign as the WeChat client does.
	txn, err := emu.PayOrder(bridge.PrePayID, emulator.Payment{
		OpenID:  userZhang,
		Coupons: coupons,
		PayParams: map[string]string{
			"appId":     emulator.DemoAppID,
			"timeStamp": bridge.Timestamp,
			"nonceStr":  bridge.NonceStr,
			"package":   bridge.Package,
			"signType":  bridge.SignType,
			"paySign":   bridge.PaySign,
		},
	})
	if err != nil {
		t.Fatalf("PayOrder with the SDK's pay params: %v", err)
	}
	if err := emu.WaitNotifies(t.Context()); err != nil {
		t.Fatal(err)
	}
	paid, _, errs := ms.received()
	if len(errs) > 0 {
		t.Fatalf("merchant server refused notifies: %v", errs)
	}
	if len(paid) != 1 {
		t.Fatalf("merchant server verified %d pay notifies, want 1", len(paid))
	}
	n := paid[0]
	if diff := cmp.Diff(
		[]string{"SUCCESS", "SUCCESS", emulator.DemoAppID, emulator.DemoMchID, userZhang, "JSAPI", fee, wantCash, txn, outTradeNo},
		[]string{deref(n.ReturnCode), deref(n.ResultCode), deref(n.AppID), deref(n.MchID), deref(n.OpenID), deref(n.TradeType),
			itoa(n.TotalFee), deref(n.CashFee), deref(n.TransactionID), deref(n.OutTradeNo)},
	); diff != "" {
		t.Errorf("pay notify as the SDK parsed it (-want +got):\n%s", diff)
	}
	if len(coupons) > 0 {
		if diff := cmp.Diff(
			[]string{"1", coupons[0].ID, coupons[0].Type, strconv.FormatInt(coupons[0].Amount, 10)},
			[]string{itoa(n.CouponCount), deref(n.CouponID0), deref(n.CouponType0), deref(n.CouponFee0)},
		); diff != "" {
			t.Errorf("pay notify's coupon as the SDK parsed it (-want +got):\n%s", diff)
		}
	}
	info, err := emu.MerchantOrder(emulator.DemoMchID, outTradeNo)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Notifies) != 1 || !info.Notifies[0].Acknowledged {
		t.Errorf("emulator's notify deliveries = %+v, want one acknowledged", info.Notifies)
	}

	// Order query.
	q, err := p.GetOrder().QueryOrder(&order.QueryParams{OutTradeNo: outTradeNo, SignType: signType})
	if err != nil {
		t.Fatalf("QueryOrder: %v", err)
	}
	if diff := cmp.Diff(
		[]string{"SUCCESS", txn, outTradeNo, fee, userZhang},
		[]string{deref(q.TradeState), deref(q.TransactionID), deref(q.OutTradeNo), itoa(q.TotalFee), deref(q.OpenID)},
	); diff != "" {
		t.Errorf("QueryOrder (-want +got):\n%s", diff)
	}

	// Full refund with the merchant certificate, and its notify.
	rsp, err := p.GetRefund().Refund(&refund.Params{
		OutTradeNo:  outTradeNo,
		OutRefundNo: outRefundNo,
		TotalFee:    fee,
		RefundFee:   fee,
		RefundDesc:  "interop",
		RootCa:      writeMerchantP12(t, emu.Emulator),
		NotifyURL:   ms.URL + "/pay/refund-notify",
	})
	if err != nil {
		t.Fatalf("Refund: %v", err)
	}
	if rsp.RefundID == "" || rsp.OutRefundNo != outRefundNo || rsp.TransactionID != txn || rsp.RefundFee != fee {
		t.Errorf("Refund = %+v, want a refund_id for %s of %s fen on %s", rsp, outRefundNo, fee, txn)
	}
	if err := emu.WaitNotifies(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, refunds, errs := ms.received()
	if len(errs) > 0 {
		t.Fatalf("merchant server refused notifies: %v", errs)
	}
	if len(refunds) != 1 {
		t.Fatalf("merchant server decrypted %d refund notifies, want 1", len(refunds))
	}
	r := refunds[0]
	if diff := cmp.Diff(
		[]string{"SUCCESS", outRefundNo, rsp.RefundID, outTradeNo, txn, fee, fee},
		[]string{deref(r.RefundStatus), deref(r.OutRefundNO), deref(r.RefundID), deref(r.OutTradeNO), deref(r.TransactionID), itoa(r.RefundFee), itoa(r.TotalFee)},
	); diff != "" {
		t.Errorf("refund notify's req_info as the SDK decrypted it (-want +got):\n%s", diff)
	}
	q, err = p.GetOrder().QueryOrder(&order.QueryParams{OutTradeNo: outTradeNo, SignType: signType})
	if err != nil {
		t.Fatalf("QueryOrder after the refund: %v", err)
	}
	if got := deref(q.TradeState); got != "REFUND" {
		t.Errorf("trade_state after the refund = %q, want REFUND", got)
	}
}

// TestSilenceperPayV2Answers checks the unified order answer itself: its
// signature verifies with the SDK's signing code, and a wrong key is
// answered as the platform does (return_code FAIL), which the SDK turns
// into an error.
func TestSilenceperPayV2Answers(t *testing.T) {
	emu := newEmulator(t)
	params := func(outTradeNo string) *order.Params {
		return &order.Params{TotalFee: "100", CreateIP: "127.0.0.1", Body: "interop", OutTradeNo: outTradeNo,
			OpenID: userLi, TradeType: "JSAPI", NotifyURL: "http://127.0.0.1:9/pay/notify"}
	}
	cfg := &payConfig.Config{AppID: emulator.DemoAppID, MchID: emulator.DemoMchID, Key: emulator.DemoAPIKey}

	pre, err := pay.NewPay(cfg).GetOrder().PrePayOrder(params("interop-answer-1"))
	if err != nil {
		t.Fatalf("PrePayOrder: %v", err)
	}
	fields := map[string]string{
		"return_code": pre.ReturnCode, "return_msg": pre.ReturnMsg, "appid": pre.AppID, "mch_id": pre.MchID,
		"nonce_str": pre.NonceStr, "result_code": pre.ResultCode, "trade_type": pre.TradeType,
		"prepay_id": pre.PrePayID, "code_url": pre.CodeURL, "mweb_url": pre.MWebURL,
	}
	sign, err := util.ParamSign(fields, emulator.DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if sign != pre.Sign {
		t.Errorf("unifiedorder answer sign = %s, the SDK computes %s over %v", pre.Sign, sign, fields)
	}

	bad := *cfg
	bad.Key = "0123456789abcdef0123456789abcdef"
	_, err = pay.NewPay(&bad).GetOrder().PrePayOrder(params("interop-answer-2"))
	if err == nil {
		t.Fatal("PrePayOrder signed with a wrong key succeeded")
	}
	if _, err := emu.MerchantOrder(emulator.DemoMchID, "interop-answer-2"); !errors.Is(err, emulator.ErrUnknownOrder) {
		t.Errorf("MerchantOrder of the order signed with a wrong key: err = %v, want ErrUnknownOrder", err)
	}
}

// TestSilenceperPayV2NativeClose places a NATIVE order (a QR code link),
// closes it unpaid and queries it.
func TestSilenceperPayV2NativeClose(t *testing.T) {
	emu := newEmulator(t)
	o := pay.NewPay(&payConfig.Config{AppID: emulator.DemoAppID, MchID: emulator.DemoMchID, Key: emulator.DemoAPIKey,
		NotifyURL: "http://127.0.0.1:9/pay/notify"}).GetOrder()
	const outTradeNo = "interop-native-1"

	pre, err := o.PrePayOrder(&order.Params{TotalFee: "990", CreateIP: "127.0.0.1", Body: "interop 扫码", OutTradeNo: outTradeNo, TradeType: "NATIVE"})
	if err != nil {
		t.Fatalf("PrePayOrder (NATIVE): %v", err)
	}
	if pre.TradeType != "NATIVE" || pre.PrePayID == "" || !strings.HasPrefix(pre.CodeURL, "weixin://wxpay/bizpayurl?pr=") {
		t.Errorf("PrePayOrder (NATIVE) = %+v, want a prepay_id and a code_url", pre)
	}
	q, err := o.QueryOrder(&order.QueryParams{OutTradeNo: outTradeNo})
	if err != nil || deref(q.TradeState) != "NOTPAY" {
		t.Errorf("QueryOrder before paying: trade_state %q, %v; want NOTPAY", deref(q.TradeState), err)
	}
	res, err := o.CloseOrder(&order.CloseParams{OutTradeNo: outTradeNo})
	if err != nil {
		t.Fatalf("CloseOrder: %v", err)
	}
	if deref(res.ReturnCode) != "SUCCESS" || deref(res.ResultCode) != "SUCCESS" {
		t.Errorf("CloseOrder = return_code %q result_code %q, want SUCCESS", deref(res.ReturnCode), deref(res.ResultCode))
	}
	if q, err := o.QueryOrder(&order.QueryParams{OutTradeNo: outTradeNo}); err != nil || deref(q.TradeState) != "CLOSED" {
		t.Errorf("QueryOrder after CloseOrder: trade_state %q, %v; want CLOSED", deref(q.TradeState), err)
	}
	if _, err := emu.PayOrder(pre.PrePayID, emulator.Payment{OpenID: userAlice}); !errors.Is(err, emulator.ErrOrderNotPayable) {
		t.Errorf("paying the closed order: err = %v, want ErrOrderNotPayable", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func itoa(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}
