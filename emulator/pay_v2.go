package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WeChat Pay v2 (XML) at the real paths of api.mch.weixin.qq.com.
//
// A request that cannot be authenticated (not POST, not XML, unknown
// mch_id, bad sign_type or sign, appid not bound to the merchant) is
// answered, as the platform does, with return_code FAIL and a return_msg
// only, unsigned:
//
//	<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名错误，请检查后再试]]></return_msg></xml>
//
// Everything else is answered return_code SUCCESS, signed with the
// request's sign_type, with result_code SUCCESS or FAIL + err_code /
// err_code_des (LACK_PARAMS, PARAM_ERROR, ORDERPAID, ORDERCLOSED,
// ORDERNOTEXIST, INVALID_REQUEST, REFUNDNOTEXIST, ...).
//
// The refund API needs the merchant's client certificate (mutual TLS) on
// the real platform; over the emulator's plain HTTP it cannot be checked and
// is not required.
func init() {
	handle("/pay/unifiedorder", (*Emulator).payV2UnifiedOrder)
	handle("/pay/orderquery", (*Emulator).payV2OrderQuery)
	handle("/pay/closeorder", (*Emulator).payV2CloseOrder)
	handle("/secapi/pay/refund", (*Emulator).payV2Refund)
	handle("/pay/refundquery", (*Emulator).payV2RefundQuery)
}

// v2Call is an authenticated v2 request.
type v2Call struct {
	m        *merchant
	f        map[string]string
	signType string
}

// v2Authenticate reads, parses and authenticates a v2 request. It answers
// the request itself (return_code FAIL) and returns nil when it fails.
func (e *Emulator) v2Authenticate(w http.ResponseWriter, r *http.Request) *v2Call {
	if r.Method != http.MethodPost {
		v2Fail(w, "请使用post方法")
		return nil
	}
	body, err := readBody(r)
	if err != nil {
		v2Fail(w, "post数据过大")
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		v2Fail(w, "post数据为空")
		return nil
	}
	f, err := parseV2XML(body)
	if err != nil {
		v2Fail(w, "XML格式错误")
		return nil
	}
	setCallApp(r, f["appid"])
	if f["mch_id"] == "" {
		v2Fail(w, "mch_id参数格式错误")
		return nil
	}
	m := e.pay.merchant(f["mch_id"])
	if m == nil {
		v2Fail(w, "商户号mch_id不存在")
		return nil
	}
	if m.cfg.APIKey == "" {
		v2Fail(w, "商户无此接口权限")
		return nil
	}
	if f["appid"] == "" {
		v2Fail(w, "appid参数格式错误")
		return nil
	}
	st := f["sign_type"]
	if st != "" && st != signTypeMD5 && st != signTypeHMACSHA256 {
		v2Fail(w, "sign_type参数格式错误")
		return nil
	}
	if f["nonce_str"] == "" || len(f["nonce_str"]) > 32 {
		v2Fail(w, "nonce_str参数长度有误")
		return nil
	}
	if f["sign"] == "" || !v2SignOK(f, m.cfg.APIKey, st) {
		v2Fail(w, "签名错误，请检查后再试")
		return nil
	}
	if !m.hasApp(f["appid"]) {
		v2Fail(w, "appid和mch_id不匹配")
		return nil
	}
	if st == "" {
		st = signTypeMD5
	}
	return &v2Call{m: m, f: f, signType: st}
}

// v2Fail answers return_code FAIL with msg, unsigned.
func v2Fail(w http.ResponseWriter, msg string) {
	markPayFailed(w)
	var x xmlBuilder
	x.b.WriteString("<xml>")
	x.cdata("return_code", "FAIL")
	x.cdata("return_msg", msg)
	x.b.WriteString("</xml>")
	writeXML(w, x.b.Bytes())
}

