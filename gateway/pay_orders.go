package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wxkit/wxkit/pay"
	payv3 "github.com/wxkit/wxkit/pay/v3"
	"github.com/wxkit/wxkit/store"
)

// The order routes of Payments: POST /pay/orders and GET
// /pay/orders/{out_trade_no}, and what they share with the refund route
// (pay_refund.go): the caller's session, the JSON body, order numbers.
// Order sizes and shapes.
const (
	// maxPayAmount caps an order (fen): v2 total_fee is a 32-bit Int.
	maxPayAmount = math.MaxInt32
	// maxDescription caps description (bytes): v2 body is 128 bytes at
	// most, v3 description 127 characters.
	maxDescription = 127
	// maxRefundReason caps a refund's reason (bytes; 80 characters on the
	// platform).
	maxRefundReason = 80
	// payCallTimeout bounds one platform call made for a request.
	payCallTimeout = 10 * time.Second
)

// outNoPattern matches the out_trade_no and out_refund_no the gateway
// makes (newOutNo).
var outNoPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,32}$`)

// chinaTime is the platform's time zone (UTC+8, no daylight saving).
var chinaTime = time.FixedZone("CST", 8*3600)

const outNoAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newOutNo returns a fresh merchant order (or refund) number: prefix, the
// time in China (yyyyMMddHHmmss, readable in the merchant platform's
// lists) and 16 random letters or digits (95 bits), at most 32 characters
// of [0-9A-Za-z].
func newOutNo(prefix string, now time.Time) (string, error) {
	b := make([]byte, 0, 32)
	b = append(b, prefix...)
	b = now.In(chinaTime).AppendFormat(b, "20060102150405")
	var r [32]byte
	for n := 0; n < 16; {
		if _, err := rand.Read(r[:]); err != nil {
			return "", err
		}
		for _, c := range r {
			if c >= 248 { // 248 = 4 × 62: no modulo bias
				continue
			}
			b = append(b, outNoAlphabet[int(c)%62])
			if n++; n == 16 {
				break
			}
		}
	}
	return string(b), nil
}

// caller returns the session of the request's user: the bearer token of
// Authorization, else the session cookie; nil when there is none or it
// has expired.
func (p *Payments) caller(r *http.Request) (*store.Session, error) {
	id := sessionID(r) // session.go
	if id == "" {
		return nil, nil
	}
	s, err := p.sessions.Session(r.Context(), id, p.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// signedIn returns the caller's session, or answers 401 (or 503) and
// returns nil.
func (p *Payments) signedIn(w http.ResponseWriter, r *http.Request) *store.Session {
	s, err := p.caller(r)
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "pay: session lookup failed", err)
		return nil
	}
	if s == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wxkit"`)
		writeJSONError(w, r, http.StatusUnauthorized, "not signed in (session cookie or Authorization: Bearer <token>)")
		return nil
	}
	return s
}

// fail logs err and answers status with a generic message.
func (p *Payments) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	p.logger.LogAttrs(r.Context(), slog.LevelError, msg, slog.String("error", err.Error()))
	text := "internal error"
	if status == http.StatusServiceUnavailable {
		text = "the order store is unavailable; try again"
	}
	writeJSONError(w, r, status, text)
}

// decodeJSON decodes the request body into v: one JSON object, no unknown
// fields, nothing after it.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("body: one JSON object expected")
	}
	return nil
}

// createOrderRequest is the body of POST /pay/orders.
type createOrderRequest struct {
	Amount      int64  `json:"amount"`      // fen
	Description string `json:"description"` // shown on the pay sheet
	MchID       string `json:"mch_id"`      // optional: the first merchant of the caller's app
}

// PayParams are the front end's parameters of a JSAPI payment, in the
// JSON spelling of WeixinJSBridge getBrandWCPayRequest (and of
// wx.requestPayment, which ignores appId): signType is MD5 or
// HMAC-SHA256 for a v2 merchant, RSA for v3.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/jsapi-transfer-payment.html
type PayParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// OrderCreated is the answer of POST /pay/orders.
type OrderCreated struct {
	OutTradeNo string     `json:"out_trade_no"`
	PrepayID   string     `json:"prepay_id"`
	PayParams  *PayParams `json:"pay_params"`
}

