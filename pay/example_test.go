package pay_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/wxkit/wxkit/pay"
)

// platform is a stand-in for api.mch.weixin.qq.com (the emulator plays this
// part in integration tests): it checks the request's sign and answers a
// signed prepay_id.
func platform(apiKey string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := pay.DecodeXML(body)
		if err != nil || pay.CheckSign(req, apiKey, pay.SignTypeMD5) != nil {
			w.Write(pay.NotifyReply(false, "签名错误"))
			return
		}
		reply := map[string]string{
			"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": req["appid"], "mch_id": req["mch_id"],
			"nonce_str": "IITRi8Iabbblz1Jc", "trade_type": req["trade_type"], "prepay_id": "wx201410272009395522657a690389285100",
		}
		reply["sign"], _ = pay.Sign(reply, apiKey, pay.SignTypeMD5)
		out, _ := pay.EncodeXML(reply)
		w.Write(out)
	}))
}

// A JSAPI payment: create the order, hand the signed parameters to the
// page's getBrandWCPayRequest, then verify the notify WeChat posts.
func Example() {
	const apiKey = "8934e7d15453e97507ef794cf7b0519d"
	srv := platform(apiKey)
	defer srv.Close()

	c, err := pay.NewClient("wx0123456789abcdef", "1900000109", apiKey, pay.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	prepay, err := c.UnifiedOrder(context.Background(), &pay.UnifiedOrderRequest{
		Body:           "Demo-T-shirt",
		OutTradeNo:     "20250301000001",
		TotalFee:       1, // fen
		SpbillCreateIP: "203.0.113.7",
		NotifyURL:      "https://example.com/pay/notify/1900000109",
		TradeType:      pay.TradeTypeJSAPI,
		OpenID:         "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, pay.ErrOutcomeUnknown): query before retrying
	}
	params, err := c.JSAPIParams(prepay.PrepayID) // JSON: appId, timeStamp, nonceStr, package, signType, paySign
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(params.Package, params.SignType, params.Verify(apiKey) == nil)

	// Later WeChat posts the result to NotifyURL (here built by hand, as
	// the platform signs it: over every field, coupons included).
	notify := map[string]string{
		"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": "wx0123456789abcdef", "mch_id": "1900000109",
		"nonce_str": "5d2b6c2a8db53831f7eda20af46e531c", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "trade_type": "JSAPI",
		"bank_type": "CFT", "total_fee": "1", "cash_fee": "1", "transaction_id": "4200000001202503011234567890",
		"out_trade_no": "20250301000001", "time_end": "20250301180102",
	}
	notify["sign"], _ = pay.Sign(notify, apiKey, pay.SignTypeMD5)
	body, _ := pay.EncodeXML(notify)

	n, err := c.ParseNotify(body) // in an http.Handler: read at most pay.MaxNotifyBytes
	if err != nil {
		fmt.Printf("%s\n", pay.NotifyReply(false, "invalid notify"))
		return
	}
	// Check n.OutTradeNo and n.TotalFee against the order, apply it once.
	fmt.Println(n.OutTradeNo, n.TotalFee, n.TransactionID, n.TimeEnd.Format("2006-01-02 15:04:05 -0700"))
	fmt.Printf("%s\n", pay.NotifyReply(true, "OK"))
	// Output:
	// prepay_id=wx201410272009395522657a690389285100 MD5 true
	// 20250301000001 1 4200000001202503011234567890 2025-03-01 18:01:02 +0800
	// <xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>
}
