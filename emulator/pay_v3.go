package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WeChat Pay v3 (JSON) at the real paths of api.mch.weixin.qq.com.
//
// Every request must carry
//
//	Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"
//
// where signature is SHA256withRSA, with the merchant's private key, over
// "METHOD\nURL\ntimestamp\nnonce_str\nbody\n" (URL = path and query as
// sent), serial_no is the merchant certificate's serial number and
// timestamp is within MerchantConfig.TimestampWindow (5 minutes) of the
// emulator's time. A failure is 401 SIGN_ERROR. Errors are
// {"code","message"} (and "detail" where the platform gives one) with the
// platform's HTTP status. Every answer of a known merchant, errors and 204s
// included, is signed with the Wechatpay-Nonce / -Timestamp / -Serial /
// -Signature headers from the platform key (see PlatformMode).
func init() {
	routes := []struct {
		pattern string
		h       apiHandler
	}{
		{"POST /v3/pay/transactions/jsapi", func(e *Emulator, w http.ResponseWriter, r *http.Request) { e.payV3Prepay(w, r, "JSAPI") }},
		{"POST /v3/pay/transactions/native", func(e *Emulator, w http.ResponseWriter, r *http.Request) { e.payV3Prepay(w, r, "NATIVE") }},
		{"GET /v3/pay/transactions/out-trade-no/{out_trade_no}", (*Emulator).payV3Query},
		{"GET /v3/pay/transactions/id/{transaction_id}", (*Emulator).payV3Query},
		{"POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close", (*Emulator).payV3Close},
		{"POST /v3/refund/domestic/refunds", (*Emulator).payV3Refund},
		{"GET /v3/refund/domestic/refunds/{out_refund_no}", (*Emulator).payV3RefundQuery},
		{"GET /v3/certificates", (*Emulator).payV3Certificates},
		{"GET /v3/bill/tradebill", (*Emulator).payV3TradeBill},
		{"GET /v3/billdownload/file", (*Emulator).payV3BillDownload},
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			rt.h(r.Context().Value(v3EmulatorKey{}).(*Emulator), w, r)
		})
	}
	handlePrefix("/v3/", func(e *Emulator, w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			markPayFailed(w)
			writeStatusJSON(w, http.StatusNotFound, v3ErrorBody{Code: "NOT_FOUND", Message: "请求的资源不存在: " + r.Method + " " + r.URL.Path})
			return
		}
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), v3EmulatorKey{}, e)))
	}, func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		if _, path, ok := strings.Cut(pattern, " "); ok {
			return path
		}
		return r.URL.Path
	})
}

// v3EmulatorKey carries the *Emulator to the v3 route handlers.
type v3EmulatorKey struct{}

// v3ErrorBody is the error envelope of v3.
type v3ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// v3Call is an authenticated v3 request.
type v3Call struct {
	e    *Emulator
	m    *merchant
	body []byte
}

// authorizationScheme is the only v3 signature scheme.
const authorizationScheme = "WECHATPAY2-SHA256-RSA2048"

// parseAuthorization splits a v3 Authorization header into its scheme and
// key="value" parameters.
func parseAuthorization(h string) (scheme string, params map[string]string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found {
		return "", nil, false
	}
	params = map[string]string{}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		k, after, found := strings.Cut(rest, "=")
		if !found {
			return "", nil, false
		}
		k = strings.TrimSpace(k)
		after = strings.TrimSpace(after)
		if !strings.HasPrefix(after, `"`) {
			return "", nil, false
		}
		v, tail, found := strings.Cut(after[1:], `"`)
		if !found {
			return "", nil, false
		}
		params[k] = v
		rest = strings.TrimPrefix(strings.TrimSpace(tail), ",")
		rest = strings.TrimSpace(rest)
	}
	return scheme, params, true
}

