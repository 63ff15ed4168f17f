package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit"
)

// Notify event types (v3 event_type; also used for v2 notifies in
// NotifyAttempt.Event).
const (
	EventTransactionSuccess = "TRANSACTION.SUCCESS"
	EventRefundSuccess      = "REFUND.SUCCESS"
	EventRefundClosed       = "REFUND.CLOSED"
	EventRefundAbnormal     = "REFUND.ABNORMAL"
)

// refundEvents are the event_type and summary of the notify of a refund
// in each final state.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/refund-result-notice.html
var refundEvents = map[string]struct{ event, summary string }{
	refundSuccess:  {EventRefundSuccess, "退款成功"},
	refundClosed:   {EventRefundClosed, "退款关闭"},
	refundAbnormal: {EventRefundAbnormal, "退款异常"},
}

// NotifyAttempt is one HTTP delivery of a pay or refund notify to the
// merchant, with the merchant's answer.
type NotifyAttempt struct {
	// At is the emulator time the delivery was due (a scheduled retry) or
	// made (the first delivery, a copy).
	At time.Time `json:"at"`
	// Event is TRANSACTION.SUCCESS (pay), or REFUND.SUCCESS, REFUND.CLOSED
	// or REFUND.ABNORMAL (refund; the v3 event_type, for v2 notifies too).
	Event string `json:"event"`
	// OutRefundNo names the refund of a refund notify.
	OutRefundNo string `json:"out_refund_no,omitempty"`
	// Attempt numbers the scheduled deliveries of one notify from 1; 0 for
	// a copy sent through the control API.
	Attempt int `json:"attempt"`
	// HTTPStatus is the status of the merchant's answer, 0 when there was
	// none (timeout, connection refused).
	HTTPStatus int `json:"http_status"`
	// Body is the merchant's answer (at most 64 KiB are kept).
	Body string `json:"body"`
	// Acknowledged tells whether the platform took the answer as received:
	// v2 <return_code>SUCCESS</return_code>, v3 any 2xx status.
	Acknowledged bool `json:"acknowledged"`
	// Error tells why the answer is not an acknowledgement.
	Error string `json:"error,omitempty"`
	// Request is the notify body that was sent.
	Request string `json:"request"`
	// RequestHeaders are the Wechatpay-* headers of a v3 notify.
	RequestHeaders map[string]string `json:"request_headers,omitempty"`
}

// notifyJob is one notify (a payment or a refund) and its deliveries. The
// body is fixed (the same notify id, nonce_str and sign in every delivery);
// v3 headers are signed afresh for each.
type notifyJob struct {
	m        *merchant
	order    *payOrder
	refund   *payRefund // nil for a pay notify
	version  string
	event    string
	url      string
	body     []byte
	attempts int  // scheduled deliveries made; guarded by payState.mu
	done     bool // acknowledged; guarded by payState.mu
}

// startNotify delivers job now and schedules its retries.
func (p *payState) startNotify(job *notifyJob) {
	p.sched.at(p.e.Now(), func(due time.Time) { p.runNotify(job, due) })
}

// runNotify makes the next scheduled delivery of job, due at due, and
// schedules the one after when it is not acknowledged.
func (p *payState) runNotify(job *notifyJob, due time.Time) {
	p.mu.Lock()
	if job.done {
		p.mu.Unlock()
		return
	}
	job.attempts++
	n := job.attempts
	p.mu.Unlock()

	att := p.deliverNotify(job, due, n)

	sched := job.m.cfg.NotifySchedule
	p.mu.Lock()
	job.order.notifies = append(job.order.notifies, att)
	if att.Acknowledged {
		job.done = true
	}
	retry := !job.done && n <= len(sched)
	p.mu.Unlock()
	if retry {
		p.sched.at(due.Add(sched[n-1]), func(d time.Time) { p.runNotify(job, d) })
	}
}

