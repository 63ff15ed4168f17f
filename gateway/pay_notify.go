package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxkit/wxkit/pay"
	payv3 "github.com/wxkit/wxkit/pay/v3"
	"github.com/wxkit/wxkit/store"
)

// Notify handling. A notify is applied only after its signature (v2: the
// sign over every field; v3: Wechatpay-Signature within the timestamp
// tolerance, then AEAD decryption) and then its mch_id, appid,
// out_trade_no and amount all match the stored order; the change and the
// paid event's outbox job are one transaction (store.Orders). Answers:
//
//	applied, duplicate   v2 SUCCESS / v3 204
//	ignored              the same (verified, nothing to change: a failed payment, another event)
//	rejected             v2 FAIL / v3 4xx, nothing changed, logged at error level with alert=true
//	error                v2 FAIL / v3 500 (the store failed): the platform sends it again
//
// Each is counted in wxkit_pay_notifies_total{mch_id,version,outcome}.

// notifyResult is what became of one notify.
type notifyResult struct {
	outcome string // applied, duplicate, ignored, rejected, error
	status  int    // HTTP status of a rejection or error
	reason  string // why, for the log and the answer (no secrets)
	// for the log
	outTradeNo, outRefundNo, transactionID string
	err                                    error
}

func rejected(status int, format string, args ...any) notifyResult {
	return notifyResult{outcome: payRejected, status: status, reason: fmt.Sprintf(format, args...)}
}

// notifyMerchant returns the merchant of the notify URL when it speaks
// version, else nil.
func (p *Payments) notifyMerchant(r *http.Request, version string) *payMerchant {
	m := p.merchants[r.PathValue("mch_id")]
	if m == nil || m.cfg.Version != version {
		return nil
	}
	return m
}

// finish logs and counts res (for merchant mchID, API version) and returns
// whether the platform is to be told the notify was received.
func (p *Payments) finish(ctx context.Context, r *http.Request, mchID, version, kind string, res notifyResult) bool {
	if p.metrics != nil {
		p.metrics.payNotify(mchID, version, res.outcome)
	}
	attrs := []slog.Attr{slog.String("mch_id", mchID), slog.String("version", version), slog.String("notify", kind),
		slog.String("outcome", res.outcome)}
	if res.outTradeNo != "" {
		attrs = append(attrs, slog.String("out_trade_no", res.outTradeNo))
	}
	if res.outRefundNo != "" {
		attrs = append(attrs, slog.String("out_refund_no", res.outRefundNo))
	}
	if res.transactionID != "" {
		attrs = append(attrs, slog.String("transaction_id", res.transactionID))
	}
	if res.reason != "" {
		attrs = append(attrs, slog.String("reason", res.reason))
	}
	if res.err != nil {
		attrs = append(attrs, slog.String("error", res.err.Error()))
	}
	switch res.outcome {
	case payApplied:
		p.logger.LogAttrs(ctx, slog.LevelInfo, "pay: notify applied", attrs...)
	case payDuplicate:
		p.logger.LogAttrs(ctx, slog.LevelDebug, "pay: notify repeated; nothing changed", attrs...)
	case payIgnored:
		p.logger.LogAttrs(ctx, slog.LevelWarn, "pay: notify acknowledged without change", attrs...)
	case payRejected:
		attrs = append(attrs, slog.Bool("alert", true), slog.String("remote", r.RemoteAddr))
		p.logger.LogAttrs(ctx, slog.LevelError, "pay: notify rejected; nothing changed", attrs...)
	default:
		p.logger.LogAttrs(ctx, slog.LevelError, "pay: notify not applied (store failure); the platform will send it again", attrs...)
	}
	return res.outcome == payApplied || res.outcome == payDuplicate || res.outcome == payIgnored
}

// writeV2 answers a v2 notify with res.
func (p *Payments) writeV2(w http.ResponseWriter, r *http.Request, mchID, kind string, res notifyResult) {
	ok := p.finish(r.Context(), r, mchID, PayV2, kind, res)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	status, msg := http.StatusOK, "OK"
	if !ok {
		status, msg = res.status, res.reason
		if res.outcome == payError {
			status, msg = http.StatusInternalServerError, "temporary failure, send again"
		}
	}
	w.WriteHeader(status)
	w.Write(pay.NotifyReply(ok, msg))
}

// writeV3 answers a v3 notify with res.
func (p *Payments) writeV3(w http.ResponseWriter, r *http.Request, mchID, kind string, res notifyResult) {
	if p.finish(r.Context(), r, mchID, PayV3, kind, res) {
		payv3.WriteNotifyResponse(w, nil, 0, "")
		return
	}
	if res.outcome == payError {
		payv3.WriteNotifyResponse(w, errors.New(res.outcome), http.StatusInternalServerError, "temporary failure, send again")
		return
	}
	payv3.WriteNotifyResponse(w, errors.New(res.outcome), res.status, res.reason)
}