// v3Authenticate reads and verifies a v3 request. It answers the request
// itself and returns nil when it fails.
func (e *Emulator) v3Authenticate(w http.ResponseWriter, r *http.Request) *v3Call {
	p := e.pay
	body, err := readBody(r)
	if err != nil {
		p.v3Error(w, nil, http.StatusBadRequest, "INVALID_REQUEST", "请求体过大", nil)
		return nil
	}
	signErr := func(m *merchant, msg string, detail any) *v3Call {
		p.v3Error(w, m, http.StatusUnauthorized, "SIGN_ERROR", msg, detail)
		return nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return signErr(nil, "Http头缺少Authorization", nil)
	}
	scheme, a, ok := parseAuthorization(h)
	if !ok {
		return signErr(nil, "Http头Authorization格式错误", nil)
	}
	if scheme != authorizationScheme {
		return signErr(nil, "错误的签名方式"+scheme+"，请使用"+authorizationScheme, nil)
	}
	for _, k := range []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"} {
		if a[k] == "" {
			return signErr(nil, "Http头Authorization中缺少"+k, nil)
		}
	}
	m := p.merchant(a["mchid"])
	if m == nil {
		p.v3Error(w, nil, http.StatusBadRequest, "MCH_NOT_EXISTS", "商户号不存在", nil)
		return nil
	}
	if m.cfg.APIv3Key == "" {
		p.v3Error(w, nil, http.StatusForbidden, "NO_AUTH", "商户未设置APIv3密钥，无权调用APIv3接口", nil)
		return nil
	}
	now := e.Now()
	if err := m.keys(now); err != nil {
		e.logger.Error("emulator: merchant keys", "mch_id", m.cfg.MchID, "err", err)
		p.v3Error(w, nil, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误", nil)
		return nil
	}
	if !strings.EqualFold(a["serial_no"], m.cfg.MerchantSerialNo) {
		return signErr(m, "商户证书序列号有误。请使用签名私钥匹配的证书序列号", nil)
	}
	ts, err := strconv.ParseInt(a["timestamp"], 10, 64)
	if err != nil {
		return signErr(m, "Http头Authorization中的timestamp格式错误", nil)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > m.cfg.TimestampWindow || d < -m.cfg.TimestampWindow {
		return signErr(m, "Http头Authorization中的timestamp与系统时间相差过大", nil)
	}
	if len(a["nonce_str"]) > 32 {
		return signErr(m, "Http头Authorization中的nonce_str过长", nil)
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	msg := v3RequestMessage(r.Method, uri, a["timestamp"], a["nonce_str"], string(body))
	if !rsaVerify(m.merchantPub, msg, a["signature"]) {
		truncated := msg
		if len(truncated) > 200 {
			truncated = truncated[:200]
		}
		return signErr(m, "签名错误，请检查后再试", map[string]any{
			"detail": map[string]string{"issue": "sign not match"}, "field": "signature", "location": "authorization",
			"sign_information": map[string]any{
				"method": r.Method, "url": uri, "sign_message_length": len(msg), "truncated_sign_message": truncated,
			},
		})
	}
	return &v3Call{e: e, m: m, body: body}
}

// v3RequestMessage is what a v3 request's signature covers:
// "METHOD\nURL\ntimestamp\nnonce\nbody\n", URL being the path and query.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012365336
func v3RequestMessage(method, uri, ts, nonce, body string) string {
	return method + "\n" + uri + "\n" + ts + "\n" + nonce + "\n" + body + "\n"
}

// v3AnswerMessage is what the platform's signature of an answer or a notify
// covers: "timestamp\nnonce\nbody\n".
func v3AnswerMessage(ts, nonce string, body []byte) string {
	return ts + "\n" + nonce + "\n" + string(body) + "\n"
}

// signV3 signs body as the platform does, with the merchant's next platform
// key, and returns the Wechatpay-* headers.
func (p *payState) signV3(m *merchant, body []byte) (map[string]string, error) {
	if err := m.keys(p.e.Now()); err != nil {
		return nil, err
	}
	s := p.nextSigner(m)
	ts := strconv.FormatInt(p.e.Now().Unix(), 10)
	nonce := strings.ToUpper(randomString(32, "0123456789abcdef"))
	sig, err := rsaSign(s.key, v3AnswerMessage(ts, nonce, body))
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"Wechatpay-Nonce": nonce, "Wechatpay-Timestamp": ts, "Wechatpay-Serial": s.serial,
		"Wechatpay-Signature": sig, "Wechatpay-Signature-Type": authorizationScheme,
	}, nil
}

// v3Write answers status with v as JSON (no body when v is nil), signed for
// m when m is not nil.
func (p *payState) v3Write(w http.ResponseWriter, m *merchant, status int, v any) {
	var body []byte
	if v != nil {
		b, err := marshalJSON(v)
		if err != nil {
			http.Error(w, "emulator: encode: "+err.Error(), http.StatusInternalServerError)
			return
		}
		body = b
	}
	h := w.Header()
	h.Set("Request-ID", strings.ToUpper(newUUID()))
	if m != nil {
		sh, err := p.signV3(m, body)
		if err != nil {
			p.e.logger.Error("emulator: sign v3 answer", "mch_id", m.cfg.MchID, "err", err)
		}
		for k, v := range sh {
			h.Set(k, v)
		}
	}
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if status >= 400 {
		markPayFailed(w)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// v3Error answers a v3 error.
func (p *payState) v3Error(w http.ResponseWriter, m *merchant, status int, code, msg string, detail any) {
	p.v3Write(w, m, status, v3ErrorBody{Code: code, Message: msg, Detail: detail})
}

// fail answers perr.
func (c *v3Call) fail(w http.ResponseWriter, perr *payError) {
	c.e.pay.v3Error(w, c.m, perr.Status, perr.V3, perr.V3Msg, nil)
}

// ok answers status with v.
func (c *v3Call) ok(w http.ResponseWriter, status int, v any) { c.e.pay.v3Write(w, c.m, status, v) }

// v3FieldNames are the Chinese names the platform uses for fields in
// PARAM_ERROR messages.
var v3FieldNames = map[string]string{
	"appid": "应用ID", "mchid": "直连商户号", "description": "商品描述", "out_trade_no": "商户订单号",
	"notify_url": "通知地址", "amount": "订单金额", "amount/total": "总金额", "payer": "支付者",
	"payer/openid": "用户标识", "out_refund_no": "商户退款单号", "amount/refund": "退款金额",
	"time_expire": "交易结束时间", "amount/currency": "货币类型",
}

// v3Missing is the PARAM_ERROR of a required field, in the platform's words.
func v3Missing(path string) *payError {
	return paramError(fmt.Sprintf("输入源“/body/%s”映射到值字段“%s”必填性规则校验失败，此字段为必填项", path, fieldName(path)))
}

// v3Invalid is the PARAM_ERROR of a field with a bad value.
func v3Invalid(path, why string) *payError {
	return paramError(fmt.Sprintf("输入源“/body/%s”映射到值字段“%s”%s", path, fieldName(path), why))
}

func fieldName(path string) string {
	if n, ok := v3FieldNames[path]; ok {
		return n
	}
	return path
}

// decodeV3 decodes a v3 JSON body into v, refusing unknown fields as the
// platform does. It answers the request and returns false on error.
func (c *v3Call) decode(w http.ResponseWriter, v any) bool {
	dec := json.NewDecoder(strings.NewReader(string(c.body)))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		c.fail(w, v3Invalid(strings.ReplaceAll(te.Field, ".", "/"), "类型错误，应为"+te.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		c.e.pay.v3Error(w, c.m, http.StatusBadRequest, "PARAM_ERROR", "请求中含有未在API文档中定义的参数",
			map[string]any{"location": "body", "value": []string{"/body/" + name}})
	default:
		c.e.pay.v3Error(w, c.m, http.StatusBadRequest, "PARAM_ERROR", "无法将JSON解析为请求参数："+err.Error(), nil)
	}
	return false
}

// v3OutTradeNoRE is the v3 rule for out_trade_no (6 to 32 digits, letters
// and _-*|); out_refund_no follows outTradeNoRE.
var v3OutTradeNoRE = regexp.MustCompile(`^[0-9A-Za-z_\-*|]{6,32}$`)

// v3PrepayRequest is the body of JSAPI and Native prepay.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791856
type v3PrepayRequest struct {
	AppID         string          `json:"appid"`
	MchID         string          `json:"mchid"`
	Description   string          `json:"description"`
	OutTradeNo    string          `json:"out_trade_no"`
	TimeExpire    string          `json:"time_expire"`
	Attach        string          `json:"attach"`
	NotifyURL     string          `json:"notify_url"`
	GoodsTag      string          `json:"goods_tag"`
	SupportFapiao bool            `json:"support_fapiao"`
	Amount        *v3AmountIn     `json:"amount"`
	Payer         *v3Payer        `json:"payer"`
	Detail        json.RawMessage `json:"detail"`
	SceneInfo     json.RawMessage `json:"scene_info"`
	SettleInfo    json.RawMessage `json:"settle_info"`
}

type v3AmountIn struct {
	Total    *int64 `json:"total"`
	Currency string `json:"currency"`
}

type v3Payer struct {
	OpenID string `json:"openid"`
}

// payV3Prepay serves POST /v3/pay/transactions/jsapi and .../native.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791856 (JSAPI),
// https://pay.weixin.qq.com/doc/v3/merchant/4012791877 (Native)
func (e *Emulator) payV3Prepay(w http.ResponseWriter, r *http.Request, tradeType string) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	var req v3PrepayRequest
	if !c.decode(w, &req) {
		return
	}
	setCallApp(r, req.AppID)
	params, perr := c.prepayParams(&req, tradeType)
	if perr != nil {
		c.fail(w, perr)
		return
	}
	o, perr := e.pay.prepay(c.m, "v3", params)
	if perr != nil {
		c.fail(w, perr)
		return
	}
	e.pay.mu.Lock()
	prepayID := o.prepayID
	e.pay.mu.Unlock()
	if tradeType == "NATIVE" {
		c.ok(w, http.StatusOK, map[string]string{"code_url": codeURL(prepayID)})
		return
	}
	c.ok(w, http.StatusOK, map[string]string{"prepay_id": prepayID})
}

// prepayParams validates a v3 prepay request.
func (c *v3Call) prepayParams(req *v3PrepayRequest, tradeType string) (prepayParams, *payError) {
	for _, f := range []struct{ path, v string }{
		{"appid", req.AppID}, {"mchid", req.MchID}, {"description", req.Description},
		{"out_trade_no", req.OutTradeNo}, {"notify_url", req.NotifyURL},
	} {
		if f.v == "" {
			return prepayParams{}, v3Missing(f.path)
		}
	}
	if req.Amount == nil {
		return prepayParams{}, v3Missing("amount")
	}
	if req.Amount.Total == nil {
		return prepayParams{}, v3Missing("amount/total")
	}
	if tradeType == "JSAPI" {
		if req.Payer == nil {
			return prepayParams{}, v3Missing("payer")
		}
		if req.Payer.OpenID == "" {
			return prepayParams{}, v3Missing("payer/openid")
		}
	}
	if req.MchID != c.m.cfg.MchID {
		return prepayParams{}, v3Invalid("mchid", "与请求头Authorization中的商户号不一致")
	}
	if !c.m.hasApp(req.AppID) {
		return prepayParams{}, &payError{Status: http.StatusBadRequest, V3: "APPID_MCHID_NOT_MATCH", V3Msg: "AppID和mch_id不匹配"}
	}
	if len(req.Description) > 127 || !utf8.ValidString(req.Description) {
		return prepayParams{}, v3Invalid("description", "字符串规则校验失败，字节数 "+strconv.Itoa(len(req.Description))+"，大于最大值 127")
	}
	if !v3OutTradeNoRE.MatchString(req.OutTradeNo) {
		return prepayParams{}, v3Invalid("out_trade_no", "字符串规则校验失败，应为6-32位数字、大小写字母或_-*")
	}
	if err := checkNotifyURL(req.NotifyURL); err != nil {
		return prepayParams{}, v3Invalid("notify_url", "格式错误，应为不带参数的http(s)地址")
	}
	if *req.Amount.Total < 1 {
		return prepayParams{}, v3Invalid("amount/total", "整数规则校验失败，值低于最小值 1")
	}
	if cur := req.Amount.Currency; cur != "" && cur != "CNY" {
		return prepayParams{}, v3Invalid("amount/currency", "取值错误，应为CNY")
	}
	params := prepayParams{
		AppID: req.AppID, Description: req.Description, OutTradeNo: req.OutTradeNo, Attach: req.Attach,
		NotifyURL: req.NotifyURL, TradeType: tradeType, Amount: *req.Amount.Total, GoodsTag: req.GoodsTag,
	}
	if req.Payer != nil {
		params.OpenID = req.Payer.OpenID
		if perr := c.e.checkPayer(req.AppID, params.OpenID); perr != nil {
			return prepayParams{}, &payError{Status: http.StatusBadRequest, V3: "PARAM_ERROR", V3Msg: "openid和appid不匹配"}
		}
	}
	if req.TimeExpire != "" {
		t, err := time.Parse(time.RFC3339, req.TimeExpire)
		if err != nil {
			return prepayParams{}, v3Invalid("time_expire", "时间格式错误，应为RFC3339格式")
		}
		params.TimeExpire = t
	}
	return params, nil
}

// v3Transaction is an order as v3 reports it (query answer and the
// plaintext of TRANSACTION.SUCCESS).
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791858
type v3Transaction struct {
	AppID           string        `json:"appid"`
	MchID           string        `json:"mchid"`
	OutTradeNo      string        `json:"out_trade_no"`
	TransactionID   string        `json:"transaction_id,omitempty"`
	TradeType       string        `json:"trade_type,omitempty"`
	TradeState      TradeState    `json:"trade_state"`
	TradeStateDesc  string        `json:"trade_state_desc"`
	BankType        string        `json:"bank_type,omitempty"`
	Attach          string        `json:"attach"`
	SuccessTime     string        `json:"success_time,omitempty"`
	Payer           *v3Payer      `json:"payer,omitempty"`
	Amount          v3AmountOut   `json:"amount"`
	PromotionDetail []v3Promotion `json:"promotion_detail,omitempty"`
}

type v3AmountOut struct {
	Total         int64  `json:"total"`
	PayerTotal    *int64 `json:"payer_total,omitempty"`
	Currency      string `json:"currency"`
	PayerCurrency string `json:"payer_currency"`
}

type v3Promotion struct {
	CouponID            string `json:"coupon_id"`
	Name                string `json:"name"`
	Scope               string `json:"scope"`
	Type                string `json:"type"`
	Amount              int64  `json:"amount"`
	StockID             string `json:"stock_id"`
	WechatpayContribute int64  `json:"wechatpay_contribute"`
	MerchantContribute  int64  `json:"merchant_contribute"`
	OtherContribute     int64  `json:"other_contribute"`
	Currency            string `json:"currency"`
}

// v3Transaction reports o; p.mu must be held.
func (o *payOrder) v3Transaction() v3Transaction {
	t := v3Transaction{
		AppID: o.params.AppID, MchID: o.m.cfg.MchID, OutTradeNo: o.params.OutTradeNo, TradeState: o.state,
		TradeStateDesc: tradeStateDesc[o.state], Attach: o.params.Attach,
		Amount: v3AmountOut{Total: o.params.Amount, Currency: "CNY", PayerCurrency: "CNY"},
	}
	if o.txnID == "" {
		return t
	}
	payerTotal := o.params.Amount - o.couponSum()
	t.TransactionID, t.TradeType, t.BankType = o.txnID, o.params.TradeType, o.bank
	t.SuccessTime, t.Payer, t.Amount.PayerTotal = v3Time(o.paidAt), &v3Payer{OpenID: o.payer}, &payerTotal
	for _, c := range o.coupons {
		typ := "CASH"
		if c.Type == "NO_CASH" {
			typ = "NOCASH"
		}
		t.PromotionDetail = append(t.PromotionDetail, v3Promotion{
			CouponID: c.ID, Name: "代金券", Scope: "GLOBAL", Type: typ, Amount: c.Amount, StockID: "stock" + c.ID,
			WechatpayContribute: 0, MerchantContribute: c.Amount, Currency: "CNY",
		})
	}
	return t
}

// payV3Query serves GET /v3/pay/transactions/out-trade-no/{out_trade_no}
// and /v3/pay/transactions/id/{transaction_id}, both ?mchid=.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791858
func (e *Emulator) payV3Query(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	mchid := r.URL.Query().Get("mchid")
	if mchid == "" {
		c.fail(w, paramError("输入源“/query/mchid”映射到值字段“直连商户号”必填性规则校验失败，此字段为必填项"))
		return
	}
	if mchid != c.m.cfg.MchID {
		c.fail(w, paramError("输入源“/query/mchid”映射到值字段“直连商户号”与请求头Authorization中的商户号不一致"))
		return
	}
	p := e.pay
	p.mu.Lock()
	o := c.m.findOrder(r.PathValue("transaction_id"), r.PathValue("out_trade_no"))
	if o == nil {
		p.mu.Unlock()
		c.fail(w, errOrderNotExist)
		return
	}
	setCallApp(r, o.params.AppID)
	t := o.v3Transaction()
	p.mu.Unlock()
	c.ok(w, http.StatusOK, t)
}

// payV3Close serves POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close
// with {"mchid"}: 204, or ORDERPAID for a paid order. Closing a closed order
// again is answered 204.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012556398
func (e *Emulator) payV3Close(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	var req struct {
		MchID string `json:"mchid"`
	}
	if !c.decode(w, &req) {
		return
	}
	if req.MchID == "" {
		c.fail(w, v3Missing("mchid"))
		return
	}
	if req.MchID != c.m.cfg.MchID {
		c.fail(w, v3Invalid("mchid", "与请求头Authorization中的商户号不一致"))
		return
	}
	e.pay.mu.Lock()
	o := c.m.orders[r.PathValue("out_trade_no")]
	e.pay.mu.Unlock()
	if o == nil {
		c.fail(w, errOrderNotExist)
		return
	}
	if perr := e.pay.closeOrder(o); perr != nil && perr != errOrderClosed {
		c.fail(w, perr)
		return
	}
	c.ok(w, http.StatusNoContent, nil)
}

// v3RefundRequest is the body of POST /v3/refund/domestic/refunds.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791862
type v3RefundRequest struct {
	TransactionID string          `json:"transaction_id"`
	OutTradeNo    string          `json:"out_trade_no"`
	OutRefundNo   string          `json:"out_refund_no"`
	Reason        string          `json:"reason"`
	NotifyURL     string          `json:"notify_url"`
	FundsAccount  string          `json:"funds_account"`
	Amount        *v3RefundAmount `json:"amount"`
	GoodsDetail   json.RawMessage `json:"goods_detail"`
}

type v3RefundAmount struct {
	Refund   *int64          `json:"refund"`
	From     json.RawMessage `json:"from"`
	Total    *int64          `json:"total"`
	Currency string          `json:"currency"`
}

// v3Refund is a refund as v3 reports it.
type v3Refund struct {
	RefundID            string             `json:"refund_id"`
	OutRefundNo         string             `json:"out_refund_no"`
	TransactionID       string             `json:"transaction_id"`
	OutTradeNo          string             `json:"out_trade_no"`
	Channel             string             `json:"channel"`
	UserReceivedAccount string             `json:"user_received_account"`
	SuccessTime         string             `json:"success_time,omitempty"`
	CreateTime          string             `json:"create_time"`
	Status              string             `json:"status"`
	FundsAccount        string             `json:"funds_account"`
	Amount              v3RefundAmountOut  `json:"amount"`
	PromotionDetail     []v3RefundPromoOut `json:"promotion_detail"`
}

type v3RefundAmountOut struct {
	Total            int64  `json:"total"`
	Refund           int64  `json:"refund"`
	From             []any  `json:"from"`
	PayerTotal       int64  `json:"payer_total"`
	PayerRefund      int64  `json:"payer_refund"`
	SettlementRefund int64  `json:"settlement_refund"`
	SettlementTotal  int64  `json:"settlement_total"`
	DiscountRefund   int64  `json:"discount_refund"`
	Currency         string `json:"currency"`
	RefundFee        int64  `json:"refund_fee"`
}

type v3RefundPromoOut struct {
	PromotionID  string `json:"promotion_id"`
	Scope        string `json:"scope"`
	Type         string `json:"type"`
	Amount       int64  `json:"amount"`
	RefundAmount int64  `json:"refund_amount"`
}

// v3Refund reports r; p.mu must be held.
func (r *payRefund) v3Refund() v3Refund {
	o := r.order
	pr := payerRefund(o, r.amount)
	out := v3Refund{
		RefundID: r.refundID, OutRefundNo: r.outRefundNo, TransactionID: o.txnID, OutTradeNo: o.params.OutTradeNo,
		Channel: "ORIGINAL", UserReceivedAccount: "支付用户零钱", CreateTime: v3Time(r.createdAt), Status: r.state,
		FundsAccount: "UNSETTLED",
		Amount: v3RefundAmountOut{
			Total: o.params.Amount, Refund: r.amount, From: []any{}, PayerTotal: o.params.Amount - o.couponSum(),
			PayerRefund: pr, SettlementRefund: r.amount, SettlementTotal: o.params.Amount,
			DiscountRefund: r.amount - pr, Currency: "CNY",
		},
		PromotionDetail: []v3RefundPromoOut{},
	}
	if r.state == refundSuccess {
		out.SuccessTime = v3Time(r.successAt)
	}
	return out
}

// payV3Refund serves POST /v3/refund/domestic/refunds.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791862
func (e *Emulator) payV3Refund(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	var req v3RefundRequest
	if !c.decode(w, &req) {
		return
	}
	perr := func() *payError {
		if req.TransactionID == "" && req.OutTradeNo == "" {
			return paramError("transaction_id和out_trade_no必须二选一进行传参")
		}
		if req.OutRefundNo == "" {
			return v3Missing("out_refund_no")
		}
		if !outTradeNoRE.MatchString(req.OutRefundNo) {
			return v3Invalid("out_refund_no", "字符串规则校验失败")
		}
		if req.Amount == nil {
			return v3Missing("amount")
		}
		if req.Amount.Refund == nil {
			return v3Missing("amount/refund")
		}
		if req.Amount.Total == nil {
			return v3Missing("amount/total")
		}
		if req.Amount.Currency == "" {
			return v3Missing("amount/currency")
		}
		if req.Amount.Currency != "CNY" {
			return v3Invalid("amount/currency", "取值错误，应为CNY")
		}
		if *req.Amount.Refund < 1 {
			return v3Invalid("amount/refund", "整数规则校验失败，值低于最小值 1")
		}
		if req.NotifyURL != "" && checkNotifyURL(req.NotifyURL) != nil {
			return v3Invalid("notify_url", "格式错误，应为不带参数的http(s)地址")
		}
		return nil
	}()
	if perr != nil {
		c.fail(w, perr)
		return
	}
	p := e.pay
	p.mu.Lock()
	o := c.m.findOrder(req.TransactionID, req.OutTradeNo)
	p.mu.Unlock()
	if o == nil {
		c.fail(w, errRefundOrderNotExist)
		return
	}
	setCallApp(r, o.params.AppID)
	rf, created, perr := p.refund(o, "v3", req.OutRefundNo, *req.Amount.Total, *req.Amount.Refund, req.Reason, req.NotifyURL)
	if perr != nil {
		c.fail(w, perr)
		return
	}
	p.mu.Lock()
	out := rf.v3Refund()
	p.mu.Unlock()
	if created {
		p.scheduleRefund(rf)
	}
	c.ok(w, http.StatusOK, out)
}

// payV3RefundQuery serves GET /v3/refund/domestic/refunds/{out_refund_no}.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791863
func (e *Emulator) payV3RefundQuery(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	p := e.pay
	p.mu.Lock()
	rf := c.m.refunds[r.PathValue("out_refund_no")]
	if rf == nil {
		p.mu.Unlock()
		c.fail(w, errRefundNotExist)
		return
	}
	out := rf.v3Refund()
	p.mu.Unlock()
	c.ok(w, http.StatusOK, out)
}

// noCertificatesMessage is the platform's answer to /v3/certificates for a
// merchant that has only a WeChat Pay public key.
const noCertificatesMessage = "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/doc/v3/merchant/4012153196"

// payV3Certificates serves GET /v3/certificates: the platform certificates,
// each encrypted with the APIv3 key (AEAD_AES_256_GCM, associated data
// "certificate"); 404 RESOURCE_NOT_EXISTS for a public_key merchant.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012551764
func (e *Emulator) payV3Certificates(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	if c.m.certKey == nil {
		e.pay.v3Error(w, c.m, http.StatusNotFound, "RESOURCE_NOT_EXISTS", noCertificatesMessage, nil)
		return
	}
	type encrypted struct {
		Algorithm      string `json:"algorithm"`
		Nonce          string `json:"nonce"`
		AssociatedData string `json:"associated_data"`
		Ciphertext     string `json:"ciphertext"`
	}
	type certificate struct {
		SerialNo           string    `json:"serial_no"`
		EffectiveTime      string    `json:"effective_time"`
		ExpireTime         string    `json:"expire_time"`
		EncryptCertificate encrypted `json:"encrypt_certificate"`
	}
	ck := c.m.certKey
	pk, err := e.PlatformKey(c.m.cfg.MchID)
	if err != nil {
		e.pay.v3Error(w, c.m, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误", nil)
		return
	}
	nonce := newNonce(12)
	ct, err := aesGCMSeal(c.m.cfg.APIv3Key, nonce, "certificate", []byte(pk.CertificatePEM))
	if err != nil {
		e.pay.v3Error(w, c.m, http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误", nil)
		return
	}
	c.ok(w, http.StatusOK, map[string]any{"data": []certificate{{
		SerialNo: ck.serial, EffectiveTime: v3Time(ck.cert.NotBefore), ExpireTime: v3Time(ck.cert.NotAfter),
		EncryptCertificate: encrypted{Algorithm: "AEAD_AES_256_GCM", Nonce: nonce, AssociatedData: "certificate", Ciphertext: ct},
	}}})
}
