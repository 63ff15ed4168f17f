package payv3

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newTestClient returns a client of the merchant against p at base, with
// keys as a merchant in mode would configure them: public_key → the public
// key; certificate → nothing (certificates downloaded); both → the public
// key plus certificate download.
func newTestClient(t *testing.T, p *platform, base string, opts ...Option) *Client {
	t.Helper()
	o := []Option{WithBaseURL(base), WithClock(p.now), WithNotifyURL(testNotifyURL)}
	switch p.mode {
	case modePublicKey, modeBoth:
		v, err := NewPublicKeyVerifier(testPubKeyID, pubPEM(t, &keys().pub.PublicKey), VerifierClock(p.now))
		if err != nil {
			t.Fatal(err)
		}
		o = append(o, WithPlatformKeys(v))
		if p.mode == modeBoth {
			o = append(o, WithCertificateDownload(0))
		}
	}
	c, err := NewClient(testMchID, testMerchantSerial, keys().merchant, testAPIv3Key, append(o, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.api.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	c.raw.Sleep = c.api.Sleep
	return c
}

func jsapiRequest(outTradeNo string, total int64) *PrepayRequest {
	return &PrepayRequest{AppID: testAppID, Description: "Image形象店-深圳腾大-QQ公仔", OutTradeNo: outTradeNo,
		Amount: Amount{Total: total}, Payer: &Payer{OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}
}

// TestFlowInEveryKeyMode runs every call against a platform in each key
// mode: certificate serials, a PUB_KEY_ID_ public key, and a merchant
// switching, whose replies are signed by either key in turn.
func TestFlowInEveryKeyMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []platformMode{modeCertificate, modePublicKey, modeBoth} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			p, base := newPlatform(t, mode)
			c := newTestClient(t, p, base)
			ctx := t.Context()

			pre, err := c.PrepayJSAPI(ctx, jsapiRequest("T1001", 100))
			if err != nil {
				t.Fatalf("PrepayJSAPI = %v", err)
			}
			if want := p.orders["T1001"].PrepayID; pre.PrepayID != want {
				t.Errorf("PrepayJSAPI = %q, want %q", pre.PrepayID, want)
			}
			again, err := c.PrepayJSAPI(ctx, jsapiRequest("T1001", 100))
			if err != nil || again.PrepayID != pre.PrepayID {
				t.Errorf("PrepayJSAPI(same order again) = %+v, %v; want the same prepay_id", again, err)
			}
			if _, err := c.PrepayJSAPI(ctx, jsapiRequest("T1001", 200)); !errors.Is(err, ErrInvalidRequest) || errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("PrepayJSAPI(same out_trade_no, other amount) = %v, want ErrInvalidRequest, not unknown", err)
			}
			nat, err := c.PrepayNative(ctx, &PrepayRequest{AppID: testAppID, Description: "QR", OutTradeNo: "N1", Amount: Amount{Total: 1}})
			if err != nil || !strings.HasPrefix(nat.CodeURL, "weixin://wxpay/bizpayurl?pr=") {
				t.Errorf("PrepayNative = %+v, %v", nat, err)
			}

			tx, err := c.QueryByOutTradeNo(ctx, "T1001")
			if err != nil || tx.TradeState != TradeStateNotPay || tx.Amount.Total != 100 {
				t.Fatalf("QueryByOutTradeNo(unpaid) = %+v, %v; want NOTPAY of 100", tx, err)
			}
			txID := p.pay("T1001")
			tx, err = c.QueryByTransactionID(ctx, txID)
			if err != nil {
				t.Fatalf("QueryByTransactionID = %v", err)
			}
			want := &Transaction{AppID: testAppID, MchID: testMchID, OutTradeNo: "T1001", TransactionID: txID,
				TradeType: TradeTypeJSAPI, TradeState: TradeStateSuccess, BankType: "OTHERS", SuccessTime: testNow,
				Payer:  Payer{OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
				Amount: TransactionAmount{Total: 100, PayerTotal: 100, Currency: "CNY", PayerCurrency: "CNY"}}
			if diff := cmp.Diff(want, tx, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("QueryByTransactionID (-want +got):\n%s", diff)
			}
			if _, err := c.QueryByOutTradeNo(ctx, "nope"); !errors.Is(err, ErrOrderNotExist) {
				t.Errorf("QueryByOutTradeNo(unknown) = %v, want ErrOrderNotExist", err)
			}

			if err := c.Close(ctx, "N1"); err != nil {
				t.Errorf("Close(unpaid) = %v", err)
			}
			if err := c.Close(ctx, "T1001"); !errors.Is(err, ErrOrderPaid) || errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("Close(paid) = %v, want ErrOrderPaid, not unknown", err)
			}

			rf, err := c.Refund(ctx, &RefundRequest{OutTradeNo: "T1001", OutRefundNo: "R1", Amount: RefundAmount{Refund: 60, Total: 100}})
			if err != nil || rf.Status != RefundStatusProcessing || rf.Amount.Refund != 60 {
				t.Fatalf("Refund = %+v, %v; want PROCESSING of 60", rf, err)
			}
			got, err := c.QueryRefund(ctx, "R1")
			if err != nil || got.RefundID != rf.RefundID || got.Status != RefundStatusProcessing {
				t.Errorf("QueryRefund = %+v, %v; want refund %s", got, err, rf.RefundID)
			}
			if _, err := c.Refund(ctx, &RefundRequest{OutTradeNo: "T1001", OutRefundNo: "R2", Amount: RefundAmount{Refund: 60, Total: 100}}); !errors.Is(err, ErrNotEnough) || errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("Refund(over the total) = %v, want ErrNotEnough, not unknown", err)
			}

			// The key of every reply, by mode.
			var sawPub, sawCert bool
			for _, s := range p.signedBy {
				sawPub = sawPub || s == testPubKeyID
				sawCert = sawCert || s == "1A2B3C4D5E6F"
			}
			wantPub, wantCert := mode != modeCertificate, mode != modePublicKey
			if sawPub != wantPub || sawCert != wantCert {
				t.Errorf("replies signed by %v; want public key %v, certificate %v", slices.Compact(slices.Sorted(slices.Values(p.signedBy))), wantPub, wantCert)
			}
		})
	}
}

