package emulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OrderInfo is an order as the merchant platform holds it, for tests and
// the pay sheet (Emulator.MerchantOrder, Emulator.PrepayOrder).
type OrderInfo struct {
	MchID        string `json:"mch_id"`
	MerchantName string `json:"merchant_name"`
	AppID        string `json:"appid"`
	OutTradeNo   string `json:"out_trade_no"`
	// State is the trade_state: NOTPAY, SUCCESS, REFUND, CLOSED, PAYERROR.
	State TradeState `json:"state"`
	// Amount is the order amount in fen.
	Amount        int64  `json:"amount"`
	TransactionID string `json:"transaction_id"`
	// Notifies are every delivery of the order's pay and refund notifies,
	// in order, with the merchant's answers.
	Notifies []NotifyAttempt `json:"notifies"`
	// Version is the API that created the order: v2 or v3 (and so the
	// notify format).
	Version     string `json:"version"`
	TradeType   string `json:"trade_type"`
	Description string `json:"description"`
	// OpenID is the JSAPI order's payer, or who paid.
	OpenID          string       `json:"openid,omitempty"`
	PrepayID        string       `json:"prepay_id"`
	PrepayExpiresAt time.Time    `json:"prepay_expires_at"`
	NotifyURL       string       `json:"notify_url"`
	CreatedAt       time.Time    `json:"created_at"`
	PaidAt          *time.Time   `json:"paid_at,omitempty"`
	Coupons         []Coupon     `json:"coupons,omitempty"`
	Refunded        int64        `json:"refunded"`
	Refunds         []RefundInfo `json:"refunds"`
}