// checkText checks a free text (description, reason): valid UTF-8 of at
// most max bytes without control characters.
func checkText(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("must be UTF-8")
	}
	if len(s) > max {
		return fmt.Errorf("at most %d bytes, got %d", max, len(s))
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return errors.New("must not contain control characters")
		}
	}
	return nil
}

// serveCreateOrder serves POST /pay/orders: it stores a NOTPAY order for
// the signed-in user, places it with the platform (v2 unifiedorder or v3
// JSAPI prepay, notify_url the merchant's notify route, time_expire a
// minute after pay.order_timeout) and answers 201 with the front end's
// signed parameters. Errors: 400 a bad body, 401 not signed in, 403 a
// merchant that does not serve the caller's app, 502 the platform refused
// the order or did not answer (the order is closed later), 503 the store.
func (p *Payments) serveCreateOrder(w http.ResponseWriter, r *http.Request) {
	sess := p.signedIn(w, r)
	if sess == nil {
		return
	}
	var req createOrderRequest
	if err := decodeJSON(r, &req); err != nil {
		writeJSONError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if req.Amount <= 0 || req.Amount > maxPayAmount {
		writeJSONError(w, r, http.StatusBadRequest, fmt.Sprintf("amount: must be 1 to %d fen", maxPayAmount))
		return
	}
	req.Description = strings.TrimSpace(req.Description)
	if req.Description == "" {
		writeJSONError(w, r, http.StatusBadRequest, "description: required (shown on the pay sheet)")
		return
	}
	if err := checkText(req.Description, maxDescription); err != nil {
		writeJSONError(w, r, http.StatusBadRequest, "description: "+err.Error())
		return
	}
	m, status, msg := p.merchantFor(sess.AppID, req.MchID)
	if m == nil {
		writeJSONError(w, r, status, msg)
		return
	}
	now := p.now()
	o := &store.Order{MchID: m.cfg.MchID, AppID: sess.AppID, OpenID: sess.OpenID, Version: m.cfg.Version,
		Description: req.Description, Amount: req.Amount, State: store.TradeStateNotPay, Created: now, Updated: now}
	var err error
	for range 3 { // a collision of 95 random bits is not expected; ErrConflict is handled all the same
		if o.OutTradeNo, err = newOutNo("", now); err != nil {
			break
		}
		if err = p.orders.CreateOrder(r.Context(), o); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "pay: storing the order failed", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), payCallTimeout)
	defer cancel()
	prepayID, params, err := p.prepay(ctx, m, o, p.clientIP(r))
	if err != nil {
		p.prepayFailed(w, r, m, o, err)
		return
	}
	if err := p.orders.SetPrepayID(r.Context(), o.MchID, o.OutTradeNo, prepayID, p.now()); err != nil {
		// The order is matched by out_trade_no; the prepay_id is a
		// convenience. Answer all the same: the user can pay.
		p.logger.LogAttrs(r.Context(), slog.LevelWarn, "pay: recording the prepay_id failed",
			slog.String("mch_id", o.MchID), slog.String("out_trade_no", o.OutTradeNo), slog.String("error", err.Error()))
	}
	p.logger.LogAttrs(r.Context(), slog.LevelInfo, "pay: order placed", slog.String("mch_id", o.MchID),
		slog.String("out_trade_no", o.OutTradeNo), slog.String("appid", o.AppID), slog.String("openid", o.OpenID),
		slog.Int64("amount", o.Amount), slog.String("version", o.Version))
	writeJSON(w, http.StatusCreated, OrderCreated{OutTradeNo: o.OutTradeNo, PrepayID: prepayID, PayParams: params})
}