// readNotify reads a notify body of at most limit bytes.
func readNotify(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// serveV2Notify serves POST /pay/notify/{mch_id}: a v2 pay notify.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
func (p *Payments) serveV2Notify(w http.ResponseWriter, r *http.Request) {
	mchID := r.PathValue("mch_id")
	m := p.notifyMerchant(r, PayV2)
	if m == nil {
		p.writeV2(w, r, unknownMch(mchID), "pay", rejected(http.StatusNotFound, "no v2 merchant %q here", mchID))
		return
	}
	body, err := readNotify(w, r, pay.MaxNotifyBytes)
	if err != nil {
		p.writeV2(w, r, mchID, "pay", rejected(http.StatusRequestEntityTooLarge, "body: %v", err))
		return
	}
	n, err := pay.ParseNotify(body, m.cfg.APIKey, pay.SignType(m.cfg.SignType))
	var res notifyResult
	_, failed := errors.AsType[*pay.Error](err)
	_, notOK := errors.AsType[*pay.ReturnError](err)
	switch {
	case err == nil:
		pm := &store.Payment{MchID: n.MchID, OutTradeNo: n.OutTradeNo, AppID: n.AppID, Amount: n.TotalFee,
			State: store.TradeStateSuccess, TransactionID: n.TransactionID, At: n.TimeEnd}
		res = p.notifyPayment(r.Context(), m, pm, n.OpenID)
	case failed && n != nil:
		// Verified, result_code FAIL: the payment did not go through. The
		// order stays open (the user may pay again); answer SUCCESS.
		res = notifyResult{outcome: payIgnored, reason: "result_code FAIL: " + err.Error(), outTradeNo: n.OutTradeNo}
	case notOK:
		res = notifyResult{outcome: payIgnored, reason: err.Error()}
	default:
		res = rejected(http.StatusBadRequest, "%v", err)
	}
	p.writeV2(w, r, mchID, "pay", res)
}

// serveV2RefundNotify serves POST /pay/refund/notify/{mch_id}: a v2 refund
// notify, whose req_info only a holder of the API key can encrypt.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func (p *Payments) serveV2RefundNotify(w http.ResponseWriter, r *http.Request) {
	mchID := r.PathValue("mch_id")
	m := p.notifyMerchant(r, PayV2)
	if m == nil {
		p.writeV2(w, r, unknownMch(mchID), "refund", rejected(http.StatusNotFound, "no v2 merchant %q here", mchID))
		return
	}
	body, err := readNotify(w, r, pay.MaxNotifyBytes)
	if err != nil {
		p.writeV2(w, r, mchID, "refund", rejected(http.StatusRequestEntityTooLarge, "body: %v", err))
		return
	}
	n, err := pay.ParseRefundNotify(body, m.cfg.APIKey)
	var res notifyResult
	_, notOK := errors.AsType[*pay.ReturnError](err)
	switch {
	case err == nil:
		if n.AppID != "" && !m.cfg.takes(n.AppID) {
			res = rejected(http.StatusBadRequest, "appid %s is not an app of the merchant", n.AppID)
			break
		}
		st, known := refundStateV2(n.RefundStatus)
		if !known {
			res = notifyResult{outcome: payIgnored, reason: "refund_status " + string(n.RefundStatus), outRefundNo: n.OutRefundNo}
			break
		}
		res = p.notifyRefund(r.Context(), m, &store.RefundResult{MchID: n.MchID, OutRefundNo: n.OutRefundNo,
			OutTradeNo: n.OutTradeNo, Amount: n.RefundFee, State: st, RefundID: n.RefundID, At: n.SuccessTime})
	case notOK:
		res = notifyResult{outcome: payIgnored, reason: err.Error()}
	default:
		res = rejected(http.StatusBadRequest, "%v", err)
	}
	p.writeV2(w, r, mchID, "refund", res)
}

// refundStateV2 maps a v2 refund_status: SUCCESS, REFUNDCLOSE → CLOSED,
// CHANGE → ABNORMAL (the money did not reach the user: handle it on the
// merchant platform).
func refundStateV2(s pay.RefundStatus) (store.RefundState, bool) {
	switch s {
	case pay.RefundStatusSuccess:
		return store.RefundStateSuccess, true
	case pay.RefundStatusRefundClose:
		return store.RefundStateClosed, true
	case pay.RefundStatusChange:
		return store.RefundStateAbnormal, true
	}
	return "", false
}

