package payv3

import (
	"errors"
	"strconv"
)

// JSAPIParams are the parameters of WeixinJSBridge getBrandWCPayRequest
// (and of wx.requestPayment in Mini Programs), in their JSON spelling:
// package is "prepay_id=...", signType "RSA", and paySign the base64
// SHA256withRSA signature of "appId\ntimeStamp\nnonceStr\npackage\n" with the
// merchant's API private key.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/jsapi-transfer-payment.html
type JSAPIParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"` // Unix seconds
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// JSAPIParams returns the front end's parameters for prepayID (from
// PrepayJSAPI) in the app appID (the AppID of the order), signed now.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/jsapi-transfer-payment.html
func (c *Client) JSAPIParams(appID, prepayID string) (*JSAPIParams, error) {
	if !validHeaderValue(appID) || !validHeaderValue(prepayID) {
		return nil, errors.New("payv3: JSAPIParams: appID and prepayID are required (printable ASCII)")
	}
	p := &JSAPIParams{
		AppID:     appID,
		TimeStamp: strconv.FormatInt(c.now().Unix(), 10),
		NonceStr:  newNonce(),
		Package:   "prepay_id=" + prepayID,
		SignType:  "RSA",
	}
	msg := []byte(p.AppID + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n")
	sig, err := signSHA256RSA(c.key, msg)
	if err != nil {
		return nil, err
	}
	p.PaySign = sig
	return p, nil
}