// sendCopies delivers copies identical deliveries of job at once and waits
// for them. An acknowledged copy ends the retries.
func (p *payState) sendCopies(ctx context.Context, job *notifyJob, copies int) []NotifyAttempt {
	at := p.e.Now()
	out := make([]NotifyAttempt, copies)
	var wg sync.WaitGroup
	for i := range out {
		p.sched.begin()
		wg.Go(func() {
			defer p.sched.end()
			out[i] = p.deliverNotifyCtx(ctx, job, at, 0)
		})
	}
	wg.Wait()
	p.mu.Lock()
	for _, att := range out {
		job.order.notifies = append(job.order.notifies, att)
		if att.Acknowledged {
			job.done = true
		}
	}
	p.mu.Unlock()
	return out
}

func (p *payState) deliverNotify(job *notifyJob, at time.Time, n int) NotifyAttempt {
	return p.deliverNotifyCtx(context.Background(), job, at, n)
}

// deliverNotifyCtx makes one HTTP delivery of job and judges the answer.
func (p *payState) deliverNotifyCtx(ctx context.Context, job *notifyJob, at time.Time, n int) NotifyAttempt {
	att := NotifyAttempt{At: at, Event: job.event, Attempt: n, Request: string(job.body)}
	if job.refund != nil {
		att.OutRefundNo = job.refund.outRefundNo
	}
	defer func() { p.e.stats.recordPayNotify(job.m.cfg.MchID, att.Acknowledged) }()
	ctx, cancel := context.WithTimeout(ctx, job.m.cfg.NotifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.url, bytes.NewReader(job.body))
	if err != nil {
		att.Error = "bad notify_url: " + err.Error()
		return att
	}
	req.Header.Set("User-Agent", "Mozilla/4.0")
	req.Header.Set("Accept", "*/*")
	if job.version == "v3" {
		req.Header.Set("Content-Type", "application/json")
		h, err := p.signV3(job.m, job.body)
		if err != nil {
			att.Error = err.Error()
			return att
		}
		att.RequestHeaders = map[string]string{}
		for k, v := range h {
			req.Header.Set(k, v)
			att.RequestHeaders[k] = v
		}
	} else {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := p.e.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			att.Error = fmt.Sprintf("timeout: no answer within %s", job.m.cfg.NotifyTimeout)
		} else {
			att.Error = "connection error: " + err.Error()
		}
		return att
	}
	body, rerr := wxkit.ReadLimited(resp.Body, maxReplyBody)
	_ = resp.Body.Close()
	att.HTTPStatus = resp.StatusCode
	att.Body = string(body[:min(len(body), 64<<10)])
	switch {
	case rerr != nil:
		att.Error = "reading the answer: " + rerr.Error()
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		att.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	case job.version == "v3":
		att.Acknowledged = true
	default:
		f, err := parseV2XML(body)
		switch {
		case err != nil:
			att.Error = "the answer is not XML: " + err.Error()
		case f["return_code"] != "SUCCESS":
			att.Error = fmt.Sprintf("return_code %q", f["return_code"])
		default:
			att.Acknowledged = true
		}
	}
	return att
}

// ResendNotify sends copies (1 to 1000) identical copies of the pay notify
// of an order at once, as the platform does when several of its servers
// notify within seconds, and returns the deliveries when they are all
// answered. The order must be paid. An acknowledged copy ends the retries of
// that notify. Errors: ErrUnknownMerchant, ErrUnknownOrder, ErrOrderNotPaid,
// ErrBadPayment (copies out of range).
func (e *Emulator) ResendNotify(ctx context.Context, mchID, outTradeNo string, copies int) ([]NotifyAttempt, error) {
	return e.resend(ctx, mchID, copies, func(m *merchant) (*notifyJob, error) {
		o := m.orders[outTradeNo]
		if o == nil {
			return nil, fmt.Errorf("%w: %q", ErrUnknownOrder, outTradeNo)
		}
		if o.payNotify == nil {
			return nil, fmt.Errorf("%w: %s is %s", ErrOrderNotPaid, outTradeNo, o.state)
		}
		return o.payNotify, nil
	})
}