// TestAuthorizationHeader: the layout of the header the platform received
// (the parameter order of the corpus vectors), and a fresh nonce and
// signature per request; the platform verified each with crypto/rsa.
func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	p, base := newPlatform(t, modePublicKey)
	c := newTestClient(t, p, base)
	for range 3 {
		if _, err := c.QueryByOutTradeNo(t.Context(), "none"); !errors.Is(err, ErrOrderNotExist) {
			t.Fatalf("QueryByOutTradeNo = %v, want ErrOrderNotExist (the platform accepted the signature)", err)
		}
	}
	if len(p.auths) != 3 {
		t.Fatalf("platform saw %d requests, want 3", len(p.auths))
	}
	seen := map[string]bool{}
	for _, a := range p.auths {
		if diff := cmp.Diff([]string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"}, a.Keys); diff != "" {
			t.Errorf("Authorization parameters (-want +got):\n%s", diff)
		}
		if a.Params["timestamp"] != "1740801600" {
			t.Errorf("timestamp = %q, want the client clock's 1740801600", a.Params["timestamp"])
		}
		if seen[a.Params["nonce_str"]] || seen[a.Params["signature"]] {
			t.Errorf("nonce or signature repeated: %v", a.Params)
		}
		seen[a.Params["nonce_str"]], seen[a.Params["signature"]] = true, true
	}
}