// serveV3Notify serves POST /pay/v3/notify/{mch_id}: v3 pay
// (TRANSACTION.SUCCESS) and refund (REFUND.*) notifies.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
func (p *Payments) serveV3Notify(w http.ResponseWriter, r *http.Request) {
	mchID := r.PathValue("mch_id")
	m := p.notifyMerchant(r, PayV3)
	if m == nil {
		p.writeV3(w, r, unknownMch(mchID), "pay", rejected(http.StatusNotFound, "no v3 merchant %q here", mchID))
		return
	}
	n, err := m.v3.ParseNotify(r)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, payv3.ErrSignature):
			status = http.StatusUnauthorized
		case errors.Is(err, payv3.ErrBodyTooLarge):
			status = http.StatusRequestEntityTooLarge
		}
		p.writeV3(w, r, mchID, "pay", rejected(status, "%v", err))
		return
	}
	switch {
	case n.Transaction != nil:
		t := n.Transaction
		if t.TradeState != payv3.TradeStateSuccess {
			p.writeV3(w, r, mchID, "pay", notifyResult{outcome: payIgnored, reason: "trade_state " + string(t.TradeState), outTradeNo: t.OutTradeNo})
			return
		}
		pm := &store.Payment{MchID: t.MchID, OutTradeNo: t.OutTradeNo, AppID: t.AppID, Amount: t.Amount.Total,
			State: store.TradeStateSuccess, TransactionID: t.TransactionID, At: t.SuccessTime}
		p.writeV3(w, r, mchID, "pay", p.notifyPayment(r.Context(), m, pm, t.Payer.OpenID))
	case n.Refund != nil:
		rn := n.Refund
		st := refundStateV3(rn.RefundStatus)
		if st == "" || st == store.RefundStateProcessing {
			p.writeV3(w, r, mchID, "refund", notifyResult{outcome: payIgnored, reason: "refund_status " + string(rn.RefundStatus), outRefundNo: rn.OutRefundNo})
			return
		}
		p.writeV3(w, r, mchID, "refund", p.notifyRefund(r.Context(), m, &store.RefundResult{MchID: rn.MchID,
			OutRefundNo: rn.OutRefundNo, OutTradeNo: rn.OutTradeNo, Amount: rn.Amount.Refund, State: st,
			RefundID: rn.RefundID, At: rn.SuccessTime}))
	default:
		p.writeV3(w, r, mchID, "pay", notifyResult{outcome: payIgnored, reason: "event_type " + string(n.EventType)})
	}
}

// unknownMch is the metric label of a notify for a merchant not
// configured (a bounded label: not the path's value).
func unknownMch(string) string { return "unknown" }

// notifyPayment matches a verified payment against its order and applies
// it. openID is the payer the platform names ("" when it names none).
func (p *Payments) notifyPayment(ctx context.Context, m *payMerchant, pm *store.Payment, openID string) notifyResult {
	res := notifyResult{outTradeNo: pm.OutTradeNo, transactionID: pm.TransactionID}
	mismatch := func(format string, args ...any) notifyResult {
		r := rejected(http.StatusBadRequest, format, args...)
		r.outTradeNo, r.transactionID = res.outTradeNo, res.transactionID
		return r
	}
	if pm.MchID != m.cfg.MchID {
		return mismatch("mch_id %q at the notify URL of %s", pm.MchID, m.cfg.MchID)
	}
	if !m.cfg.takes(pm.AppID) {
		return mismatch("appid %q is not an app of the merchant", pm.AppID)
	}
	o, err := p.orders.Order(ctx, pm.MchID, pm.OutTradeNo)
	if errors.Is(err, store.ErrNotFound) {
		return mismatch("out_trade_no %q: no such order", pm.OutTradeNo)
	}
	if err != nil {
		res.outcome, res.err = payError, err
		return res
	}
	switch {
	case o.AppID != pm.AppID:
		return mismatch("appid %s, the order's is %s", pm.AppID, o.AppID)
	case o.Amount != pm.Amount:
		return mismatch("amount %d fen, the order's is %d", pm.Amount, o.Amount)
	case openID != "" && o.OpenID != "" && openID != o.OpenID:
		return mismatch("paid by %s, the order is %s's", openID, o.OpenID)
	case pm.State == store.TradeStateSuccess && (o.State == store.TradeStateSuccess || o.State == store.TradeStateRefund) &&
		o.TransactionID != "" && o.TransactionID == pm.TransactionID:
		// A repeat of what is applied: answered without a write
		// transaction (the platform's retries after an outage).
		res.outcome = payDuplicate
		return res
	}
	changed, err := p.applyPayment(ctx, o, pm)
	switch {
	case err == nil && changed:
		res.outcome = payApplied
	case err == nil:
		res.outcome = payDuplicate
	case errors.Is(err, store.ErrMismatch):
		return mismatch("%v", err)
	case errors.Is(err, store.ErrState):
		r := rejected(http.StatusConflict, "%v (the platform took money for an order the gateway no longer takes: settle it on the merchant platform)", err)
		r.outTradeNo, r.transactionID = res.outTradeNo, res.transactionID
		return r
	case errors.Is(err, store.ErrNotFound):
		return mismatch("%v", err)
	default:
		res.outcome, res.err = payError, err
	}
	return res
}