// ResendRefundNotify is ResendNotify for the notify of a refund, which must
// have settled (SUCCESS, CLOSED or ABNORMAL) and have a notify URL. Errors: ErrUnknownMerchant,
// ErrUnknownOrder (no such out_refund_no), ErrOrderNotPaid (no notify yet),
// ErrBadPayment.
func (e *Emulator) ResendRefundNotify(ctx context.Context, mchID, outRefundNo string, copies int) ([]NotifyAttempt, error) {
	return e.resend(ctx, mchID, copies, func(m *merchant) (*notifyJob, error) {
		r := m.refunds[outRefundNo]
		if r == nil {
			return nil, fmt.Errorf("%w: no refund %q", ErrUnknownOrder, outRefundNo)
		}
		if r.notify == nil {
			return nil, fmt.Errorf("%w: refund %s is %s and has no notify", ErrOrderNotPaid, outRefundNo, r.state)
		}
		return r.notify, nil
	})
}

// resend finds a notify with find (under p.mu) and sends copies of it.
func (e *Emulator) resend(ctx context.Context, mchID string, copies int, find func(*merchant) (*notifyJob, error)) ([]NotifyAttempt, error) {
	if copies < 1 || copies > 1000 {
		return nil, fmt.Errorf("%w: copies must be 1..1000, got %d", ErrBadPayment, copies)
	}
	p := e.pay
	p.mu.Lock()
	m := p.merchants[mchID]
	if m == nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrUnknownMerchant, mchID)
	}
	job, err := find(m)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return p.sendCopies(ctx, job, copies), nil
}

// newPayNotify builds the pay notify of a paid order.
func (p *payState) newPayNotify(o *payOrder) (*notifyJob, error) {
	job := &notifyJob{m: o.m, order: o, version: o.version, event: EventTransactionSuccess, url: o.params.NotifyURL}
	now := p.e.Now()
	if o.version == "v2" {
		p.mu.Lock()
		f := o.v2PayFields()
		p.mu.Unlock()
		f["nonce_str"] = newNonce(32)
		if o.params.SignType == signTypeHMACSHA256 {
			f["sign_type"] = signTypeHMACSHA256
		}
		body, err := v2SignedXML(f, o.m.cfg.APIKey, o.params.SignType, v2NotifyOrder)
		if err != nil {
			return nil, err
		}
		job.body = body
		return job, nil
	}
	p.mu.Lock()
	tx := o.v3Transaction()
	p.mu.Unlock()
	body, err := p.v3NotifyBody(o.m, EventTransactionSuccess, "transaction", "支付成功", tx, now)
	if err != nil {
		return nil, err
	}
	job.body = body
	return job, nil
}

// newRefundNotify builds the notify of a refund that settled (SUCCESS,
// CLOSED or ABNORMAL).
func (p *payState) newRefundNotify(r *payRefund) (*notifyJob, error) {
	o := r.order
	p.mu.Lock()
	ev := refundEvents[r.state]
	p.mu.Unlock()
	if ev.event == "" {
		return nil, fmt.Errorf("refund %s is %s: no notify", r.outRefundNo, r.state)
	}
	job := &notifyJob{m: o.m, order: o, refund: r, version: r.version, event: ev.event, url: r.notifyURL}
	now := p.e.Now()
	if r.version == "v2" {
		p.mu.Lock()
		plain := o.v2RefundReqInfo(r)
		p.mu.Unlock()
		enc, err := aesECBEncrypt(refundReqInfoKey(o.m.cfg.APIKey), []byte(plain))
		if err != nil {
			return nil, err
		}
		// The refund notify carries no sign: req_info is encrypted with the key.
		var x xmlBuilder
		x.b.WriteString("<xml>")
		x.num("return_code", "SUCCESS")
		x.cdata("appid", o.params.AppID)
		x.cdata("mch_id", o.m.cfg.MchID)
		x.cdata("nonce_str", newNonce(32))
		x.cdata("req_info", enc)
		x.b.WriteString("</xml>")
		job.body = x.b.Bytes()
		return job, nil
	}
	p.mu.Lock()
	payload := v3RefundNotify{
		MchID: o.m.cfg.MchID, TransactionID: o.txnID, OutTradeNo: o.params.OutTradeNo, RefundID: r.refundID,
		OutRefundNo: r.outRefundNo, RefundStatus: r.state, UserReceivedAccount: "支付用户零钱",
		Amount: v3RefundNotifyAmount{
			Total: o.params.Amount, Refund: r.amount, PayerTotal: o.params.Amount - o.couponSum(),
			PayerRefund: payerRefund(o, r.amount),
		},
	}
	if r.state == refundSuccess {
		payload.SuccessTime = v3Time(r.successAt)
	}
	p.mu.Unlock()
	body, err := p.v3NotifyBody(o.m, ev.event, "refund", ev.summary, payload, now)
	if err != nil {
		return nil, err
	}
	job.body = body
	return job, nil
}

