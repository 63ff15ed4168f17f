package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wxkit/wxkit/pay"
	payv3 "github.com/wxkit/wxkit/pay/v3"
	"github.com/wxkit/wxkit/store"
)

// refundRequest is the body of POST /pay/orders/{out_trade_no}/refund.
type refundRequest struct {
	Amount int64  `json:"amount"` // fen
	Reason string `json:"reason"` // shown to the user
}

// RefundCreated is the answer of POST /pay/orders/{out_trade_no}/refund:
// State is PROCESSING until the refund notify (or SUCCESS, CLOSED,
// ABNORMAL when the platform says so at once).
type RefundCreated struct {
	OutRefundNo string `json:"out_refund_no"`
	State       string `json:"state"`
}

// serveRefund serves POST /pay/orders/{out_trade_no}/refund for the
// order's owner: it stores a PROCESSING refund (within what the order has
// left), asks the platform for it (v2 with the merchant certificate,
// refund notifies to /pay/refund/notify/{mch_id}; v3 to
// /pay/v3/notify/{mch_id}) and answers 200 {"out_refund_no","state"}. A
// refusal closes the refund (502); an unknown outcome leaves it
// PROCESSING (answered 200 all the same: the notify settles it). Errors:
// 400 a bad body, 404 not the caller's order, 409 not refundable (unpaid,
// or more than is left), 501 a v2 merchant without cert_file.
func (p *Payments) serveRefund(w http.ResponseWriter, r *http.Request) {
	sess := p.signedIn(w, r)
	if sess == nil {
		return
	}
	var req refundRequest
	if err := decodeJSON(r, &req); err != nil {
		writeJSONError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if req.Amount <= 0 {
		writeJSONError(w, r, http.StatusBadRequest, "amount: must be more than 0 fen")
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if err := checkText(req.Reason, maxRefundReason); err != nil {
		writeJSONError(w, r, http.StatusBadRequest, "reason: "+err.Error())
		return
	}
	o := p.ownOrder(w, r, sess)
	if o == nil {
		return
	}
	m := p.merchants[o.MchID]
	if o.Version == PayV2 && m.cfg.tlsCert == nil {
		writeJSONError(w, r, http.StatusNotImplemented, "refunds of this merchant need its API certificate (pay.merchants[].cert_file)")
		return
	}
	now := p.now()
	rf := &store.Refund{MchID: o.MchID, OutTradeNo: o.OutTradeNo, Amount: req.Amount, Reason: req.Reason,
		State: store.RefundStateProcessing, Created: now, Updated: now}
	var err error
	for range 3 {
		if rf.OutRefundNo, err = newOutNo("R", now); err != nil {
			break
		}
		if err = p.orders.CreateRefund(r.Context(), rf); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	switch {
	case errors.Is(err, store.ErrState):
		writeJSONError(w, r, http.StatusConflict, "the order cannot be refunded this much: it is "+string(o.State)+
			fmt.Sprintf(" with %d of %d fen refunded or being refunded", o.Refunded, o.Amount))
		return
	case err != nil:
		p.fail(w, r, http.StatusServiceUnavailable, "pay: storing the refund failed", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), payCallTimeout)
	defer cancel()
	state, refundID, err := p.requestRefund(ctx, m, o, rf)
	attrs := []slog.Attr{slog.String("mch_id", o.MchID), slog.String("out_trade_no", o.OutTradeNo),
		slog.String("out_refund_no", rf.OutRefundNo), slog.Int64("amount", rf.Amount)}
	switch {
	case err == nil:
		p.logger.LogAttrs(r.Context(), slog.LevelInfo, "pay: refund requested", attrs...)
	case outcomeUnknown(err):
		p.logger.LogAttrs(r.Context(), slog.LevelWarn, "pay: refund: no answer from the platform; the refund stays PROCESSING",
			append(attrs, slog.String("error", err.Error()))...)
	default:
		p.logger.LogAttrs(r.Context(), slog.LevelWarn, "pay: the platform refused the refund", append(attrs, slog.String("error", err.Error()))...)
		res := &store.RefundResult{MchID: rf.MchID, OutRefundNo: rf.OutRefundNo, OutTradeNo: rf.OutTradeNo, Amount: rf.Amount,
			State: store.RefundStateClosed, At: p.now()}
		if _, cerr := p.orders.ApplyRefund(r.Context(), res, nil); cerr != nil {
			p.logger.LogAttrs(r.Context(), slog.LevelError, "pay: closing the refused refund failed",
				slog.String("out_refund_no", rf.OutRefundNo), slog.String("error", cerr.Error()))
		}
		writeJSONError(w, r, http.StatusBadGateway, "the payment platform refused the refund: "+platformCode(err))
		return
	}
	if state != "" && state != store.RefundStateProcessing {
		res := &store.RefundResult{MchID: rf.MchID, OutRefundNo: rf.OutRefundNo, OutTradeNo: rf.OutTradeNo, Amount: rf.Amount,
			State: state, RefundID: refundID, At: p.now()}
		if _, err := p.orders.ApplyRefund(r.Context(), res, nil); err == nil {
			rf.State = state
		}
	}
	writeJSON(w, http.StatusOK, RefundCreated{OutRefundNo: rf.OutRefundNo, State: string(rf.State)})
}

// requestRefund asks the platform for rf and returns the state it reports
// ("" when it does not say) and its refund_id. A call whose outcome is
// unknown is repeated once with the same out_refund_no.
func (p *Payments) requestRefund(ctx context.Context, m *payMerchant, o *store.Order, rf *store.Refund) (store.RefundState, string, error) {
	switch o.Version {
	case PayV2:
		c := m.v2Client(o.AppID)
		req := &pay.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: rf.OutRefundNo, TotalFee: o.Amount,
			RefundFee: rf.Amount, RefundDesc: rf.Reason, NotifyURL: m.refundNotifyURL}
		res, err := c.Refund(ctx, req)
		if err != nil && outcomeUnknown(err) && ctx.Err() == nil {
			res, err = c.Refund(ctx, req)
		}
		if err != nil {
			return "", "", err
		}
		return "", res.RefundID, nil // v2 answers "accepted"; the notify tells the outcome
	default:
		req := &payv3.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: rf.OutRefundNo, Reason: rf.Reason,
			Amount: payv3.RefundAmount{Refund: rf.Amount, Total: o.Amount, Currency: payv3.CurrencyCNY}}
		res, err := m.v3.Refund(ctx, req)
		if err != nil && outcomeUnknown(err) && ctx.Err() == nil {
			res, err = m.v3.Refund(ctx, req)
		}
		if err != nil {
			return "", "", err
		}
		return refundStateV3(res.Status), res.RefundID, nil
	}
}

// refundStateV3 maps a v3 refund status to the store's ("" for one it
// does not know).
func refundStateV3(s payv3.RefundStatus) store.RefundState {
	switch s {
	case payv3.RefundStatusSuccess:
		return store.RefundStateSuccess
	case payv3.RefundStatusClosed:
		return store.RefundStateClosed
	case payv3.RefundStatusAbnormal:
		return store.RefundStateAbnormal
	case payv3.RefundStatusProcessing:
		return store.RefundStateProcessing
	}
	return ""
}