// reply answers return_code SUCCESS, with result_code SUCCESS and fields,
// or result_code FAIL and perr, signed with the request's sign_type.
func (c *v2Call) reply(w http.ResponseWriter, fields map[string]string, perr *payError) {
	f := map[string]string{
		"return_code": "SUCCESS", "return_msg": "OK", "appid": c.f["appid"], "mch_id": c.m.cfg.MchID,
		"nonce_str": newNonce(16), "result_code": "SUCCESS",
	}
	if perr != nil {
		markPayFailed(w)
		f["result_code"], f["err_code"], f["err_code_des"] = "FAIL", perr.V2, perr.V2Des
	} else {
		for k, v := range fields {
			f[k] = v
		}
	}
	body, err := v2SignedXML(f, c.m.cfg.APIKey, c.signType, v2NotifyOrder)
	if err != nil {
		v2Fail(w, "系统错误")
		return
	}
	writeXML(w, body)
}

func writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// markPayFailed makes stats count the call as an error (a pay error is
// answered with HTTP 200 in v2).
func markPayFailed(w http.ResponseWriter) {
	if rec, ok := w.(*callRecorder); ok && rec.errCode == 0 {
		rec.errCode = -1
	}
}

// parseV2XML decodes a flat v2 document (<xml><k>v</k>...</xml>) into a
// map. Nested elements and repeated keys are refused.
func parseV2XML(b []byte) (map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	f := map[string]string{}
	depth := 0
	var key string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				key = t.Name.Local
				text.Reset()
			} else if depth > 2 {
				return nil, fmt.Errorf("nested element <%s>", t.Name.Local)
			}
		case xml.EndElement:
			if depth == 2 {
				if _, dup := f[key]; dup {
					return nil, fmt.Errorf("repeated element <%s>", key)
				}
				f[key] = text.String()
			}
			depth--
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		}
	}
	if depth != 0 || len(f) == 0 {
		return nil, errors.New("not a v2 XML document")
	}
	return f, nil
}

// numField matches the v2 fields written without CDATA (amounts, counts).
var numField = regexp.MustCompile(`(_fee|_count)(_\d+)*$`)

// v2SignedXML signs f (non-empty values) with apiKey and writes it as a v2
// document: the keys of order first, in that order, then the others sorted.
func v2SignedXML(f map[string]string, apiKey, signType string, order []string) ([]byte, error) {
	sign, err := v2Sign(f, apiKey, signType)
	if err != nil {
		return nil, err
	}
	g := make(map[string]string, len(f)+1)
	for k, v := range f {
		if v != "" && k != "sign" {
			g[k] = v
		}
	}
	g["sign"] = sign
	var x xmlBuilder
	x.b.WriteString("<xml>")
	put := func(k string) {
		v, ok := g[k]
		if !ok {
			return
		}
		if numField.MatchString(k) {
			x.num(k, v)
		} else {
			x.cdata(k, v)
		}
		delete(g, k)
	}
	for _, k := range order {
		put(k)
	}
	rest := make([]string, 0, len(g))
	for k := range g {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		put(k)
	}
	x.b.WriteString("</xml>")
	return x.b.Bytes(), nil
}

// outTradeNoRE is the platform's rule for out_trade_no / out_refund_no.
var outTradeNoRE = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)

// v2Required returns the LACK_PARAMS error for the first missing field.
func v2Required(f map[string]string, names ...string) *payError {
	for _, n := range names {
		if f[n] == "" {
			return &payError{V2: "LACK_PARAMS", V2Des: "缺少参数" + n}
		}
	}
	return nil
}

