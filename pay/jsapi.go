package pay

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// PayParams are the front-end payment parameters of a JSAPI order, with
// exactly the JSON names that WeixinJSBridge's getBrandWCPayRequest (and a
// Mini Program's wx.requestPayment, which ignores appId) takes. PaySign is
// the second signature: the v2 sign, with the API key, over appId,
// timeStamp, nonceStr, package and signType.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
type PayParams struct {
	AppID     string   `json:"appId"`
	TimeStamp string   `json:"timeStamp"` // Unix seconds, as a string
	NonceStr  string   `json:"nonceStr"`  // at most 32 characters
	Package   string   `json:"package"`   // "prepay_id=" + prepay_id
	SignType  SignType `json:"signType"`  // the sign type of paySign (and of the unifiedorder call)
	PaySign   string   `json:"paySign"`
}

// JSAPIParams returns the signed front-end parameters for prepayID (from
// UnifiedOrder) of the app appID, timestamped now, with a random nonceStr.
// An empty signType means MD5; it must be the sign type the order was
// created with.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
func JSAPIParams(appID, prepayID string, signType SignType, apiKey string) (*PayParams, error) {
	return newPayParams(appID, prepayID, signType, apiKey, time.Now(), rand.Text())
}

// JSAPIParams returns the signed front-end parameters for prepayID, with
// the client's appid, sign type, clock and nonce generator.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
func (c *Client) JSAPIParams(prepayID string) (*PayParams, error) {
	return newPayParams(c.appID, prepayID, c.signType, c.apiKey, c.now(), c.nonce())
}

func newPayParams(appID, prepayID string, signType SignType, apiKey string, now time.Time, nonce string) (*PayParams, error) {
	if appID == "" || prepayID == "" {
		return nil, errors.New("pay: JSAPIParams: appID and prepayID are required")
	}
	p := &PayParams{
		AppID:     appID,
		TimeStamp: strconv.FormatInt(now.Unix(), 10),
		NonceStr:  nonce,
		Package:   "prepay_id=" + prepayID,
		SignType:  signType.orMD5(),
	}
	if err := p.Sign(apiKey); err != nil {
		return nil, err
	}
	return p, nil
}

// fields returns the five signed parameters.
func (p *PayParams) fields() map[string]string {
	return map[string]string{
		"appId":     p.AppID,
		"timeStamp": p.TimeStamp,
		"nonceStr":  p.NonceStr,
		"package":   p.Package,
		"signType":  string(p.SignType),
	}
}

// Sign sets PaySign from the other fields (an empty SignType is set to
// MD5 first). All five must be set.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
func (p *PayParams) Sign(apiKey string) error {
	p.SignType = p.SignType.orMD5()
	for k, v := range p.fields() {
		if v == "" {
			return fmt.Errorf("pay: PayParams.Sign: %s is empty", k)
		}
	}
	s, err := Sign(p.fields(), apiKey, p.SignType)
	if err != nil {
		return err
	}
	p.PaySign = s
	return nil
}

// Verify checks PaySign against the other fields in constant time, as the
// WeChat client does: ErrInvalidSignature when it does not match.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6
func (p *PayParams) Verify(apiKey string) error {
	f := p.fields()
	f["sign"] = p.PaySign
	return CheckSign(f, apiKey, p.SignType)
}