// merchantFor returns the merchant that takes appID's payments: mchID when
// given, else the first configured for the app.
func (p *Payments) merchantFor(appID, mchID string) (*payMerchant, int, string) {
	if mchID != "" {
		m := p.merchants[mchID]
		if m == nil {
			return nil, http.StatusBadRequest, "mch_id: not a merchant of this gateway"
		}
		if !m.cfg.takes(appID) {
			return nil, http.StatusForbidden, "mch_id: the merchant does not take payments for your app"
		}
		return m, 0, ""
	}
	for _, m := range p.list {
		if m.cfg.takes(appID) {
			return m, 0, ""
		}
	}
	return nil, http.StatusForbidden, "no merchant takes payments for your app"
}

// prepay places o with the platform and returns its prepay_id and the
// front end's parameters. A call whose outcome is unknown is repeated
// once with the same parameters (the platform answers a repeat with the
// same prepay_id).
func (p *Payments) prepay(ctx context.Context, m *payMerchant, o *store.Order, clientIP string) (string, *PayParams, error) {
	expire := o.Created.Add(time.Duration(p.cfg.Pay.OrderTimeout) + time.Minute)
	switch o.Version {
	case PayV2:
		c := m.v2Client(o.AppID)
		req := &pay.UnifiedOrderRequest{Body: o.Description, OutTradeNo: o.OutTradeNo, TotalFee: o.Amount,
			SpbillCreateIP: clientIP, NotifyURL: m.notifyURL, TradeType: pay.TradeTypeJSAPI, OpenID: o.OpenID,
			TimeStart: o.Created, TimeExpire: expire}
		pre, err := c.UnifiedOrder(ctx, req)
		if errors.Is(err, pay.ErrOutcomeUnknown) && ctx.Err() == nil {
			pre, err = c.UnifiedOrder(ctx, req)
		}
		if err != nil {
			return "", nil, err
		}
		pp, err := c.JSAPIParams(pre.PrepayID)
		if err != nil {
			return "", nil, err
		}
		return pre.PrepayID, &PayParams{AppID: pp.AppID, TimeStamp: pp.TimeStamp, NonceStr: pp.NonceStr,
			Package: pp.Package, SignType: string(pp.SignType), PaySign: pp.PaySign}, nil
	default:
		req := &payv3.PrepayRequest{AppID: o.AppID, Description: o.Description, OutTradeNo: o.OutTradeNo,
			TimeExpire: expire, Amount: payv3.Amount{Total: o.Amount}, Payer: &payv3.Payer{OpenID: o.OpenID},
			SceneInfo: &payv3.SceneInfo{PayerClientIP: clientIP}}
		pre, err := m.v3.PrepayJSAPI(ctx, req)
		if errors.Is(err, payv3.ErrOutcomeUnknown) && ctx.Err() == nil {
			pre, err = m.v3.PrepayJSAPI(ctx, req)
		}
		if err != nil {
			return "", nil, err
		}
		pp, err := m.v3.JSAPIParams(o.AppID, pre.PrepayID)
		if err != nil {
			return "", nil, err
		}
		return pre.PrepayID, &PayParams{AppID: pp.AppID, TimeStamp: pp.TimeStamp, NonceStr: pp.NonceStr,
			Package: pp.Package, SignType: pp.SignType, PaySign: pp.PaySign}, nil
	}
}

// prepayFailed answers a failed placement: 502. An order the platform
// refused is closed at once; one whose outcome is unknown stays NOTPAY,
// for the closer (or a reconciliation) to settle with the platform.
func (p *Payments) prepayFailed(w http.ResponseWriter, r *http.Request, m *payMerchant, o *store.Order, err error) {
	attrs := []slog.Attr{slog.String("mch_id", o.MchID), slog.String("out_trade_no", o.OutTradeNo), slog.String("error", err.Error())}
	if outcomeUnknown(err) {
		p.logger.LogAttrs(r.Context(), slog.LevelWarn, "pay: placing the order: no answer from the platform", attrs...)
		writeJSONError(w, r, http.StatusBadGateway, "the payment platform did not answer; try again")
		return
	}
	p.logger.LogAttrs(r.Context(), slog.LevelWarn, "pay: the platform refused the order", attrs...)
	closed := &store.Payment{MchID: o.MchID, OutTradeNo: o.OutTradeNo, AppID: o.AppID, Amount: o.Amount,
		State: store.TradeStateClosed, At: p.now()}
	if _, cerr := p.orders.ApplyPayment(r.Context(), closed, nil); cerr != nil {
		p.logger.LogAttrs(r.Context(), slog.LevelWarn, "pay: closing the refused order failed (the closer will)",
			slog.String("out_trade_no", o.OutTradeNo), slog.String("error", cerr.Error()))
	}
	writeJSONError(w, r, http.StatusBadGateway, "the payment platform refused the order: "+platformCode(err))
}