// v2Amount parses a v2 amount in fen (a positive integer).
func v2Amount(f map[string]string, name string) (int64, *payError) {
	n, err := strconv.ParseInt(f[name], 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != f[name] {
		return 0, paramError("invalid " + name)
	}
	return n, nil
}

// checkOutNo validates an out_trade_no / out_refund_no (at most 32 (v2:
// 32) characters of digits, letters and _-|*@).
func checkOutNo(name, v string) *payError {
	if len(v) > 32 || !outTradeNoRE.MatchString(v) {
		return paramError(name + "参数长度有误或含非法字符")
	}
	return nil
}

// checkPayer checks that openID is a user of appID when the emulator hosts
// the app.
func (e *Emulator) checkPayer(appID, openID string) *payError {
	a := e.app(appID)
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.user(openID) == nil {
		return paramError("appid和openid不匹配")
	}
	return nil
}

// payV2UnifiedOrder serves /pay/unifiedorder (统一下单).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
func (e *Emulator) payV2UnifiedOrder(w http.ResponseWriter, r *http.Request) {
	c := e.v2Authenticate(w, r)
	if c == nil {
		return
	}
	f := c.f
	if perr := v2Required(f, "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"); perr != nil {
		c.reply(w, nil, perr)
		return
	}
	params := prepayParams{
		AppID: f["appid"], Description: f["body"], OutTradeNo: f["out_trade_no"], Attach: f["attach"],
		NotifyURL: f["notify_url"], TradeType: f["trade_type"], OpenID: f["openid"], ProductID: f["product_id"],
		FeeType: f["fee_type"], DeviceInfo: f["device_info"], GoodsTag: f["goods_tag"], SignType: c.signType,
	}
	perr := func() *payError {
		if len(params.Description) > 128 {
			return paramError("body参数长度有误")
		}
		if perr := checkOutNo("out_trade_no", params.OutTradeNo); perr != nil {
			return perr
		}
		n, perr := v2Amount(f, "total_fee")
		if perr != nil {
			return perr
		}
		params.Amount = n
		if params.FeeType != "" && params.FeeType != "CNY" {
			return paramError("fee_type参数格式错误")
		}
		if net.ParseIP(f["spbill_create_ip"]) == nil {
			return paramError("invalid spbill_create_ip")
		}
		if checkNotifyURL(params.NotifyURL) != nil {
			return paramError("notify_url参数格式错误")
		}
		switch params.TradeType {
		case "JSAPI":
			if params.OpenID == "" {
				return paramError("JSAPI支付必须传openid")
			}
			if perr := e.checkPayer(params.AppID, params.OpenID); perr != nil {
				return perr
			}
		case "NATIVE", "APP", "MWEB":
		default:
			return paramError("trade_type参数格式错误")
		}
		if s := f["time_expire"]; s != "" {
			t, err := time.ParseInLocation("20060102150405", s, beijing)
			if err != nil {
				return paramError("time_expire时间格式错误")
			}
			if t.Before(e.Now().Add(5 * time.Minute)) {
				return paramError("time_expire时间过短，刷卡至少1分钟，其他5分钟")
			}
			params.TimeExpire = t
		}
		return nil
	}()
	if perr != nil {
		c.reply(w, nil, perr)
		return
	}
	o, perr := e.pay.prepay(c.m, "v2", params)
	if perr != nil {
		c.reply(w, nil, perr)
		return
	}
	e.pay.mu.Lock()
	prepayID := o.prepayID
	e.pay.mu.Unlock()
	out := map[string]string{"trade_type": params.TradeType, "prepay_id": prepayID, "device_info": params.DeviceInfo}
	switch params.TradeType {
	case "NATIVE":
		out["code_url"] = codeURL(prepayID)
	case "MWEB":
		out["mweb_url"] = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" + prepayID + "&package=" + strconv.Itoa(randomInt(1000000000, 2000000000))
	}
	c.reply(w, out, nil)
}

// codeURL returns the Native pay QR code link of a prepay_id.
func codeURL(prepayID string) string {
	sum := sha256.Sum256([]byte("code_url:" + prepayID))
	pr := make([]byte, 7)
	for i := range pr {
		pr[i] = nonceAlphabet[int(sum[i])%len(nonceAlphabet)]
	}
	return "weixin://wxpay/bizpayurl?pr=" + string(pr)
}

// payV2OrderQuery serves /pay/orderquery (查询订单).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
func (e *Emulator) payV2OrderQuery(w http.ResponseWriter, r *http.Request) {
	c := e.v2Authenticate(w, r)
	if c == nil {
		return
	}
	if c.f["transaction_id"] == "" && c.f["out_trade_no"] == "" {
		c.reply(w, nil, &payError{V2: "LACK_PARAMS", V2Des: "缺少参数out_trade_no或transaction_id"})
		return
	}
	p := e.pay
	p.mu.Lock()
	o := c.m.findOrder(c.f["transaction_id"], c.f["out_trade_no"])
	if o == nil {
		p.mu.Unlock()
		c.reply(w, nil, errOrderNotExist)
		return
	}
	var out map[string]string
	switch o.state {
	case TradeStateSuccess, TradeStateRefund:
		out = o.v2PayFields()
	default:
		out = map[string]string{
			"out_trade_no": o.params.OutTradeNo, "total_fee": strconv.FormatInt(o.params.Amount, 10),
			"trade_type": o.params.TradeType, "device_info": o.params.DeviceInfo, "attach": o.params.Attach,
		}
	}
	out["trade_state"], out["trade_state_desc"] = string(o.state), tradeStateDesc[o.state]
	delete(out, "return_code")
	delete(out, "result_code")
	p.mu.Unlock()
	c.reply(w, out, nil)
}

// payV2CloseOrder serves /pay/closeorder (关闭订单). As on the platform,
// closing an order number it does not know is answered SUCCESS.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_3
func (e *Emulator) payV2CloseOrder(w http.ResponseWriter, r *http.Request) {
	c := e.v2Authenticate(w, r)
	if c == nil {
		return
	}
	if perr := v2Required(c.f, "out_trade_no"); perr != nil {
		c.reply(w, nil, perr)
		return
	}
	e.pay.mu.Lock()
	o := c.m.orders[c.f["out_trade_no"]]
	e.pay.mu.Unlock()
	if o != nil {
		if perr := e.pay.closeOrder(o); perr != nil {
			c.reply(w, nil, perr)
			return
		}
	}
	c.reply(w, map[string]string{"result_msg": "OK"}, nil)
}

// payV2Refund serves /secapi/pay/refund (申请退款).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
func (e *Emulator) payV2Refund(w http.ResponseWriter, r *http.Request) {
	c := e.v2Authenticate(w, r)
	if c == nil {
		return
	}
	f := c.f
	if f["transaction_id"] == "" && f["out_trade_no"] == "" {
		c.reply(w, nil, &payError{V2: "LACK_PARAMS", V2Des: "缺少参数out_trade_no或transaction_id"})
		return
	}
	if perr := v2Required(f, "out_refund_no", "total_fee", "refund_fee"); perr != nil {
		c.reply(w, nil, perr)
		return
	}
	if perr := checkOutNo("out_refund_no", f["out_refund_no"]); perr != nil {
		c.reply(w, nil, perr)
		return
	}
	total, perr := v2Amount(f, "total_fee")
	if perr != nil {
		c.reply(w, nil, perr)
		return
	}
	amount, perr := v2Amount(f, "refund_fee")
	if perr != nil {
		c.reply(w, nil, perr)
		return
	}
	if t := f["refund_fee_type"]; t != "" && t != "CNY" {
		c.reply(w, nil, paramError("refund_fee_type参数格式错误"))
		return
	}
	if u := f["notify_url"]; u != "" && checkNotifyURL(u) != nil {
		c.reply(w, nil, paramError("notify_url参数格式错误"))
		return
	}
	p := e.pay
	p.mu.Lock()
	o := c.m.findOrder(f["transaction_id"], f["out_trade_no"])
	p.mu.Unlock()
	if o == nil {
		c.reply(w, nil, errRefundOrderNotExist)
		return
	}
	rf, created, perr := p.refund(o, "v2", f["out_refund_no"], total, amount, f["refund_desc"], f["notify_url"])
	if perr != nil {
		c.reply(w, nil, perr)
		return
	}
	p.mu.Lock()
	cash := o.params.Amount - o.couponSum()
	out := map[string]string{
		"transaction_id": o.txnID, "out_trade_no": o.params.OutTradeNo, "out_refund_no": rf.outRefundNo,
		"refund_id": rf.refundID, "refund_fee": strconv.FormatInt(rf.amount, 10),
		"settlement_refund_fee": strconv.FormatInt(rf.amount, 10), "total_fee": strconv.FormatInt(o.params.Amount, 10),
		"settlement_total_fee": strconv.FormatInt(o.params.Amount, 10), "fee_type": "CNY",
		"cash_fee": strconv.FormatInt(cash, 10), "cash_refund_fee": strconv.FormatInt(payerRefund(o, rf.amount), 10),
	}
	if d := rf.amount - payerRefund(o, rf.amount); d > 0 {
		out["coupon_refund_fee"] = strconv.FormatInt(d, 10)
	}
	p.mu.Unlock()
	if created {
		p.scheduleRefund(rf)
	}
	c.reply(w, out, nil)
}

// payV2RefundQuery serves /pay/refundquery (查询退款): by refund_id,
// out_refund_no, transaction_id or out_trade_no, in that priority.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
func (e *Emulator) payV2RefundQuery(w http.ResponseWriter, r *http.Request) {
	c := e.v2Authenticate(w, r)
	if c == nil {
		return
	}
	f := c.f
	p := e.pay
	p.mu.Lock()
	var o *payOrder
	var refunds []*payRefund
	switch {
	case f["refund_id"] != "":
		if rf := c.m.refundsID[f["refund_id"]]; rf != nil {
			o, refunds = rf.order, []*payRefund{rf}
		}
	case f["out_refund_no"] != "":
		if rf := c.m.refunds[f["out_refund_no"]]; rf != nil {
			o, refunds = rf.order, []*payRefund{rf}
		}
	case f["transaction_id"] != "" || f["out_trade_no"] != "":
		if o = c.m.findOrder(f["transaction_id"], f["out_trade_no"]); o != nil {
			refunds = o.refunds
		}
	default:
		p.mu.Unlock()
		c.reply(w, nil, &payError{V2: "LACK_PARAMS", V2Des: "缺少参数refund_id、out_refund_no、transaction_id或out_trade_no"})
		return
	}
	if len(refunds) == 0 {
		p.mu.Unlock()
		c.reply(w, nil, errRefundNotExist)
		return
	}
	out := map[string]string{
		"transaction_id": o.txnID, "out_trade_no": o.params.OutTradeNo,
		"total_fee": strconv.FormatInt(o.params.Amount, 10), "settlement_total_fee": strconv.FormatInt(o.params.Amount, 10),
		"fee_type": "CNY", "cash_fee": strconv.FormatInt(o.params.Amount-o.couponSum(), 10),
		"refund_count": strconv.Itoa(len(refunds)), "total_refund_count": strconv.Itoa(len(o.refunds)),
	}
	for i, rf := range refunds {
		n := "_" + strconv.Itoa(i)
		out["out_refund_no"+n], out["refund_id"+n] = rf.outRefundNo, rf.refundID
		out["refund_channel"+n] = "ORIGINAL"
		out["refund_fee"+n] = strconv.FormatInt(rf.amount, 10)
		out["settlement_refund_fee"+n] = strconv.FormatInt(rf.amount, 10)
		out["refund_status"+n] = v2RefundStatus(rf.state)
		out["refund_account"+n] = "REFUND_SOURCE_UNSETTLED_FUNDS"
		out["refund_recv_accout"+n] = "支付用户零钱"
		if rf.state == refundSuccess {
			out["refund_success_time"+n] = rf.successAt.In(beijing).Format(time.DateTime)
		}
	}
	p.mu.Unlock()
	c.reply(w, out, nil)
}
