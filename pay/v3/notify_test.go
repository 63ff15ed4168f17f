package payv3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const txPlaintext = `{"mchid":"1900000109","appid":"wx0123456789abcdef","out_trade_no":"T1001","transaction_id":"4200000001202503011234567890","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"CMC","attach":"","success_time":"2025-03-01T12:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}`

const refundPlaintext = `{"mchid":"1900000109","out_trade_no":"T1001","transaction_id":"4200000001202503011234567890","out_refund_no":"R1","refund_id":"50300000012025030112345678","refund_status":"SUCCESS","success_time":"2025-03-01T12:00:00+08:00","user_received_account":"支付用户零钱","amount":{"total":100,"refund":60,"payer_total":100,"payer_refund":60}}`

// countingRefresher counts refreshes and adds add (if any) to the Verifier.
type countingRefresher struct {
	n   atomic.Int32
	add func(v *Verifier)
	err error
}

func (r *countingRefresher) RefreshKeys(ctx context.Context, v *Verifier) error {
	r.n.Add(1)
	if r.add != nil {
		r.add(v)
	}
	return r.err
}

// TestParseNotify: notifies signed by the platform (independently of the
// package) are accepted with either key of a switching merchant and decoded;
// every tampering, a stale or future timestamp and an unknown serial are
// refused with the right error.
func TestParseNotify(t *testing.T) {
	t.Parallel()
	p, _ := newPlatform(t, modeBoth)
	certKey := p.certKeys[0]
	newParser := func(t *testing.T) *NotifyParser {
		v, err := NewPublicKeyVerifier(testPubKeyID, pubPEM(t, &keys().pub.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := ParseCertificatePEM(certKey.certPEM)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.AddCertificate(cert); err != nil {
			t.Fatal(err)
		}
		return &NotifyParser{Verifier: v, APIv3Key: testAPIv3Key, Now: p.now}
	}
	t.Run("accepted with either key", func(t *testing.T) {
		t.Parallel()
		np := newParser(t)
		for _, k := range []platformKey{certKey, p.pubKey, certKey, p.pubKey} {
			h, body := p.notify(t, k, testNow.Add(-4*time.Minute), "TRANSACTION.SUCCESS", []byte(txPlaintext))
			r := httptest.NewRequestWithContext(t.Context(), "POST", "/pay/v3/notify/1900000109", bytes.NewReader(body))
			r.Header = h
			n, err := np.Parse(r)
			if err != nil {
				t.Fatalf("Parse(signed by %s) = %v", k.serial, err)
			}
			var want Transaction
			if err := json.Unmarshal([]byte(txPlaintext), &want); err != nil {
				t.Fatal(err)
			}
			if n.Serial != k.serial || n.EventType != EventTypeTransactionSuccess || n.Refund != nil {
				t.Errorf("Parse = serial %s, event %s, refund %v", n.Serial, n.EventType, n.Refund)
			}
			if diff := cmp.Diff(&want, n.Transaction); diff != "" {
				t.Errorf("Transaction (-want +got):\n%s", diff)
			}
			if n.Transaction.Amount.Total != 100 || n.Transaction.TradeState != TradeStateSuccess {
				t.Errorf("Transaction = %+v", n.Transaction)
			}
		}
	})
	t.Run("refund", func(t *testing.T) {
		t.Parallel()
		h, body := p.notify(t, p.pubKey, testNow, "REFUND.SUCCESS", []byte(refundPlaintext))
		n, err := newParser(t).ParsePayload(t.Context(), h, body)
		if err != nil {
			t.Fatal(err)
		}
		want := &RefundNotice{MchID: testMchID, OutTradeNo: "T1001", TransactionID: "4200000001202503011234567890",
			OutRefundNo: "R1", RefundID: "50300000012025030112345678", RefundStatus: RefundStatusSuccess,
			SuccessTime: testNow, UserReceivedAccount: "支付用户零钱",
			Amount: RefundNoticeAmount{Total: 100, Refund: 60, PayerTotal: 100, PayerRefund: 60}}
		if diff := cmp.Diff(want, n.Refund, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("Refund (-want +got):\n%s", diff)
		}
		if n.Transaction != nil {
			t.Errorf("Transaction = %+v for a refund", n.Transaction)
		}
	})

	tests := []struct {
		name    string
		make    func(t *testing.T) (http.Header, []byte)
		wantErr []error
	}{
		{"stale", func(t *testing.T) (http.Header, []byte) {
			return p.notify(t, p.pubKey, testNow.Add(-5*time.Minute-time.Second), "TRANSACTION.SUCCESS", []byte(txPlaintext))
		}, []error{ErrSignature, ErrTimestamp}},
		{"future", func(t *testing.T) (http.Header, []byte) {
			return p.notify(t, p.pubKey, testNow.Add(6*time.Minute), "TRANSACTION.SUCCESS", []byte(txPlaintext))
		}, []error{ErrSignature, ErrTimestamp}},
		{"unknown serial", func(t *testing.T) (http.Header, []byte) {
			return p.notify(t, platformKey{serial: "PUB_KEY_ID_0119000001092099999999999999999", key: keys().stranger}, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
		}, []error{ErrSignature, ErrUnknownSerial}},
		{"known serial, other key", func(t *testing.T) (http.Header, []byte) {
			return p.notify(t, platformKey{serial: testPubKeyID, key: keys().stranger}, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
		}, []error{ErrSignature}},
		{"tampered body", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			return h, bytes.Replace(b, []byte("TRANSACTION.SUCCESS"), []byte("TRANSACTION.SUCCESs"), 1)
		}, []error{ErrSignature}},
		{"body with a trailing newline", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			return h, append(b, '\n')
		}, []error{ErrSignature}},
		{"nonce swapped", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			h.Set(HeaderNonce, "other")
			return h, b
		}, []error{ErrSignature}},
		{"signature probe", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			h.Set(HeaderSignature, "WECHATPAY/SIGNTEST/"+h.Get(HeaderSignature))
			return h, b
		}, []error{ErrSignature}},
		{"missing signature", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			h.Del(HeaderSignature)
			return h, b
		}, []error{ErrSignature}},
		{"other signature type", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			h.Set(HeaderSignatureType, "WECHATPAY2-SM2-WITH-SM3")
			return h, b
		}, []error{ErrSignature}},
		{"not a number timestamp", func(t *testing.T) (http.Header, []byte) {
			h, b := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			h.Set(HeaderTimestamp, "1740801600.0")
			return h, b
		}, []error{ErrSignature, ErrTimestamp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, body := tt.make(t)
			n, err := newParser(t).ParsePayload(t.Context(), h, body)
			if err == nil {
				t.Fatalf("ParsePayload = %+v, want an error", n)
			}
			for _, target := range tt.wantErr {
				if !errors.Is(err, target) {
					t.Errorf("ParsePayload = %v, want errors.Is %v", err, target)
				}
			}
		})
	}
	t.Run("wrong APIv3 key", func(t *testing.T) {
		t.Parallel()
		h, body := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
		np := newParser(t)
		np.APIv3Key = strings.Repeat("k", 32)
		if _, err := np.ParsePayload(t.Context(), h, body); !errors.Is(err, ErrDecrypt) {
			t.Errorf("ParsePayload = %v, want ErrDecrypt", err)
		}
	})
	t.Run("body cap", func(t *testing.T) {
		t.Parallel()
		h, body := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
		np := newParser(t)
		np.MaxBody = int64(len(body) - 1)
		r := httptest.NewRequestWithContext(t.Context(), "POST", "/n", bytes.NewReader(body))
		r.Header = h
		if _, err := np.Parse(r); !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("Parse(over the cap) = %v, want ErrBodyTooLarge", err)
		}
		np.MaxBody = int64(len(body))
		r = httptest.NewRequestWithContext(t.Context(), "POST", "/n", bytes.NewReader(body))
		r.Header = h
		if _, err := np.Parse(r); err != nil {
			t.Errorf("Parse(at the cap) = %v", err)
		}
	})
	t.Run("unknown serial refreshes once", func(t *testing.T) {
		t.Parallel()
		next := platformKey{serial: "PUB_KEY_ID_0119000001092025030100000000002", key: keys().stranger}
		clock := &testClock{t: testNow}
		v := NewVerifier(VerifierClock(clock.Now))
		ref := &countingRefresher{add: func(v *Verifier) { v.AddPublicKey(next.serial, &next.key.PublicKey) }}
		v.SetRefresher(ref, -1)
		np := &NotifyParser{Verifier: v, APIv3Key: testAPIv3Key, Now: clock.Now}
		h, body := p.notify(t, next, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
		if _, err := np.ParsePayload(t.Context(), h, body); err != nil {
			t.Errorf("ParsePayload(serial learnt by the refresh) = %v", err)
		}
		h, body = p.notify(t, platformKey{serial: "PUB_KEY_ID_0119000001092099999999999999999", key: keys().stranger}, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
		for range 3 {
			if _, err := np.ParsePayload(t.Context(), h, body); !errors.Is(err, ErrUnknownSerial) {
				t.Errorf("ParsePayload(unknown serial) = %v, want ErrUnknownSerial", err)
			}
		}
		if ref.n.Load() != 1 {
			t.Errorf("%d refreshes, want 1 (the others fall within the minimum interval)", ref.n.Load())
		}
		clock.Advance(DefaultMinRefreshInterval)
		if _, err := np.ParsePayload(t.Context(), h, body); !errors.Is(err, ErrUnknownSerial) || ref.n.Load() != 2 {
			t.Errorf("after a minute: %v with %d refreshes, want ErrUnknownSerial after 2", err, ref.n.Load())
		}
	})
}

func TestClientParseNotify(t *testing.T) {
	t.Parallel()
	p, base := newPlatform(t, modePublicKey)
	c := newTestClient(t, p, base)
	h, body := p.notify(t, p.pubKey, testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
	r := httptest.NewRequestWithContext(t.Context(), "POST", "/pay/v3/notify/1900000109", bytes.NewReader(body))
	r.Header = h
	n, err := c.ParseNotify(r)
	if err != nil || n.Transaction == nil || n.Transaction.OutTradeNo != "T1001" {
		t.Fatalf("ParseNotify = %+v, %v", n, err)
	}
	p.clock.Advance(6 * time.Minute)
	r = httptest.NewRequestWithContext(t.Context(), "POST", "/pay/v3/notify/1900000109", bytes.NewReader(body))
	r.Header = h
	if _, err := c.ParseNotify(r); !errors.Is(err, ErrTimestamp) {
		t.Errorf("ParseNotify six minutes later = %v, want ErrTimestamp", err)
	}
}

func TestWriteNotifyResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		status     int
		wantStatus int
		wantBody   string
	}{
		{"applied", nil, 0, 204, ""},
		{"rejected", ErrSignature, 401, 401, `{"code":"FAIL","message":"签名错误"}`},
		{"no status", errors.New("db down"), 0, 500, `{"code":"FAIL","message":"签名错误"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteNotifyResponse(w, tt.err, tt.status, "签名错误")
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody {
				t.Errorf("WriteNotifyResponse = %d %q, want %d %q", w.Code, w.Body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// FuzzParsePayload: no input panics, and nothing but the corpus's signed
// callback is accepted.
func FuzzParsePayload(f *testing.F) {
	vs := loadNotifyVectors(f)
	v := vs[0]
	ver, err := NewCertificateVerifier([][]byte{[]byte(v.PlatformCertificatePEM)})
	if err != nil {
		f.Fatal(err)
	}
	np := &NotifyParser{Verifier: ver, APIv3Key: v.APIv3Key, Now: func() time.Time { return time.Unix(v.NowUnix, 0) }}
	h := v.header()
	f.Add(h.Get(HeaderSerial), h.Get(HeaderSignature), h.Get(HeaderTimestamp), h.Get(HeaderNonce), []byte(v.Body))
	f.Add("PUB_KEY_ID_0", "", "0", "", []byte(`{"resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"x"}}`))
	f.Add("", "!!!", "-9223372036854775808", "n", []byte{})
	f.Fuzz(func(t *testing.T, serial, sig, ts, nonce string, body []byte) {
		hh := http.Header{}
		hh.Set(HeaderSerial, serial)
		hh.Set(HeaderSignature, sig)
		hh.Set(HeaderTimestamp, ts)
		hh.Set(HeaderNonce, nonce)
		n, err := np.ParsePayload(context.Background(), hh, body)
		if err == nil && (string(body) != v.Body || ts != h.Get(HeaderTimestamp) || nonce != h.Get(HeaderNonce)) {
			t.Errorf("ParsePayload accepted a changed callback: %+v", n)
		}
		// The decryption alone, on the fuzzed body's resource.
		var env Notification
		if json.Unmarshal(body, &env) == nil {
			DecryptResource(v.APIv3Key, &env.Resource)
		}
	})
}