// v3NotifyEnvelope is the body of a v3 notify, in the platform's field order.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012791861
type v3NotifyEnvelope struct {
	ID           string           `json:"id"`
	CreateTime   string           `json:"create_time"`
	ResourceType string           `json:"resource_type"`
	EventType    string           `json:"event_type"`
	Summary      string           `json:"summary"`
	Resource     v3NotifyResource `json:"resource"`
}

type v3NotifyResource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

type v3RefundNotify struct {
	MchID               string               `json:"mchid"`
	TransactionID       string               `json:"transaction_id"`
	OutTradeNo          string               `json:"out_trade_no"`
	RefundID            string               `json:"refund_id"`
	OutRefundNo         string               `json:"out_refund_no"`
	RefundStatus        string               `json:"refund_status"`
	SuccessTime         string               `json:"success_time,omitempty"` // SUCCESS only
	UserReceivedAccount string               `json:"user_received_account"`
	Amount              v3RefundNotifyAmount `json:"amount"`
}

type v3RefundNotifyAmount struct {
	Total       int64 `json:"total"`
	Refund      int64 `json:"refund"`
	PayerTotal  int64 `json:"payer_total"`
	PayerRefund int64 `json:"payer_refund"`
}

// v3NotifyBody encrypts payload with the merchant's APIv3 key
// (AEAD_AES_256_GCM, a fresh 12-character nonce, associated data = the
// original type) into a notify envelope.
func (p *payState) v3NotifyBody(m *merchant, event, originalType, summary string, payload any, now time.Time) ([]byte, error) {
	plain, err := marshalJSON(payload)
	if err != nil {
		return nil, err
	}
	nonce := newNonce(12)
	ct, err := aesGCMSeal(m.cfg.APIv3Key, nonce, originalType, plain)
	if err != nil {
		return nil, err
	}
	return marshalJSON(v3NotifyEnvelope{
		ID: newUUID(), CreateTime: v3Time(now), ResourceType: "encrypt-resource", EventType: event, Summary: summary,
		Resource: v3NotifyResource{
			OriginalType: originalType, Algorithm: "AEAD_AES_256_GCM", Ciphertext: ct, AssociatedData: originalType, Nonce: nonce,
		},
	})
}

