package emulator

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Trade bills (交易账单): the merchant's daily reconciliation file, served
// by v2 POST /pay/downloadbill and v3 GET /v3/bill/tradebill (then GET
// /v3/billdownload/file, the download_url it hands out on its own host).
//
// The bill of a day (China time) lists the payments that succeeded that
// day and the refunds accepted that day, from the emulator's orders. The
// platform makes it from 09:00 the next day and advises downloading after
// 10:00; the emulator serves it from 10:00 the next day. Before that, and
// for a day without payments or refunds, v2 answers return_code FAIL
// "No Bill Exist" (error_code 20002); v3 answers 400 STATEMENT_CREATING
// "账单生成中" for a bill not made yet and 400 NO_STATEMENT_EXIST
// "请求的账单文件不存在" for a day without trades. A date in the future
// or more than three months back is v3 400 INVALID_REQUEST (v2: No Bill
// Exist). A malformed bill_date or bill_type is v2 error_code 20001
// ("invalid bill_date" / "invalid bill_type") and v3 PARAM_ERROR.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6 ,
// https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html ,
// https://pay.weixin.qq.com/docs/merchant/apis/bill-download/download-bill.html ,
// https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
func init() {
	handle("/pay/downloadbill", (*Emulator).payV2DownloadBill)
}

// billReadyAfter is when, after the end of a day (China time), its bill
// can be downloaded: 10:00 the next day.
const billReadyAfter = 34 * time.Hour

// billKeep is how far back bills can be downloaded (three months).
const billKeep = 92 * 24 * time.Hour

// billURLLifetime is how long a v3 download_url works (5 minutes).
const billURLLifetime = 5 * time.Minute

// The service fee rate the emulator charges: 0.60% (60/10000), the
// platform's common rate, printed as 费率 "0.60%".
const (
	feeRateNum  = 60
	feeRateDen  = 10000
	feeRateText = "0.60%"
)

// billFee is the service fee of an amount in fen, rounded half up to the
// fen as the platform does (四舍五入): 0.60% of 1 fen is 0.006 fen, 0;
// of 100 fen 0.6 fen, 1. A negative amount (a refund) gives the negative
// of the fee of its absolute value.
func billFee(fen int64) int64 {
	if fen < 0 {
		return -billFee(-fen)
	}
	return (fen*feeRateNum + feeRateDen/2) / feeRateDen
}

// The detail and summary headers of the three bill types.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
var (
	billHeaderAll     = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
	billHeaderSuccess = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注"
	billHeaderRefund  = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
	billSummaryFull   = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
	billSummaryPaid   = "总交易单数,应结订单总金额,手续费总金额,订单总金额"
)

// billLine is one detail line with its sort key.
type billLine struct {
	at   time.Time
	id   string
	text string
}

// yuan renders fen as yuan with two decimals.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// feeYuan renders a fee as the platform prints it, with five decimals.
func feeYuan(fen int64) string { return yuan(fen) + "000" }

// billText makes a field safe for the file: no backtick, no line break.
func billText(s string) string {
	return strings.NewReplacer("`", "'", "\r", " ", "\n", " ").Replace(s)
}

// billRow joins fields, each after a backtick.
func billRow(fields ...string) string { return "`" + strings.Join(fields, ",`") }

