package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wxkit/wxkit/store"
)

// JobOnPaid is the outbox job kind of paid events (pay.on_paid).
const JobOnPaid = "on_paid"

// The headers of a paid event POSTed to pay.on_paid.forward.
const (
	// OnPaidSignatureHeader carries "sha256=" + the lower-case hex
	// HMAC-SHA256 of the exact body, keyed with pay.on_paid.secret (see
	// VerifyOnPaid).
	OnPaidSignatureHeader = "X-Wxkit-Signature"
	// OnPaidDeliveryHeader carries the event's delivery id, the same on
	// every attempt: a receiver that has handled an id answers 2xx again
	// and does nothing (deliveries are at least once).
	OnPaidDeliveryHeader = "X-Wxkit-Delivery"
	// OnPaidEventHeader names the event: "paid".
	OnPaidEventHeader = "X-Wxkit-Event"
)

// OnPaidMaxAge is how long a paid event is retried: after it the job is
// kept in the outbox as dead (wxkit_outbox_jobs_total{kind="on_paid",
// outcome="dead"}) and no longer sent.
const OnPaidMaxAge = 7 * 24 * time.Hour

// PaidEvent is the JSON body of a paid event: an order the platform says
// is paid, after its notify (or a query) matched the order. Amount is in
// fen; PaidAt is when the platform took the payment.
type PaidEvent struct {
	Event         string    `json:"event"` // "paid"
	OutTradeNo    string    `json:"out_trade_no"`
	MchID         string    `json:"mch_id"`
	AppID         string    `json:"appid"`
	OpenID        string    `json:"openid"`
	Amount        int64     `json:"amount"`
	TransactionID string    `json:"transaction_id"`
	PaidAt        time.Time `json:"paid_at"`
}

// SignOnPaid returns the X-Wxkit-Signature value of body: "sha256=" + hex
// HMAC-SHA256(secret, body).
func SignOnPaid(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyOnPaid reports whether signature (the X-Wxkit-Signature header)
// signs body with secret, comparing in constant time. Receivers verify the
// exact bytes received, before decoding them.
func VerifyOnPaid(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(SignOnPaid(secret, body)), []byte(strings.TrimSpace(signature)))
}

// paidJob returns the outbox job announcing that o is paid as pm says, or
// nil when pay.on_paid.forward is not set. Its key (the delivery id) is
// one per order, so that an order is announced once whatever repeats.
func (p *Payments) paidJob(o *store.Order, pm *store.Payment) (*store.Job, error) {
	if p.cfg.Pay.OnPaid.Forward == "" {
		return nil, nil
	}
	at := pm.At
	if at.IsZero() {
		at = p.now()
	}
	body, err := json.Marshal(PaidEvent{Event: "paid", OutTradeNo: o.OutTradeNo, MchID: o.MchID, AppID: o.AppID,
		OpenID: o.OpenID, Amount: o.Amount, TransactionID: pm.TransactionID, PaidAt: at})
	if err != nil {
		return nil, err
	}
	now := p.now()
	return &store.Job{Kind: JobOnPaid, Key: "paid:" + o.MchID + ":" + o.OutTradeNo, Payload: body,
		RunAt: now, Created: now, NotAfter: now.Add(OnPaidMaxAge)}, nil
}

// startOnPaid starts the drainer of paid events when a forward is set.
// Every instance runs one; the outbox leases each job to one of them.
func (p *Payments) startOnPaid() {
	if p.cfg.Pay.OnPaid.Forward == "" {
		return
	}
	d := &drainer{
		outbox: p.outbox,
		kind:   JobOnPaid,
		run:    p.deliverPaid,
		retry:  onPaidRetry,
		now:    p.now,
		logger: p.logger,
	}
	if p.metrics != nil {
		d.hooks = p.metrics.drainHooks()
	}
	p.onPaid = d
	d.start()
}

// onPaidRetry is the backoff of paid events: 5 s after the first failed
// attempt, doubling up to an hour, until OnPaidMaxAge (the job's
// NotAfter).
func onPaidRetry(attempts int) (time.Duration, bool) {
	d := 5 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour), true
}

// deliverPaid POSTs one paid event to pay.on_paid.forward; any answer but
// 2xx is retried.
func (p *Payments) deliverPaid(ctx context.Context, j *store.Job) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.Pay.OnPaid.Forward, bytes.NewReader(j.Payload))
	if err != nil {
		return permanent(fmt.Errorf("pay: on_paid: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wxkit-gateway")
	req.Header.Set(OnPaidEventHeader, "paid")
	req.Header.Set(OnPaidDeliveryHeader, j.Key)
	req.Header.Set(OnPaidSignatureHeader, SignOnPaid(p.cfg.Pay.OnPaid.Secret, j.Payload))
	resp, err := p.fwd.Do(req)
	if err != nil {
		return fmt.Errorf("pay: on_paid: delivery %s: %w", j.Key, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("pay: on_paid: delivery %s: the forward answered %s", j.Key, resp.Status)
	}
	p.logger.LogAttrs(ctx, slog.LevelInfo, "pay: paid event delivered", slog.String("delivery", j.Key), slog.Int("attempt", j.Attempts))
	return nil
}
