package pay

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const tlsVerifyIfGiven = tls.VerifyClientCertIfGiven

// testCA issues client certificates, as WeChat Pay's CA issues
// apiclient_cert.pem (subject CN = the mch_id).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test Pay CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issueDER returns a client certificate for cn and its key, DER-encoded.
func (ca *testCA) issueDER(t testing.TB, cn string) (certDER, keyDER []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Tenpay.com"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certDER, keyDER
}

func (ca *testCA) issue(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	certDER, keyDER := ca.issueDER(t, cn)
	c, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// refundHandler answers a refund, requiring a client certificate whose CN
// is the merchant id.
func refundHandler(t testing.TB, p *platform) {
	p.handle("secapi/pay/refund", func(req map[string]string) reply {
		return reply{fields: ok(map[string]string{
			"transaction_id": "4200000001", "out_trade_no": req["out_trade_no"], "out_refund_no": req["out_refund_no"],
			"refund_id": "50000000001", "refund_fee": req["refund_fee"], "settlement_refund_fee": req["refund_fee"],
			"total_fee": req["total_fee"], "settlement_total_fee": req["total_fee"], "fee_type": "CNY",
			"cash_fee": req["total_fee"], "cash_refund_fee": req["refund_fee"],
			"coupon_refund_fee": "0",
		})}
	})
	p.mux.HandleFunc(basePrefix+"pay/orderquery", func(w http.ResponseWriter, r *http.Request) {
		if n := len(r.TLS.PeerCertificates); n != 0 {
			t.Errorf("orderquery presented %d client certificates, want 0 (only refund uses it)", n)
		}
		w.Write(wireRender(signed(ok(map[string]string{"out_trade_no": "T1", "trade_state": "REFUND"}), testKey, p.signType)))
	})
}

// peerCN wraps the platform's mux to record the client certificate's CN
// of each refund.
func peerCN(t testing.TB, p *platform, want string) {
	inner := p.srv.Config.Handler
	p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == basePrefix+"secapi/pay/refund" {
			if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
				t.Errorf("refund without a client certificate")
			} else if cn := r.TLS.PeerCertificates[0].Subject.CommonName; cn != want {
				t.Errorf("refund client certificate CN %q, want %q", cn, want)
			}
		}
		inner.ServeHTTP(w, r)
	})
}

// TestRefundMutualTLS refunds against a TLS server that requires (or asks
// for) a client certificate issued by the test CA.
func TestRefundMutualTLS(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	certDER, keyDER := ca.issueDER(t, testMchID)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "apiclient_cert.pem"), filepath.Join(dir, "apiclient_key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	req := &RefundRequest{
		OutTradeNo: "T1", OutRefundNo: "R1", TotalFee: 100, RefundFee: 40, RefundDesc: "商品已售完",
		NotifyURL: "https://example.com/pay/refund/notify/1900000109", RefundAccount: "REFUND_SOURCE_UNSETTLED_FUNDS",
	}
	wantWire := wire(SignTypeHMACSHA256, map[string]string{
		"out_trade_no": "T1", "out_refund_no": "R1", "total_fee": "100", "refund_fee": "40", "refund_desc": "商品已售完",
		"notify_url": "https://example.com/pay/refund/notify/1900000109", "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
	})
	tests := []struct {
		name string
		auth tls.ClientAuthType
		opt  Option
	}{
		{"required, WithCertificate", tls.RequireAndVerifyClientCert, WithCertificate(ca.issue(t, testMchID))},
		{"required, WithCertificateFiles", tls.RequireAndVerifyClientCert, WithCertificateFiles(certFile, keyFile)},
		{"asked for, WithCertificate", tls.VerifyClientCertIfGiven, WithCertificate(ca.issue(t, testMchID))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTLSPlatform(t, SignTypeHMACSHA256, tt.auth, ca.pool())
			refundHandler(t, p)
			peerCN(t, p, testMchID)
			c := p.client(t, tt.opt)
			got, err := c.Refund(t.Context(), req)
			if err != nil {
				t.Fatalf("Refund = %v", err)
			}
			checkWire(t, p, wantWire)
			want := &Refund{
				TransactionID: "4200000001", OutTradeNo: "T1", OutRefundNo: "R1", RefundID: "50000000001",
				RefundFee: 40, SettlementRefundFee: 40, TotalFee: 100, SettlementTotalFee: 100, FeeType: "CNY",
				CashFee: 100, CashRefundFee: 40, NonceStr: "IITRi8Iabbblz1Jc",
			}
			if diff := cmp.Diff(want, got, cmpIgnoreRaw); diff != "" {
				t.Errorf("Refund (-want +got):\n%s", diff)
			}
			if tt.auth == tls.VerifyClientCertIfGiven {
				if _, err := c.OrderQuery(t.Context(), &OrderQueryRequest{OutTradeNo: "T1"}); err != nil {
					t.Errorf("OrderQuery = %v", err)
				}
			}
		})
	}

	t.Run("no certificate", func(t *testing.T) {
		t.Parallel()
		p := newTLSPlatform(t, SignTypeMD5, tls.RequireAndVerifyClientCert, ca.pool())
		refundHandler(t, p)
		if _, err := p.client(t).Refund(t.Context(), req); !errors.Is(err, ErrNoCertificate) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("Refund without a certificate = %v, want ErrNoCertificate", err)
		}
		if n := len(p.received()); n != 0 {
			t.Errorf("platform received %d requests, want 0", n)
		}
	})

	t.Run("certificate of another CA", func(t *testing.T) {
		t.Parallel()
		p := newTLSPlatform(t, SignTypeMD5, tls.RequireAndVerifyClientCert, ca.pool())
		refundHandler(t, p)
		other := newTestCA(t).issue(t, testMchID)
		if _, err := p.client(t, WithCertificate(other)).Refund(t.Context(), req); err == nil {
			t.Error("Refund with a certificate the platform does not trust = nil, want an error")
		}
		if n := len(p.received()); n != 0 {
			t.Errorf("platform handled %d requests, want 0", n)
		}
	})
}

var cmpIgnoreRaw = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Raw" }, cmp.Ignore())