// outcomeUnknown reports whether err leaves a call's outcome unknown: the
// platform may have run it.
func outcomeUnknown(err error) bool {
	if errors.Is(err, pay.ErrOutcomeUnknown) || errors.Is(err, payv3.ErrOutcomeUnknown) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	if e, ok := errors.AsType[*pay.Error](err); ok {
		return e.Retryable()
	}
	if e, ok := errors.AsType[*payv3.APIError](err); ok {
		return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	}
	// A request that never left (no answer at all) is not a refusal.
	_, v2 := errors.AsType[*pay.ReturnError](err)
	return !v2
}

// platformCode names the platform's refusal in err (its err_code or code)
// without anything secret.
func platformCode(err error) string {
	if e, ok := errors.AsType[*pay.Error](err); ok {
		return e.ErrCode
	}
	if e, ok := errors.AsType[*pay.ReturnError](err); ok {
		return "FAIL " + e.ReturnMsg
	}
	if e, ok := errors.AsType[*payv3.APIError](err); ok && e.Code != "" {
		return e.Code
	}
	return "error"
}

// OrderStatus is the answer of GET /pay/orders/{out_trade_no}: State is
// the platform's trade_state (NOTPAY, SUCCESS, REFUND, CLOSED, PAYERROR,
// ...); PaidAt is null until the order is paid; Refunded is what refunds
// that succeeded gave back (fen).
type OrderStatus struct {
	OutTradeNo    string     `json:"out_trade_no"`
	MchID         string     `json:"mch_id"`
	State         string     `json:"state"`
	Amount        int64      `json:"amount"`
	Refunded      int64      `json:"refunded"`
	TransactionID string     `json:"transaction_id"`
	PaidAt        *time.Time `json:"paid_at"`
}

// ownOrder returns the caller's order out_trade_no (of a merchant of the
// caller's app), or answers 404 (the orders of others do not exist for
// the caller) or 503 and returns nil.
func (p *Payments) ownOrder(w http.ResponseWriter, r *http.Request, sess *store.Session) *store.Order {
	no := r.PathValue("out_trade_no")
	if outNoPattern.MatchString(no) {
		for _, m := range p.list {
			if !m.cfg.takes(sess.AppID) {
				continue
			}
			o, err := p.orders.Order(r.Context(), m.cfg.MchID, no)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				p.fail(w, r, http.StatusServiceUnavailable, "pay: order lookup failed", err)
				return nil
			}
			if o.AppID == sess.AppID && o.OpenID == sess.OpenID {
				return o
			}
		}
	}
	writeJSONError(w, r, http.StatusNotFound, "no such order")
	return nil
}

// serveOrder serves GET /pay/orders/{out_trade_no}: the caller's order as
// the gateway knows it (notifies, the closer and reconciliations keep it
// in step with the platform).
func (p *Payments) serveOrder(w http.ResponseWriter, r *http.Request) {
	sess := p.signedIn(w, r)
	if sess == nil {
		return
	}
	o := p.ownOrder(w, r, sess)
	if o == nil {
		return
	}
	st := OrderStatus{OutTradeNo: o.OutTradeNo, MchID: o.MchID, State: string(o.State), Amount: o.Amount,
		Refunded: o.Refunded, TransactionID: o.TransactionID}
	if !o.PaidAt.IsZero() {
		t := o.PaidAt
		st.PaidAt = &t
	}
	writeJSON(w, http.StatusOK, st)
}