// TestOutcomeUnknown: a call that moves money or changes state is never
// retried, and any failure after which the platform may have run it is
// ErrOutcomeUnknown, never a plain failure; a refusal (4xx) is not.
func TestOutcomeUnknown(t *testing.T) {
	t.Parallel()
	const path = "/v3/refund/domestic/refunds"
	tests := []struct {
		name        string
		setup       func(p *platform)
		wantUnknown bool
		wantIs      []error
		wantRun     int // refunds the platform ran
	}{
		{name: "forged reply signature", setup: func(p *platform) { p.forge[path] = true }, wantUnknown: true, wantIs: []error{ErrSignature}, wantRun: 1},
		{name: "reply signed by an untrusted key", setup: func(p *platform) {
			p.signWith = &platformKey{serial: "PUB_KEY_ID_0119000001092099999999999999999", key: keys().stranger}
		}, wantUnknown: true, wantIs: []error{ErrSignature, ErrUnknownSerial}, wantRun: 1},
		{name: "reply timestamp outside tolerance", setup: func(p *platform) { p.skewed = -6 * time.Minute }, wantUnknown: true, wantIs: []error{ErrSignature, ErrTimestamp}, wantRun: 1},
		{name: "500 SYSTEM_ERROR", setup: func(p *platform) { p.status[path] = []int{500, 500} }, wantUnknown: true, wantIs: []error{ErrSystemError}},
		{name: "refused 403 NOT_ENOUGH", setup: func(p *platform) { p.orders["T1"].Refunded = 100 }, wantIs: []error{ErrNotEnough}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, base := newPlatform(t, modePublicKey)
			c := newTestClient(t, p, base)
			if _, err := c.PrepayJSAPI(t.Context(), jsapiRequest("T1", 100)); err != nil {
				t.Fatal(err)
			}
			p.pay("T1")
			tt.setup(p)
			_, err := c.Refund(t.Context(), &RefundRequest{OutTradeNo: "T1", OutRefundNo: "R1", Amount: RefundAmount{Refund: 100, Total: 100}})
			if err == nil {
				t.Fatal("Refund = nil error")
			}
			if got := errors.Is(err, ErrOutcomeUnknown); got != tt.wantUnknown {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, tt.wantUnknown)
			}
			if tt.wantUnknown && !strings.Contains(err.Error(), "UNKNOWN") {
				t.Errorf("error %q does not say the outcome is unknown", err)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
			if p.hits[path] != 1 || p.refundsRun != tt.wantRun {
				t.Errorf("platform saw %d refund requests and ran %d refunds; want 1 request (no retry) and %d", p.hits[path], p.refundsRun, tt.wantRun)
			}
		})
	}
	t.Run("transport error", func(t *testing.T) {
		t.Parallel()
		v, _ := NewPublicKeyVerifier(testPubKeyID, pubPEM(t, &keys().pub.PublicKey))
		c, err := NewClient(testMchID, testMerchantSerial, keys().merchant, testAPIv3Key, WithPlatformKeys(v),
			WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return nil, errors.New("connection reset by peer")
			})}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Refund(t.Context(), &RefundRequest{OutTradeNo: "T1", OutRefundNo: "R1", NotifyURL: testNotifyURL, Amount: RefundAmount{Refund: 1, Total: 1}})
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("Refund over a broken connection = %v, want ErrOutcomeUnknown naming the cause", err)
		}
		if err := c.Close(t.Context(), "T1"); !errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("Close over a broken connection = %v, want ErrOutcomeUnknown", err)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestQueryRetries: a query is retried on 5xx and 429; a query whose reply
// fails verification is an error (not retried, and not "unknown": nothing
// changed).
func TestQueryRetries(t *testing.T) {
	t.Parallel()
	const path = "/v3/pay/transactions/out-trade-no/T1"
	tests := []struct {
		name     string
		statuses []int
		forge    bool
		wantHits int
		wantErr  error
	}{
		{name: "503 then ok", statuses: []int{503}, wantHits: 2},
		{name: "429, 500 then ok", statuses: []int{429, 500}, wantHits: 3},
		{name: "always 500", statuses: []int{500, 500, 500, 500, 500}, wantHits: 4, wantErr: ErrSystemError},
		{name: "forged", forge: true, wantHits: 1, wantErr: ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, base := newPlatform(t, modePublicKey)
			c := newTestClient(t, p, base)
			if _, err := c.PrepayJSAPI(t.Context(), jsapiRequest("T1", 100)); err != nil {
				t.Fatal(err)
			}
			p.status[path], p.forge[path] = tt.statuses, tt.forge
			tx, err := c.QueryByOutTradeNo(t.Context(), "T1")
			if tt.wantErr == nil && (err != nil || tx.TradeState != TradeStateNotPay) {
				t.Errorf("QueryByOutTradeNo = %+v, %v; want NOTPAY", tx, err)
			}
			if tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || errors.Is(err, ErrOutcomeUnknown)) {
				t.Errorf("QueryByOutTradeNo = %v, want %v (and not unknown)", err, tt.wantErr)
			}
			if p.hits[path] != tt.wantHits {
				t.Errorf("%d attempts, want %d", p.hits[path], tt.wantHits)
			}
		})
	}
}

