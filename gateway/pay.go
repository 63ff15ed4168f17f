package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

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
