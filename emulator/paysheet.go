package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The pay sheet of the web view: wx.chooseWXPay and
// WeixinJSBridge.invoke('getBrandWCPayRequest') show the order (merchant
// name, description, amount) once its pay parameters check out, as the
// WeChat client does. The phone page checks them with
// POST /_emulator/pay/{prepay_id}/check, then pays with
// POST /_emulator/pay/{prepay_id}/pay (the notify follows) or cancels with
// POST /_emulator/pay/{prepay_id}/decline.

// packagePrepayID returns the prepay_id of a pay "package"
// ("prepay_id=wx...").
func packagePrepayID(pkg string) (string, bool) {
	id, ok := strings.CutPrefix(pkg, "prepay_id=")
	return id, ok && id != ""
}

// CheckPaySheet checks the parameters a page gives getBrandWCPayRequest
// (appId, timeStamp, nonceStr, package "prepay_id=...", signType, paySign)
// as the WeChat client does before it shows the pay sheet: the prepay_id
// must be payable, the appId the order's, and paySign must verify (v2: MD5
// or HMAC-SHA256 with the merchant's API key; v3: RSA SHA256 over
// "appId\ntimeStamp\nnonceStr\npackage\n" with the merchant's key). openID,
// when not empty, is the user of the web view, who must be the JSAPI
// order's payer. It returns the order for the sheet.
//
// Errors: ErrUnknownPrepay, ErrPrepayExpired, ErrOrderNotPayable,
// ErrWrongPayer, ErrBadPayParams (支付验证签名失败).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
func (e *Emulator) CheckPaySheet(openID string, params map[string]string) (OrderInfo, error) {
	prepayID, ok := packagePrepayID(params["package"])
	if !ok {
		return OrderInfo{}, fmt.Errorf("%w: package must be prepay_id=...", ErrBadPayParams)
	}
	p := e.pay
	o, err := p.payableOrder(prepayID)
	if err != nil {
		return OrderInfo{}, err
	}
	if err := p.checkPayParams(o, params); err != nil {
		return OrderInfo{}, err
	}
	p.mu.Lock()
	info := o.info()
	p.mu.Unlock()
	if openID != "" && info.OpenID != "" && openID != info.OpenID {
		return OrderInfo{}, fmt.Errorf("%w: %s", ErrWrongPayer, info.OpenID)
	}
	return info, nil
}

// paySheetUserSees is what the WeChat client shows when the pay sheet
// cannot open for err.
func paySheetUserSees(err error) string {
	switch {
	case errors.Is(err, ErrBadPayParams):
		return "支付验证签名失败"
	case errors.Is(err, ErrPrepayExpired):
		return "订单已过期，请重新下单"
	case errors.Is(err, ErrOrderNotPayable):
		return "该订单已支付或已关闭"
	case errors.Is(err, ErrWrongPayer):
		return "当前用户与下单用户不一致，无法支付"
	}
	return "系统繁忙，请稍后再试"
}

// servePaySheetCheck serves POST /_emulator/pay/{prepay_id}/check
// {"openid","pay_params":{appId,timeStamp,nonceStr,package,signType,paySign}}:
// 200 with the OrderInfo when the sheet may open; else {"error","user_sees"}
// with 404 (unknown prepay_id), 409 (expired, paid, closed, another user's)
// or 400 (parameters that do not verify). The path's prepay_id must be the
// package's.
func (e *Emulator) servePaySheetCheck(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID    string            `json:"openid"`
		PayParams map[string]string `json:"pay_params"`
	}
	if err := decodeControl(r, &req); err != nil {
		controlFail(w, http.StatusBadRequest, err)
		return
	}
	if req.PayParams == nil {
		req.PayParams = map[string]string{}
	}
	if id, _ := packagePrepayID(req.PayParams["package"]); id != r.PathValue("prepay_id") {
		err := fmt.Errorf("%w: package is not prepay_id=%s", ErrBadPayParams, r.PathValue("prepay_id"))
		writeStatusJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "user_sees": paySheetUserSees(err)})
		return
	}
	info, err := e.CheckPaySheet(req.OpenID, req.PayParams)
	if err != nil {
		writeStatusJSON(w, payControlStatus(err), map[string]string{"error": err.Error(), "user_sees": paySheetUserSees(err)})
		return
	}
	writeJSON(w, info)
}
