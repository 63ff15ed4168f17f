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
	"github.com/wxkit/wxkit/token"
)

// Payments is the WeChat Pay part of a gateway (the pay: key): JSAPI
// orders for signed-in users, the platform's notifies applied exactly
// once, paid events forwarded to the application (onpaid.go), unpaid
// orders closed after pay.order_timeout and reconciliation with the
// platform (pay_sync.go). A Gateway builds one when merchants are
// configured (Gateway.Payments); the pay commands open one on their own
// with OpenPayments. It is safe for concurrent use.
//
// Routes (registered by the Gateway; JSON errors are {"error","request_id"}):
//
//	POST /pay/orders                        {"amount","description","mch_id"?} → 201 {"out_trade_no","prepay_id","pay_params"}
//	GET  /pay/orders/{out_trade_no}         the caller's order → {"out_trade_no","mch_id","state","amount","refunded","transaction_id","paid_at"}
//	POST /pay/orders/{out_trade_no}/refund  {"amount","reason"} → {"out_refund_no","state"}
//	POST /pay/notify/{mch_id}               v2 pay notifies
//	POST /pay/refund/notify/{mch_id}        v2 refund notifies
//	POST /pay/v3/notify/{mch_id}            v3 pay and refund notifies
//
// The order routes need a signed-in user: the web-login session cookie
// (SessionCookie) or "Authorization: Bearer <token>" naming a session of
// the same store (Mini Program login). Their bodies are capped by
// limits.max_json_body_bytes and unknown fields are refused.
type Payments struct {
	cfg      *Config
	logger   *slog.Logger
	now      func() time.Time
	orders   store.Orders
	outbox   store.Outbox
	sessions store.Sessions
	locks    token.Store // the lease of the closer
	metrics  *metrics    // nil outside a gateway
	clientIP func(*http.Request) string

	merchants map[string]*payMerchant
	list      []*payMerchant // in configuration order

	onPaid *drainer // nil without on_paid.forward (onpaid.go)
	fwd    *http.Client
	closer *payCloser // pay_sync.go
	stores *Stores    // opened by OpenPayments, closed by Close
}

// payMerchant is one configured merchant with its API clients.
type payMerchant struct {
	cfg *PayMerchantConfig
	// v2 has a client per appid (a v2 client signs for one app); v2first
	// is the first, for orders of an app no longer configured.
	v2      map[string]*pay.Client
	v2first *pay.Client
	v3      *payv3.Client
	// notifyURL receives pay notifies (and v3 refund notifies);
	// refundNotifyURL v2 refund notifies.
	notifyURL, refundNotifyURL string
}

// payDeps are what Payments needs from its host.
type payDeps struct {
	stores   *Stores
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
	metrics  *metrics
	clientIP func(*http.Request) string
}

// newPayments builds the merchants' clients of cfg (normalized).
func newPayments(cfg *Config, d payDeps) (*Payments, error) {
	st := d.stores
	if st.Orders == nil || st.Outbox == nil || st.Sessions == nil || st.Tokens == nil {
		return nil, errors.New("pay: the stores lack orders, outbox, sessions or locks")
	}
	p := &Payments{
		cfg:       cfg,
		logger:    d.logger,
		now:       d.now,
		orders:    st.Orders,
		outbox:    st.Outbox,
		sessions:  st.Sessions,
		locks:     st.Tokens,
		metrics:   d.metrics,
		clientIP:  d.clientIP,
		merchants: make(map[string]*payMerchant, len(cfg.Pay.Merchants)),
		fwd:       d.client,
	}
	for i := range cfg.Pay.Merchants {
		mc := &cfg.Pay.Merchants[i]
		m, err := p.newMerchant(mc, d.client)
		if err != nil {
			return nil, fmt.Errorf("pay.merchants[%d]: %w", i, err)
		}
		p.merchants[mc.MchID] = m
		p.list = append(p.list, m)
		if p.metrics != nil {
			p.metrics.payMerchant(mc.MchID, mc.Version)
		}
	}
	return p, nil
}