// TestCertificateDownload: the first download bootstraps the keys, a new
// certificate serial makes the client download again (rotation), a
// public-key merchant's 404 says what to configure, and a tampered or
// untrusted download is refused.
func TestCertificateDownload(t *testing.T) {
	t.Parallel()
	t.Run("bootstrap and rotation", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modeCertificate)
		c := newTestClient(t, p, base)
		if _, err := c.PrepayJSAPI(t.Context(), jsapiRequest("T1", 1)); err != nil {
			t.Fatalf("PrepayJSAPI = %v", err)
		}
		if diff := cmp.Diff([]string{"1A2B3C4D5E6F"}, c.Verifier().Serials()); diff != "" {
			t.Errorf("serials after bootstrap (-want +got):\n%s", diff)
		}
		newSerial := p.rotate(t)
		p.clock.Advance(DefaultMinRefreshInterval) // an unknown serial refreshes at most once a minute
		if _, err := c.QueryByOutTradeNo(t.Context(), "T1"); err != nil {
			t.Fatalf("QueryByOutTradeNo signed by a new certificate = %v", err)
		}
		if diff := cmp.Diff([]string{"1A2B3C4D5E6F", newSerial}, c.Verifier().Serials()); diff != "" {
			t.Errorf("serials after rotation (-want +got):\n%s", diff)
		}
		if p.hits["/v3/certificates"] != 2 {
			t.Errorf("%d downloads, want 2 (bootstrap, unknown serial)", p.hits["/v3/certificates"])
		}
		certs, err := c.DownloadCertificates(t.Context())
		if err != nil || len(certs) != 2 || string(certs[1].PEM) != string(p.certPEM()) {
			t.Errorf("DownloadCertificates = %d certificates, %v; want 2, the last the current one", len(certs), err)
		}
	})
	t.Run("public-key merchant", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modePublicKey)
		c, err := NewClient(testMchID, testMerchantSerial, keys().merchant, testAPIv3Key, WithBaseURL(base), WithClock(p.now))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DownloadCertificates(t.Context())
		if !errors.Is(err, ErrNoPlatformCertificates) || !errors.Is(err, ErrResourceNotExists) || !strings.Contains(err.Error(), "public key") {
			t.Errorf("DownloadCertificates = %v, want ErrNoPlatformCertificates naming the public key", err)
		}
		_, err = c.QueryByOutTradeNo(t.Context(), "T1")
		if !errors.Is(err, ErrUnknownSerial) || !errors.Is(err, ErrNoPlatformCertificates) {
			t.Errorf("QueryByOutTradeNo without the public key = %v, want ErrUnknownSerial and ErrNoPlatformCertificates", err)
		}
	})
	t.Run("tampered certificates", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modeCertificate)
		p.tamperCert = true
		c := newTestClient(t, p, base)
		if _, err := c.DownloadCertificates(t.Context()); !errors.Is(err, ErrDecrypt) {
			t.Errorf("DownloadCertificates = %v, want ErrDecrypt", err)
		}
		if len(c.Verifier().Serials()) != 0 {
			t.Errorf("serials %v trusted after a failed download", c.Verifier().Serials())
		}
	})
	t.Run("download signed by an untrusted key", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modeCertificate)
		p.signWith = &platformKey{serial: "77777777", key: keys().stranger}
		c := newTestClient(t, p, base)
		if _, err := c.DownloadCertificates(t.Context()); !errors.Is(err, ErrUnknownSerial) {
			t.Errorf("DownloadCertificates = %v, want ErrUnknownSerial", err)
		}
		if len(c.Verifier().Serials()) != 0 {
			t.Errorf("serials %v trusted after a refused download", c.Verifier().Serials())
		}
	})
}