// buildBill makes m's bill of day (China time, "2006-01-02") of type
// billType; it returns nil when the day has no line of that type.
func (p *payState) buildBill(m *merchant, day time.Time, billType string) []byte {
	start := day
	end := day.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(beijing).Format(time.DateTime)
	}
	var lines []billLine
	var count int
	var settle, refunds, fees, totals, applied int64
	p.mu.Lock()
	for _, o := range m.orders {
		if o.paidAt.IsZero() {
			continue
		}
		var coupons, noCash int64
		for _, c := range o.coupons {
			coupons += c.Amount
			if c.Type == "NO_CASH" {
				noCash += c.Amount
			}
		}
		feeType := o.params.FeeType
		if feeType == "" {
			feeType = "CNY"
		}
		head := []string{o.params.AppID, m.cfg.MchID, "0", billText(o.params.DeviceInfo), o.txnID,
			o.params.OutTradeNo, o.payer, o.params.TradeType}
		body, attach := billText(o.params.Description), billText(o.params.Attach)
		if in(o.paidAt) && (billType == "ALL" || billType == "SUCCESS") {
			s := o.params.Amount - noCash
			fee := billFee(s)
			var f []string
			f = append(f, ts(o.paidAt))
			f = append(f, head...)
			f = append(f, "SUCCESS", o.bank, feeType, yuan(s), yuan(coupons))
			if billType == "ALL" {
				f = append(f, "0", "0", yuan(0), yuan(0), "", "")
			}
			f = append(f, body, attach, feeYuan(fee), feeRateText, yuan(o.params.Amount))
			if billType == "ALL" {
				f = append(f, yuan(0))
			}
			f = append(f, "")
			lines = append(lines, billLine{at: o.paidAt, id: o.txnID, text: billRow(f...)})
			count++
			settle, fees, totals = settle+s, fees+fee, totals+o.params.Amount
		}
		if billType != "ALL" && billType != "REFUND" {
			continue
		}
		for _, r := range o.refunds {
			if !in(r.createdAt) {
				continue
			}
			fee := billFee(-r.amount)
			var f []string
			f = append(f, ts(r.createdAt))
			f = append(f, head...)
			f = append(f, "REFUND", o.bank, feeType, yuan(0), yuan(0))
			if billType == "REFUND" {
				f = append(f, ts(r.createdAt), ts(r.successAt))
			}
			f = append(f, r.refundID, r.outRefundNo, yuan(r.amount), yuan(0), "ORIGINAL", r.state,
				body, attach, feeYuan(fee), feeRateText, yuan(0), yuan(r.amount), "")
			lines = append(lines, billLine{at: r.createdAt, id: r.refundID, text: billRow(f...)})
			count++
			refunds, fees, applied = refunds+r.amount, fees+fee, applied+r.amount
		}
	}
	p.mu.Unlock()
	if len(lines) == 0 {
		return nil
	}
	sort.Slice(lines, func(i, j int) bool {
		if !lines[i].at.Equal(lines[j].at) {
			return lines[i].at.Before(lines[j].at)
		}
		return lines[i].id < lines[j].id
	})
	var b bytes.Buffer
	header, summary := billHeaderAll, billSummaryFull
	sum := billRow(fmt.Sprint(count), yuan(settle), yuan(refunds), yuan(0), feeYuan(fees), yuan(totals), yuan(applied))
	switch billType {
	case "SUCCESS":
		header, summary = billHeaderSuccess, billSummaryPaid
		sum = billRow(fmt.Sprint(count), yuan(settle), feeYuan(fees), yuan(totals))
	case "REFUND":
		header = billHeaderRefund
	}
	b.WriteString(header + "\n")
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	b.WriteString(summary + "\n" + sum + "\n")
	return b.Bytes()
}

// billProblem is why a bill cannot be served.
type billProblem int

const (
	billOK       billProblem = iota
	billNotReady             // today, or before 10:00 the next day
	billOutside              // in the future, or older than three months
	billNone                 // no trade of the type that day
)

// bill returns m's bill of day for billType, or why there is none.
func (p *payState) bill(m *merchant, day time.Time, billType string) ([]byte, billProblem) {
	now := p.e.Now()
	if day.After(now) || now.Sub(day) > billKeep {
		return nil, billOutside
	}
	if now.Before(day.Add(billReadyAfter)) {
		return nil, billNotReady
	}
	if billType == "RECHARGE_REFUND" { // the emulator has no recharge coupons
		return nil, billNone
	}
	data := p.buildBill(m, day, billType)
	if data == nil {
		return nil, billNone
	}
	return data, billOK
}

// billTypeOK reports whether t is a bill_type of the trade bill.
func billTypeOK(t string) bool {
	switch t {
	case "ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND":
		return true
	}
	return false
}

// gzipBytes compresses b.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// v2BillFail answers a downloadbill failure: return_code FAIL with
// error_code, unsigned.
func v2BillFail(w http.ResponseWriter, msg, code string) {
	markPayFailed(w)
	var x xmlBuilder
	x.b.WriteString("<xml>")
	x.cdata("return_code", "FAIL")
	x.cdata("return_msg", msg)
	x.cdata("error_code", code)
	x.b.WriteString("</xml>")
	writeXML(w, x.b.Bytes())
}