// newMerchant builds the clients of one merchant.
func (p *Payments) newMerchant(mc *PayMerchantConfig, hc *http.Client) (*payMerchant, error) {
	base := p.cfg.PublicURL
	m := &payMerchant{cfg: mc}
	switch mc.Version {
	case PayV2:
		m.notifyURL = base + "/pay/notify/" + mc.MchID
		m.refundNotifyURL = base + "/pay/refund/notify/" + mc.MchID
		m.v2 = make(map[string]*pay.Client, len(mc.AppIDs))
		for _, appID := range mc.AppIDs {
			opts := []pay.Option{pay.WithBaseURL(p.cfg.WeChat.PayBase), pay.WithHTTPClient(hc),
				pay.WithSignType(pay.SignType(mc.SignType)), pay.WithClock(p.now)}
			if mc.tlsCert != nil {
				opts = append(opts, pay.WithCertificate(*mc.tlsCert))
			}
			c, err := pay.NewClient(appID, mc.MchID, mc.APIKey, opts...)
			if err != nil {
				return nil, err
			}
			m.v2[appID] = c
			if m.v2first == nil {
				m.v2first = c
			}
		}
	case PayV3:
		m.notifyURL = base + "/pay/v3/notify/" + mc.MchID
		opts := []payv3.Option{payv3.WithBaseURL(p.cfg.WeChat.PayBase), payv3.WithHTTPClient(hc), payv3.WithClock(p.now),
			payv3.WithNotifyURL(m.notifyURL), payv3.WithLogger(p.logger)}
		if mc.platformKey != nil {
			v, err := payv3.NewPublicKeyVerifier(mc.PlatformPublicKeyID, mc.platformKey, payv3.VerifierClock(p.now))
			if err != nil {
				return nil, fmt.Errorf("platform_public_key_file: %w", err)
			}
			// Certificates are downloaded as well: a merchant switching
			// from certificates to the public key sees both serials.
			opts = append(opts, payv3.WithPlatformKeys(v), payv3.WithCertificateDownload(0))
		}
		c, err := payv3.NewClient(mc.MchID, mc.SerialNo, mc.privateKey, mc.APIv3Key, opts...)
		if err != nil {
			return nil, err
		}
		m.v3 = c
	}
	return m, nil
}

// v2Client returns the v2 client of appID's orders.
func (m *payMerchant) v2Client(appID string) *pay.Client {
	if c := m.v2[appID]; c != nil {
		return c
	}
	return m.v2first
}

// startPay builds the gateway's Payments when pay.merchants is set,
// registers its routes and starts the paid-event drainer and the closer
// of expired orders. Called by buildRoutes, after the web routes.
func (g *Gateway) startPay() error {
	if len(g.cfg.Pay.Merchants) == 0 {
		return nil
	}
	p, err := newPayments(g.cfg, payDeps{stores: g.stores, client: g.client, logger: g.logger, now: g.now,
		metrics: g.ops.metrics, clientIP: func(r *http.Request) string { return payerIP(g.ops.clients, r) }})
	if err != nil {
		return err
	}
	g.pay = p
	mux := g.mux
	mux.Handle("POST /pay/orders", g.ops.limitJSON(p.serveCreateOrder))
	mux.HandleFunc("GET /pay/orders/{out_trade_no}", p.serveOrder)
	mux.Handle("POST /pay/orders/{out_trade_no}/refund", g.ops.limitJSON(p.serveRefund))
	mux.HandleFunc("POST /pay/notify/{mch_id}", p.serveV2Notify)              // pay_notify.go
	mux.HandleFunc("POST /pay/refund/notify/{mch_id}", p.serveV2RefundNotify) // pay_notify.go
	mux.HandleFunc("POST /pay/v3/notify/{mch_id}", p.serveV3Notify)           // pay_notify.go
	p.startOnPaid()                                                           // onpaid.go
	p.startCloser()                                                           // pay_sync.go
	return nil
}

// payerIP returns the spbill_create_ip of r: the client's address
// (behind limits.trusted_proxies, the address they forwarded), IPv4 when
// it is one, "127.0.0.1" when the connection has none (a Unix socket).
func payerIP(c clientIPs, r *http.Request) string {
	a := c.addr(r)
	if !a.IsValid() {
		return "127.0.0.1"
	}
	return a.Unmap().String()
}

// stopPay stops the paid-event drainer (the delivery in flight gets until
// ctx ends) and the closer.
func (g *Gateway) stopPay(ctx context.Context) {
	if g.pay == nil {
		return
	}
	g.pay.stopCloser()
	if g.pay.onPaid != nil {
		dctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
		defer cancel()
		g.pay.onPaid.stop(dctx)
	}
}

// Payments returns the gateway's WeChat Pay part, or nil when no merchant
// is configured.
func (g *Gateway) Payments() *Payments { return g.pay }

// OpenPayments opens the stores of cfg (normalized: LoadConfig,
// ParseConfig or Normalize) and builds its merchants' clients, without
// serving anything: for `wxkit pay orders` and `wxkit pay reconcile`.
// Paid events that a reconciliation enqueues are delivered by the
// serving instances. Release it with Close.
func OpenPayments(ctx context.Context, cfg *Config, logger *slog.Logger) (*Payments, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := OpenStores(ctx, cfg.Store, cfg.Redis, StoreOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	p, err := newPayments(cfg, payDeps{stores: st, client: &http.Client{Timeout: 10 * time.Second}, logger: logger, now: time.Now})
	if err != nil {
		st.Close()
		return nil, err
	}
	p.stores = st
	return p, nil
}

// Close releases the stores OpenPayments opened; for the Payments of a
// Gateway it does nothing (Gateway.Close does it).
func (p *Payments) Close() error {
	if p.stores == nil {
		return nil
	}
	return p.stores.Close()
}

// Orders lists the orders q selects (store.Orders.Orders).
func (p *Payments) Orders(ctx context.Context, q store.OrderQuery) ([]*store.Order, error) {
	return p.orders.Orders(ctx, q)
}

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
	var id string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, nil
		}
		id = strings.TrimSpace(tok)
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		id = c.Value
	}
	if id == "" || len(id) > 128 {
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