// v2PayFields are the fields of a v2 pay notify (and of a paid order's
// orderquery answer), coupons included, without nonce_str and sign.
// p.mu must be held.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
func (o *payOrder) v2PayFields() map[string]string {
	f := map[string]string{
		"return_code": "SUCCESS", "result_code": "SUCCESS",
		"appid": o.params.AppID, "mch_id": o.m.cfg.MchID, "device_info": o.params.DeviceInfo,
		"openid": o.payer, "is_subscribe": o.isSubscribe(), "trade_type": o.params.TradeType,
		"bank_type": o.bank, "total_fee": strconv.FormatInt(o.params.Amount, 10), "fee_type": "CNY",
		"cash_fee":       strconv.FormatInt(o.params.Amount-o.couponSum(), 10),
		"transaction_id": o.txnID, "out_trade_no": o.params.OutTradeNo, "attach": o.params.Attach,
		"time_end": o.paidAt.In(beijing).Format("20060102150405"),
	}
	if len(o.coupons) > 0 {
		f["coupon_fee"] = strconv.FormatInt(o.couponSum(), 10)
		f["coupon_count"] = strconv.Itoa(len(o.coupons))
		for i, c := range o.coupons {
			n := strconv.Itoa(i)
			f["coupon_type_"+n], f["coupon_id_"+n], f["coupon_fee_"+n] = c.Type, c.ID, strconv.FormatInt(c.Amount, 10)
		}
	}
	return f
}

// v2RefundReqInfo is the plaintext of a v2 refund notify's req_info:
// refund_status SUCCESS, REFUNDCLOSE or CHANGE, success_time for SUCCESS
// only. p.mu must be held.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func (o *payOrder) v2RefundReqInfo(r *payRefund) string {
	fields := []struct{ k, v string }{
		{"out_refund_no", r.outRefundNo},
		{"out_trade_no", o.params.OutTradeNo},
		{"refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS"},
		{"refund_fee", strconv.FormatInt(r.amount, 10)},
		{"refund_id", r.refundID},
		{"refund_recv_accout", "支付用户零钱"},
		{"refund_request_source", "API"},
		{"refund_status", v2RefundStatus(r.state)},
		{"settlement_refund_fee", strconv.FormatInt(r.amount, 10)},
		{"settlement_total_fee", strconv.FormatInt(o.params.Amount, 10)},
		{"success_time", r.successAt.In(beijing).Format(time.DateTime)},
		{"total_fee", strconv.FormatInt(o.params.Amount, 10)},
		{"transaction_id", o.txnID},
	}
	var x xmlBuilder
	if r.state != refundSuccess {
		fields = slices.DeleteFunc(fields, func(f struct{ k, v string }) bool { return f.k == "success_time" })
	}
	x.b.WriteString("<root>\n")
	for _, f := range fields {
		x.cdata(f.k, f.v)
		x.b.WriteByte('\n')
	}
	x.b.WriteString("</root>")
	return x.b.String()
}

// couponSum is the total of the coupons applied; p.mu must be held.
func (o *payOrder) couponSum() int64 {
	var s int64
	for _, c := range o.coupons {
		s += c.Amount
	}
	return s
}

// payerRefund is the part of a refund that goes back to the payer (the
// rest returns to the coupons, pro rata); p.mu must be held.
func payerRefund(o *payOrder, amount int64) int64 {
	return amount - amount*o.couponSum()/o.params.Amount
}

// isSubscribe is Y when the payer follows the order's app (when the
// emulator hosts it), else N; p.mu must be held.
func (o *payOrder) isSubscribe() string {
	a := o.m.e.app(o.params.AppID)
	if a == nil {
		return "N"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if u := a.user(o.payer); u != nil && u.subscribed {
		return "Y"
	}
	return "N"
}

// v3Time formats t as the platform does in v3 (RFC 3339, China time).
func v3Time(t time.Time) string { return t.In(beijing).Format(time.RFC3339) }

// newUUID returns a random (version 4) UUID, the shape of notify ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// marshalJSON encodes v without HTML escaping and without a trailing
// newline, as the platform's JSON looks.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// v2NotifyOrder is the element order of v2 pay notifies and orderquery
// answers; fields not listed follow in key order.
var v2NotifyOrder = strings.Fields(`return_code return_msg appid mch_id device_info nonce_str sign sign_type
	result_code err_code err_code_des openid is_subscribe trade_type trade_state bank_type total_fee
	settlement_total_fee fee_type cash_fee cash_fee_type coupon_fee coupon_count transaction_id out_trade_no
	attach time_end trade_state_desc`)
