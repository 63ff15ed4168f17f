package payv3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxNotifyBody caps the body of a notify (1 MiB).
const DefaultMaxNotifyBody = 1 << 20

// EventType is the event_type of a notify.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
type EventType string

// The event types of payment and refund notifies.
const (
	EventTypeTransactionSuccess EventType = "TRANSACTION.SUCCESS"
	EventTypeRefundSuccess      EventType = "REFUND.SUCCESS"
	EventTypeRefundAbnormal     EventType = "REFUND.ABNORMAL"
	EventTypeRefundClosed       EventType = "REFUND.CLOSED"
)

// Resource is the encrypted part of a notify (AEAD_AES_256_GCM with the
// APIv3 key); DecryptResource opens it.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/certificate-callback-decryption.html
type Resource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// RefundNoticeAmount is the amount part of a refund notify, in fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/refund-result-notice.html
type RefundNoticeAmount struct {
	Total       int64 `json:"total"`
	Refund      int64 `json:"refund"`
	PayerTotal  int64 `json:"payer_total"`
	PayerRefund int64 `json:"payer_refund"`
}

// RefundNotice is the plaintext of a REFUND.* notify.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/refund-result-notice.html
type RefundNotice struct {
	MchID               string             `json:"mchid"`
	OutTradeNo          string             `json:"out_trade_no"`
	TransactionID       string             `json:"transaction_id"`
	OutRefundNo         string             `json:"out_refund_no"`
	RefundID            string             `json:"refund_id"`
	RefundStatus        RefundStatus       `json:"refund_status"`
	SuccessTime         time.Time          `json:"success_time,omitzero"`
	UserReceivedAccount string             `json:"user_received_account,omitempty"`
	Amount              RefundNoticeAmount `json:"amount"`
}

// Notification is a verified and decrypted notify. The envelope fields are
// as sent; Plaintext is the decrypted resource, decoded into Transaction for
// TRANSACTION.* events and into Refund for REFUND.* events (other events
// leave both nil). Serial names the key that verified it.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
type Notification struct {
	ID           string    `json:"id"`
	CreateTime   time.Time `json:"create_time,omitzero"`
	EventType    EventType `json:"event_type"`
	ResourceType string    `json:"resource_type"`
	Summary      string    `json:"summary"`
	Resource     Resource  `json:"resource"`

	Serial      string        `json:"-"`
	Plaintext   []byte        `json:"-"`
	Transaction *Transaction  `json:"-"`
	Refund      *RefundNotice `json:"-"`
}

// NotifyParser verifies and decrypts notifies. The zero value is not
// usable: Verifier and APIv3Key are required. It is safe for concurrent use
// once set up.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
type NotifyParser struct {
	// Verifier holds the keys of the Wechatpay-Serial a notify may name; a
	// serial it does not know makes it refresh once (when it can).
	Verifier *Verifier
	// APIv3Key decrypts the resource.
	APIv3Key string
	// Tolerance is how far Wechatpay-Timestamp may be from Now; 0 means
	// DefaultTolerance. A repeated notify is signed again, so a stale
	// timestamp is a replay.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxBody caps the body; 0 means DefaultMaxNotifyBody.
	MaxBody int64
}

// ParseNotify verifies and decrypts the notify r with the keys of v, the
// APIv3 key and the timestamp tolerance (0: DefaultTolerance), as
// NotifyParser.Parse does. Answer it 204 (or 200) when it is applied or a
// repeat, 4xx/5xx with {"code":"FAIL","message":...} otherwise (see
// WriteNotifyResponse).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
func ParseNotify(r *http.Request, v *Verifier, apiV3Key string, tolerance time.Duration) (*Notification, error) {
	p := NotifyParser{Verifier: v, APIv3Key: apiV3Key, Tolerance: tolerance}
	return p.Parse(r)
}

// ParseNotify verifies and decrypts the notify r with the client's keys,
// APIv3 key, clock and tolerance.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
func (c *Client) ParseNotify(r *http.Request) (*Notification, error) {
	p := NotifyParser{Verifier: c.verifier, APIv3Key: c.apiV3Key, Tolerance: c.tolerance, Now: c.now}
	return p.Parse(r)
}

// Parse reads r's body (at most MaxBody bytes, else ErrBodyTooLarge) and
// returns ParsePayload of it.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
func (p *NotifyParser) Parse(r *http.Request) (*Notification, error) {
	if r.Body == nil {
		return nil, errors.New("payv3: notify: no body")
	}
	limit := p.MaxBody
	if limit <= 0 {
		limit = DefaultMaxNotifyBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("payv3: notify: read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: notify over %d bytes", ErrBodyTooLarge, limit)
	}
	return p.ParsePayload(r.Context(), r.Header, body)
}

// ParsePayload verifies a notify given as its headers and exact body, in
// this order: the Wechatpay-* headers are present and Wechatpay-Timestamp
// is within the tolerance (else a *VerifyError matching ErrTimestamp); the
// signature over "timestamp\nnonce\nbody\n" verifies with the key of
// Wechatpay-Serial, a certificate serial or a PUB_KEY_ID_ (else a
// *VerifyError; ErrUnknownSerial after one refresh); the body is a notify
// whose resource is AEAD_AES_256_GCM and decrypts with the APIv3 key (else
// ErrDecrypt). It never panics, whatever the input.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func (p *NotifyParser) ParsePayload(ctx context.Context, h http.Header, body []byte) (*Notification, error) {
	if p.Verifier == nil {
		return nil, errors.New("payv3: notify: NotifyParser without a Verifier")
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	serial, err := verifySigned(ctx, p.Verifier, h, body, now(), p.Tolerance)
	if err != nil {
		return nil, fmt.Errorf("payv3: notify: %w", err)
	}
	n := &Notification{}
	if err := json.Unmarshal(body, n); err != nil {
		return nil, fmt.Errorf("payv3: notify: decode body: %w", err)
	}
	n.Serial = serial
	if n.ResourceType != "" && n.ResourceType != "encrypt-resource" {
		return nil, fmt.Errorf("payv3: notify %s: resource_type %q, want encrypt-resource", n.ID, n.ResourceType)
	}
	pt, err := DecryptResource(p.APIv3Key, &n.Resource)
	if err != nil {
		return nil, fmt.Errorf("payv3: notify %s: %w", n.ID, err)
	}
	n.Plaintext = pt
	switch {
	case strings.HasPrefix(string(n.EventType), "TRANSACTION."):
		var t Transaction
		if err := json.Unmarshal(pt, &t); err != nil {
			return nil, fmt.Errorf("payv3: notify %s: decode transaction: %w", n.ID, err)
		}
		n.Transaction = &t
	case strings.HasPrefix(string(n.EventType), "REFUND."):
		var r RefundNotice
		if err := json.Unmarshal(pt, &r); err != nil {
			return nil, fmt.Errorf("payv3: notify %s: decode refund: %w", n.ID, err)
		}
		n.Refund = &r
	}
	return n, nil
}

// WriteNotifyResponse answers a notify: 204 No Content when err is nil
// (applied, or a repeat), else status (a 4xx or 5xx; 0 means 500) with
// {"code":"FAIL","message":message}, which makes the platform send the
// notify again later. message must not carry secrets.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/payment-notice.html
func WriteNotifyResponse(w http.ResponseWriter, err error, status int, message string) {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"FAIL", message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