// RefundInfo is one refund of an order.
type RefundInfo struct {
	OutRefundNo string `json:"out_refund_no"`
	RefundID    string `json:"refund_id"`
	Amount      int64  `json:"amount"`
	// State is PROCESSING, SUCCESS, CLOSED or ABNORMAL (the v3 names).
	State     string     `json:"state"`
	Version   string     `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	SuccessAt *time.Time `json:"success_at,omitempty"`
}

// info reports o; p.mu must be held.
func (o *payOrder) info() OrderInfo {
	in := OrderInfo{
		MchID: o.m.cfg.MchID, MerchantName: o.m.cfg.Name, AppID: o.params.AppID, OutTradeNo: o.params.OutTradeNo,
		State: o.state, Amount: o.params.Amount, TransactionID: o.txnID,
		Notifies: append([]NotifyAttempt{}, o.notifies...), Version: o.version, TradeType: o.params.TradeType,
		Description: o.params.Description, OpenID: o.params.OpenID, PrepayID: o.prepayID,
		PrepayExpiresAt: o.prepayAt.Add(o.m.cfg.PrepayLifetime), NotifyURL: o.params.NotifyURL,
		CreatedAt: o.createdAt, Coupons: append([]Coupon(nil), o.coupons...), Refunded: o.refunded,
		Refunds: make([]RefundInfo, 0, len(o.refunds)),
	}
	if o.payer != "" {
		in.OpenID = o.payer
	}
	if !o.paidAt.IsZero() {
		t := o.paidAt
		in.PaidAt = &t
	}
	for _, r := range o.refunds {
		in.Refunds = append(in.Refunds, r.info())
	}
	return in
}

// info reports r; p.mu must be held.
func (r *payRefund) info() RefundInfo {
	ri := RefundInfo{OutRefundNo: r.outRefundNo, RefundID: r.refundID, Amount: r.amount, State: r.state,
		Version: r.version, CreatedAt: r.createdAt}
	if !r.successAt.IsZero() {
		t := r.successAt
		ri.SuccessAt = &t
	}
	return ri
}

// MerchantOrder returns the order out_trade_no of mchID, with every notify
// delivery made so far. Errors: ErrUnknownMerchant, ErrUnknownOrder.
func (e *Emulator) MerchantOrder(mchID, outTradeNo string) (OrderInfo, error) {
	p := e.pay
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.merchants[mchID]
	if m == nil {
		return OrderInfo{}, fmt.Errorf("%w: %q", ErrUnknownMerchant, mchID)
	}
	o := m.orders[outTradeNo]
	if o == nil {
		return OrderInfo{}, fmt.Errorf("%w: %q", ErrUnknownOrder, outTradeNo)
	}
	return o.info(), nil
}

// PrepayOrder returns the order of a prepay_id (what the pay sheet shows:
// merchant name, description, amount). An expired prepay_id still finds its
// order. Errors: ErrUnknownPrepay.
func (e *Emulator) PrepayOrder(prepayID string) (OrderInfo, error) {
	p := e.pay
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.byPrepay[prepayID]
	if o == nil {
		return OrderInfo{}, fmt.Errorf("%w: %q", ErrUnknownPrepay, prepayID)
	}
	return o.info(), nil
}

// checkPayParams checks the front-end pay parameters of o as the WeChat
// client does before showing the pay sheet.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=7_7&index=6 (v2),
// https://pay.weixin.qq.com/doc/v3/merchant/4012791857 (v3)
func (p *payState) checkPayParams(o *payOrder, pp map[string]string) error {
	p.mu.Lock()
	appID, prepayID := o.params.AppID, o.prepayID
	p.mu.Unlock()
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrBadPayParams, why) }
	for _, k := range []string{"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"} {
		if pp[k] == "" {
			return bad("missing " + k)
		}
	}
	if pp["appId"] != appID {
		return bad("appId is not the order's appid")
	}
	if pp["package"] != "prepay_id="+prepayID {
		return bad("package is not prepay_id=" + prepayID)
	}
	if _, err := strconv.ParseInt(pp["timeStamp"], 10, 64); err != nil {
		return bad("timeStamp is not a number of seconds")
	}
	m := o.m
	if o.version == "v2" {
		st := pp["signType"]
		if st != signTypeMD5 && st != signTypeHMACSHA256 {
			return bad("signType must be MD5 or HMAC-SHA256 for a v2 order")
		}
		f := map[string]string{"appId": pp["appId"], "timeStamp": pp["timeStamp"], "nonceStr": pp["nonceStr"],
			"package": pp["package"], "signType": st}
		want, err := v2Sign(f, m.cfg.APIKey, st)
		if err != nil || subtle.ConstantTimeCompare([]byte(strings.ToUpper(pp["paySign"])), []byte(want)) != 1 {
			return bad("paySign does not verify")
		}
		return nil
	}
	if pp["signType"] != "RSA" {
		return bad("signType must be RSA for a v3 order")
	}
	if err := m.keys(p.e.Now()); err != nil {
		return err
	}
	msg := pp["appId"] + "\n" + pp["timeStamp"] + "\n" + pp["nonceStr"] + "\n" + pp["package"] + "\n"
	if !rsaVerify(m.merchantPub, msg, pp["paySign"]) {
		return bad("paySign does not verify")
	}
	return nil
}

// decodeOptional decodes an optional control API JSON body into v (unknown
// fields refused); an empty body leaves v as it is.
func decodeOptional(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("emulator: bad JSON body: " + err.Error())
	}
	return nil
}

// payControlStatus maps the pay control errors to HTTP statuses.
func payControlStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnknownMerchant), errors.Is(err, ErrUnknownOrder), errors.Is(err, ErrUnknownPrepay):
		return http.StatusNotFound
	case errors.Is(err, ErrPrepayExpired), errors.Is(err, ErrOrderNotPayable), errors.Is(err, ErrOrderNotPaid),
		errors.Is(err, ErrWrongPayer), errors.Is(err, ErrNoMerchantKey), errors.Is(err, ErrRefundSettled):
		return http.StatusConflict
	case errors.Is(err, ErrBadPayParams), errors.Is(err, ErrBadPayment), errors.Is(err, ErrUnknownUser),
		errors.Is(err, ErrBadRefundStatus):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// payControlRoutes adds the merchant platform's control API to m.
//
// Merchants (Config.Merchants, YAML "merchants:") are served v2 (XML) at
// /pay/unifiedorder, /pay/orderquery, /pay/closeorder, /secapi/pay/refund and
// /pay/refundquery, and v3 (JSON) at POST /v3/pay/transactions/jsapi and
// /native, GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid= and
// /id/{transaction_id}?mchid=, POST
// /v3/pay/transactions/out-trade-no/{out_trade_no}/close, POST
// /v3/refund/domestic/refunds, GET /v3/refund/domestic/refunds/{out_refund_no}
// and GET /v3/certificates; see pay_v2.go and pay_v3.go for what is checked.
// Pay and refund notifies are pushed to the order's notify_url and retried
// on the platform's schedule on the emulator clock until acknowledged.
//
// Control API (JSON):
//
//	GET  /_emulator/merchants                                   {"merchants":[MerchantInfo...]}
//	GET  /_emulator/merchants/{mch_id}/platform_key             {"public_key_id","public_key_pem","serial_no","certificate_pem",...}
//	GET  /_emulator/merchants/{mch_id}/merchant_key             {"serial_no","private_key_pem","certificate_pem",...}
//	                                                            (development only: merchants with generate_merchant_key)
//	GET  /_emulator/merchants/{mch_id}/orders/{out_trade_no}    OrderInfo {"out_trade_no","state","amount","transaction_id",
//	                                                            "notifies":[{"at","http_status","body",...}],...}
//	POST /_emulator/merchants/{mch_id}/orders/{out_trade_no}/notify  {"copies":N} → {"notifies":[...]} (N copies at once
//	                                                            of the pay notify; with "out_refund_no": of that refund's)
//	POST /_emulator/merchants/{mch_id}/refunds/{out_refund_no}/fail  {"status":"CLOSED"|"ABNORMAL"} → RefundInfo (a
//	                                                            PROCESSING refund fails; its notify follows)
//	GET  /_emulator/pay/{prepay_id}                             OrderInfo (the pay sheet: merchant_name, description, amount)
//	POST /_emulator/pay/{prepay_id}/pay                         {"openid","coupons","bank_type","pay_params"} → {"transaction_id"}
//	POST /_emulator/pay/{prepay_id}/decline                     {"fail":false} → {"state"} (cancel; fail=true → PAYERROR)
//
// Errors are {"error":"..."}: 404 unknown merchant, order, refund or
// prepay_id; 409 an order that cannot be paid (expired prepay_id, paid,
// closed, another user's) or a refund no longer PROCESSING; 400 a bad
// request or pay_params that do not verify.
func (e *Emulator) payControlRoutes(m *http.ServeMux) {
	fail := func(w http.ResponseWriter, err error) { controlFail(w, payControlStatus(err), err) }
	m.HandleFunc("GET /_emulator/merchants", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"merchants": e.Merchants()})
	})
	m.HandleFunc("GET /_emulator/merchants/{mch_id}/platform_key", func(w http.ResponseWriter, r *http.Request) {
		pk, err := e.PlatformKey(r.PathValue("mch_id"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, pk)
	})
	m.HandleFunc("GET /_emulator/merchants/{mch_id}/merchant_key", func(w http.ResponseWriter, r *http.Request) {
		mk, err := e.MerchantKey(r.PathValue("mch_id"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, mk)
	})
	m.HandleFunc("GET /_emulator/merchants/{mch_id}/orders/{out_trade_no}", func(w http.ResponseWriter, r *http.Request) {
		o, err := e.MerchantOrder(r.PathValue("mch_id"), r.PathValue("out_trade_no"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, o)
	})
	m.HandleFunc("POST /_emulator/merchants/{mch_id}/orders/{out_trade_no}/notify", func(w http.ResponseWriter, r *http.Request) {
		req := struct {
			Copies      int    `json:"copies"`
			OutRefundNo string `json:"out_refund_no"`
		}{Copies: 1}
		if err := decodeOptional(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		mchID := r.PathValue("mch_id")
		var atts []NotifyAttempt
		var err error
		if req.OutRefundNo != "" {
			if _, err = e.MerchantOrder(mchID, r.PathValue("out_trade_no")); err == nil {
				atts, err = e.ResendRefundNotify(r.Context(), mchID, req.OutRefundNo, req.Copies)
			}
		} else {
			atts, err = e.ResendNotify(r.Context(), mchID, r.PathValue("out_trade_no"), req.Copies)
		}
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, map[string]any{"notifies": atts})
	})
	m.HandleFunc("POST /_emulator/merchants/{mch_id}/refunds/{out_refund_no}/fail", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Status string `json:"status"`
		}
		if err := decodeOptional(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		ri, err := e.FailRefund(r.PathValue("mch_id"), r.PathValue("out_refund_no"), req.Status)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, ri)
	})
	m.HandleFunc("GET /_emulator/pay/{prepay_id}", func(w http.ResponseWriter, r *http.Request) {
		o, err := e.PrepayOrder(r.PathValue("prepay_id"))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, o)
	})
	m.HandleFunc("POST /_emulator/pay/{prepay_id}/pay", func(w http.ResponseWriter, r *http.Request) {
		var pay Payment
		if err := decodeOptional(r, &pay); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		txn, err := e.PayOrder(r.PathValue("prepay_id"), pay)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, map[string]string{"transaction_id": txn})
	})
	m.HandleFunc("POST /_emulator/pay/{prepay_id}/decline", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Fail bool `json:"fail"`
		}
		if err := decodeOptional(r, &req); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		st, err := e.DeclinePayment(r.PathValue("prepay_id"), req.Fail)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, map[string]any{"state": st})
	})
}