// payV2DownloadBill serves POST /pay/downloadbill: the bill as text (or
// gzip with tar_type=GZIP), unsigned, or return_code FAIL XML.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
func (e *Emulator) payV2DownloadBill(w http.ResponseWriter, r *http.Request) {
	c := e.v2Authenticate(w, r)
	if c == nil {
		return
	}
	day, err := time.ParseInLocation("20060102", c.f["bill_date"], beijing)
	if err != nil || len(c.f["bill_date"]) != 8 {
		v2BillFail(w, "invalid bill_date", "20001")
		return
	}
	bt := c.f["bill_type"]
	if bt == "" {
		bt = "ALL"
	}
	if !billTypeOK(bt) {
		v2BillFail(w, "invalid bill_type", "20001")
		return
	}
	if tt := c.f["tar_type"]; tt != "" && tt != "GZIP" {
		v2BillFail(w, "invalid tar_type", "20001")
		return
	}
	data, problem := e.pay.bill(c.m, day, bt)
	if problem != billOK {
		v2BillFail(w, "No Bill Exist", "20002")
		return
	}
	if c.f["tar_type"] == "GZIP" {
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+c.f["bill_date"]+`.gzip"`)
		_, _ = w.Write(gzipBytes(data))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(data)
}

// billFile is a bill handed out by v3 tradebill, waiting for its download.
type billFile struct {
	mchID   string
	data    []byte // uncompressed
	gzip    bool
	expires time.Time
}

// payV3TradeBill serves GET /v3/bill/tradebill.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
func (e *Emulator) payV3TradeBill(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	q := r.URL.Query()
	bd := q.Get("bill_date")
	day, err := time.ParseInLocation(time.DateOnly, bd, beijing)
	if bd == "" {
		c.fail(w, paramError("输入源“/query/bill_date”映射到值字段“账单日期”必填性规则校验失败，此字段为必填项"))
		return
	}
	if err != nil || len(bd) != len(time.DateOnly) {
		c.fail(w, paramError("输入源“/query/bill_date”映射到值字段“账单日期”字符串规则校验失败，格式应为yyyy-MM-dd"))
		return
	}
	bt := q.Get("bill_type")
	if bt == "" {
		bt = "ALL"
	}
	if !billTypeOK(bt) {
		c.fail(w, paramError("输入源“/query/bill_type”映射到值字段“账单类型”枚举值规则校验失败"))
		return
	}
	tt := q.Get("tar_type")
	if tt != "" && tt != "GZIP" {
		c.fail(w, paramError("输入源“/query/tar_type”映射到值字段“压缩类型”枚举值规则校验失败"))
		return
	}
	data, problem := e.pay.bill(c.m, day, bt)
	switch problem {
	case billOutside:
		c.fail(w, &payError{Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "参数错误，请检查bill_date"})
		return
	case billNotReady:
		c.fail(w, &payError{Status: http.StatusBadRequest, V3: "STATEMENT_CREATING", V3Msg: "账单生成中"})
		return
	case billNone:
		c.fail(w, &payError{Status: http.StatusBadRequest, V3: "NO_STATEMENT_EXIST", V3Msg: "请求的账单文件不存在"})
		return
	}
	token := randomString(64, tokenAlphabet[:62])
	e.pay.mu.Lock()
	if e.pay.bills == nil {
		e.pay.bills = map[string]*billFile{}
	}
	now := e.Now()
	for k, f := range e.pay.bills {
		if now.After(f.expires) {
			delete(e.pay.bills, k)
		}
	}
	e.pay.bills[token] = &billFile{mchID: c.m.cfg.MchID, data: data, gzip: tt == "GZIP", expires: now.Add(billURLLifetime)}
	e.pay.mu.Unlock()
	sum := sha1.Sum(data)
	u := requestOrigin(r) + "/v3/billdownload/file?token=" + token
	if tt == "GZIP" {
		u += "&tartype=gzip"
	}
	c.ok(w, http.StatusOK, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]), "download_url": u})
}

// payV3BillDownload serves GET /v3/billdownload/file: the bill, unsigned
// (the platform sends no Wechatpay-Signature on a download), to the
// merchant it was handed out to, within 5 minutes.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/bill-download/download-bill.html
func (e *Emulator) payV3BillDownload(w http.ResponseWriter, r *http.Request) {
	c := e.v3Authenticate(w, r)
	if c == nil {
		return
	}
	e.pay.mu.Lock()
	f := e.pay.bills[r.URL.Query().Get("token")]
	e.pay.mu.Unlock()
	if f == nil || f.mchID != c.m.cfg.MchID {
		c.fail(w, &payError{Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "下载链接无效"})
		return
	}
	if e.Now().After(f.expires) {
		c.fail(w, &payError{Status: http.StatusBadRequest, V3: "INVALID_REQUEST", V3Msg: "下载链接已过期，请重新申请账单"})
		return
	}
	body := f.data
	if f.gzip {
		body = gzipBytes(body)
		w.Header().Set("Content-Type", "application/x-gzip")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Request-ID", strings.ToUpper(newUUID()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