// applyPayment applies pm (a verified notify or query) to the order o,
// with the paid event when pm makes it SUCCESS, in one transaction.
func (p *Payments) applyPayment(ctx context.Context, o *store.Order, pm *store.Payment) (bool, error) {
	var job *store.Job
	if pm.State == store.TradeStateSuccess {
		var err error
		if job, err = p.paidJob(o, pm); err != nil {
			return false, err
		}
	}
	if pm.At.IsZero() {
		pm.At = p.now()
	}
	changed, err := p.orders.ApplyPayment(ctx, pm, job)
	if changed && job != nil && p.onPaid != nil {
		p.onPaid.wake()
	}
	return changed, err
}

// notifyRefund applies a verified refund result. A refund the gateway did
// not request (made on the merchant platform) is recorded first, when its
// order is known.
func (p *Payments) notifyRefund(ctx context.Context, m *payMerchant, res *store.RefundResult) notifyResult {
	out := notifyResult{outTradeNo: res.OutTradeNo, outRefundNo: res.OutRefundNo}
	mismatch := func(status int, format string, args ...any) notifyResult {
		r := rejected(status, format, args...)
		r.outTradeNo, r.outRefundNo = out.outTradeNo, out.outRefundNo
		return r
	}
	if res.MchID != m.cfg.MchID {
		return mismatch(http.StatusBadRequest, "mch_id %q at the notify URL of %s", res.MchID, m.cfg.MchID)
	}
	if res.At.IsZero() {
		res.At = p.now()
	}
	_, err := p.orders.Refund(ctx, res.MchID, res.OutRefundNo)
	if errors.Is(err, store.ErrNotFound) {
		err = p.recordOutsideRefund(ctx, res)
		if errors.Is(err, store.ErrNotFound) {
			return mismatch(http.StatusBadRequest, "out_trade_no %q: no such order", res.OutTradeNo)
		}
		if errors.Is(err, store.ErrState) {
			return mismatch(http.StatusConflict, "refund of an order that cannot take it: %v", err)
		}
	}
	if err != nil {
		out.outcome, out.err = payError, err
		return out
	}
	changed, err := p.applyRefund(ctx, res)
	switch {
	case err == nil && changed:
		out.outcome = payApplied
	case err == nil:
		out.outcome = payDuplicate
	case errors.Is(err, store.ErrMismatch), errors.Is(err, store.ErrNotFound):
		return mismatch(http.StatusBadRequest, "%v", err)
	case errors.Is(err, store.ErrState):
		return mismatch(http.StatusConflict, "%v", err)
	default:
		out.outcome, out.err = payError, err
	}
	return out
}

// applyRefund applies res (a verified refund notify or a query) to its
// refund in one transaction, with what announces the change: nothing
// today (the paid event is an order's only event), and the same for the
// notify and the reconciliation, which both come here, so that a refund
// changes, and would be announced, once whichever lands first.
func (p *Payments) applyRefund(ctx context.Context, res *store.RefundResult) (bool, error) {
	if res.At.IsZero() {
		res.At = p.now()
	}
	return p.orders.ApplyRefund(ctx, res, nil)
}

// recordOutsideRefund stores a PROCESSING refund for a verified refund
// notify the gateway has no record of (a refund made on the merchant
// platform), so that ApplyRefund can settle it. A concurrent copy that
// recorded it first is fine.
func (p *Payments) recordOutsideRefund(ctx context.Context, res *store.RefundResult) error {
	if _, err := p.orders.Order(ctx, res.MchID, res.OutTradeNo); err != nil {
		return err
	}
	at := res.At
	if at.IsZero() {
		at = p.now()
	}
	err := p.orders.CreateRefund(ctx, &store.Refund{MchID: res.MchID, OutRefundNo: res.OutRefundNo, OutTradeNo: res.OutTradeNo,
		Amount: res.Amount, Reason: "made outside the gateway", State: store.RefundStateProcessing,
		Created: at.Add(-time.Second), Updated: at})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err == nil {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "pay: refund notify for a refund made outside the gateway; recorded",
			slog.String("mch_id", res.MchID), slog.String("out_trade_no", res.OutTradeNo), slog.String("out_refund_no", res.OutRefundNo))
	}
	return err
}