func TestNewClientChecks(t *testing.T) {
	t.Parallel()
	if _, err := NewClient(testMchID, testMerchantSerial, keys().merchant, testAPIv3Key); err != nil {
		t.Fatalf("NewClient(valid) = %v", err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(testMchID, testMerchantSerial, small, testAPIv3Key); err == nil {
		t.Errorf("NewClient(1024-bit key) = nil error")
	}
	if _, err := NewClient(testMchID, testMerchantSerial, nil, testAPIv3Key); err == nil {
		t.Errorf("NewClient(nil key) = nil error")
	}
	tests := []struct {
		name              string
		mchID, serial, v3 string
		opts              []Option
	}{
		{name: "no mchid", serial: testMerchantSerial, v3: testAPIv3Key},
		{name: "mchid with a quote", mchID: `19"00`, serial: testMerchantSerial, v3: testAPIv3Key},
		{name: "no serial", mchID: testMchID, v3: testAPIv3Key},
		{name: "short APIv3 key", mchID: testMchID, serial: testMerchantSerial, v3: "short"},
		{name: "bad base URL", mchID: testMchID, serial: testMerchantSerial, v3: testAPIv3Key, opts: []Option{WithBaseURL("ftp://x")}},
		{name: "notify URL with a query", mchID: testMchID, serial: testMerchantSerial, v3: testAPIv3Key, opts: []Option{WithNotifyURL("https://x/n?a=1")}},
		{name: "nil verifier", mchID: testMchID, serial: testMerchantSerial, v3: testAPIv3Key, opts: []Option{WithPlatformKeys(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewClient(tt.mchID, tt.serial, keys().merchant, tt.v3, tt.opts...); err == nil {
				t.Errorf("NewClient = nil error")
			}
		})
	}
}

func TestRequestChecks(t *testing.T) {
	t.Parallel()
	p, base := newPlatform(t, modePublicKey)
	c := newTestClient(t, p, base)
	ctx := t.Context()
	bad := []struct {
		name string
		call func() error
	}{
		{"jsapi without payer", func() error {
			r := jsapiRequest("T", 1)
			r.Payer = nil
			_, err := c.PrepayJSAPI(ctx, r)
			return err
		}},
		{"zero amount", func() error { _, err := c.PrepayJSAPI(ctx, jsapiRequest("T", 0)); return err }},
		{"no out_trade_no", func() error {
			_, err := c.PrepayNative(ctx, &PrepayRequest{AppID: testAppID, Description: "d", Amount: Amount{Total: 1}})
			return err
		}},
		{"refund over total", func() error {
			_, err := c.Refund(ctx, &RefundRequest{OutTradeNo: "T", OutRefundNo: "R", Amount: RefundAmount{Refund: 2, Total: 1}})
			return err
		}},
		{"refund without order", func() error {
			_, err := c.Refund(ctx, &RefundRequest{OutRefundNo: "R", Amount: RefundAmount{Refund: 1, Total: 1}})
			return err
		}},
		{"empty query", func() error { _, err := c.QueryByOutTradeNo(ctx, ""); return err }},
		{"empty close", func() error { return c.Close(ctx, "") }},
	}
	for _, b := range bad {
		if err := b.call(); err == nil || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("%s: error %v, want a plain error", b.name, err)
		}
	}
	if n := len(p.auths); n != 0 {
		t.Errorf("%d requests reached the platform, want 0", n)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	t.Run("max attempts", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modePublicKey)
		c := newTestClient(t, p, base, WithMaxAttempts(1), WithLogger(slog.New(slog.DiscardHandler)))
		p.status["/v3/refund/domestic/refunds/R1"] = []int{503}
		if _, err := c.QueryRefund(t.Context(), "R1"); !errors.Is(err, ErrSystemError) || p.hits["/v3/refund/domestic/refunds/R1"] != 1 {
			t.Errorf("QueryRefund = %v after %d attempts, want ErrSystemError after 1", err, p.hits["/v3/refund/domestic/refunds/R1"])
		}
		if _, err := c.QueryRefund(t.Context(), "R1"); !errors.Is(err, ErrResourceNotExists) {
			t.Errorf("QueryRefund(unknown) = %v, want ErrResourceNotExists", err)
		}
		if c.MchID() != testMchID || c.BaseURL().String() != base {
			t.Errorf("MchID, BaseURL = %s, %s", c.MchID(), c.BaseURL())
		}
	})
	t.Run("tolerance", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modePublicKey)
		p.skewed = -8 * time.Minute
		if _, err := newTestClient(t, p, base).QueryByOutTradeNo(t.Context(), "T1"); !errors.Is(err, ErrTimestamp) {
			t.Errorf("QueryByOutTradeNo(8 minutes skew) = %v, want ErrTimestamp", err)
		}
		if _, err := newTestClient(t, p, base, WithTolerance(10*time.Minute)).QueryByOutTradeNo(t.Context(), "T1"); !errors.Is(err, ErrOrderNotExist) {
			t.Errorf("QueryByOutTradeNo(8 minutes skew, 10 tolerated) = %v, want ErrOrderNotExist", err)
		}
	})
	t.Run("downloader behind a notify verifier", func(t *testing.T) {
		t.Parallel()
		p, base := newPlatform(t, modeCertificate)
		c := newTestClient(t, p, base)
		v := NewVerifier(VerifierClock(p.now), MinRefreshInterval(0))
		v.SetRefresher(NewCertificateDownloader(c), -1)
		np := &NotifyParser{Verifier: v, APIv3Key: testAPIv3Key, Now: p.now}
		for range 2 {
			h, body := p.notify(t, p.certKeys[len(p.certKeys)-1], testNow, "TRANSACTION.SUCCESS", []byte(txPlaintext))
			if _, err := np.ParsePayload(t.Context(), h, body); err != nil {
				t.Fatalf("ParsePayload = %v", err)
			}
			p.rotate(t)
		}
		if p.hits["/v3/certificates"] != 2 {
			t.Errorf("%d downloads, want 2 (one per new serial)", p.hits["/v3/certificates"])
		}
	})
}
