package payv3

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// corpusFile is the common shape of the corpus's pay/*.json files; each
// test decodes its own vector fields.
type corpusFile[V any] struct {
	Description string `json:"description"`
	Vectors     []V    `json:"vectors"`
}

// TestCorpusAESGCM decrypts every vector of pay/v3_aes_gcm.json: valid
// ones give the plaintext (directly and as a notify resource), invalid ones
// fail with ErrDecrypt, and the not-decryptable sample (valid null) fails
// without a panic.
func TestCorpusAESGCM(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID             string  `json:"id"`
		APIv3Key       string  `json:"api_v3_key"`
		Nonce          string  `json:"nonce"`
		AssociatedData string  `json:"associated_data"`
		Ciphertext     string  `json:"ciphertext"`
		Plaintext      *string `json:"plaintext"`
		Valid          *bool   `json:"valid"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_aes_gcm.json")
	if len(f.Vectors) == 0 {
		t.Fatal("pay/v3_aes_gcm.json holds no vectors")
	}
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			res := &Resource{Algorithm: AlgorithmAEADAES256GCM, Nonce: v.Nonce, AssociatedData: v.AssociatedData, Ciphertext: v.Ciphertext}
			got, err := DecryptResource(v.APIv3Key, res)
			switch {
			case v.Valid != nil && *v.Valid:
				if v.Plaintext == nil {
					t.Fatal("valid vector without plaintext")
				}
				if err != nil {
					t.Fatalf("DecryptResource = %v", err)
				}
				if diff := cmp.Diff(*v.Plaintext, string(got)); diff != "" {
					t.Errorf("plaintext (-want +got):\n%s", diff)
				}
				res.AssociatedData += "x"
				if _, err := DecryptResource(v.APIv3Key, res); !errors.Is(err, ErrDecrypt) {
					t.Errorf("DecryptResource(other associated data) = %v, want ErrDecrypt", err)
				}
			case v.Valid != nil && !*v.Valid:
				if !errors.Is(err, ErrDecrypt) {
					t.Errorf("DecryptResource = %q, %v; want ErrDecrypt", got, err)
				}
			default: // not a decryptable vector
				if !errors.Is(err, ErrDecrypt) {
					t.Errorf("DecryptResource(not decryptable) = %q, %v; want ErrDecrypt", got, err)
				}
			}
		})
	}
}

// corpusPrivateKey parses a corpus PEM key stored under the "TESTING KEY"
// label (see the corpus README).
func corpusPrivateKey(t *testing.T, pemText string) *rsa.PrivateKey {
	t.Helper()
	k, err := ParsePrivateKeyPEM([]byte(strings.ReplaceAll(pemText, "TESTING KEY", "PRIVATE KEY")))
	if err != nil {
		t.Fatalf("ParsePrivateKeyPEM = %v", err)
	}
	return k
}

// TestCorpusRSA: every vector of pay/v3_rsa.json signs to the exact
// signature, verifies with its certificate under the certificate's serial,
// and a changed message does not verify.
func TestCorpusRSA(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID                string `json:"id"`
		PrivateKeyPEM     string `json:"private_key_pem"`
		CertificatePEM    string `json:"certificate_pem"`
		CertificateSerial string `json:"certificate_serial"`
		Message           string `json:"message"`
		Signature         string `json:"signature"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_rsa.json")
	if len(f.Vectors) == 0 {
		t.Fatal("pay/v3_rsa.json holds no vectors")
	}
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			key := corpusPrivateKey(t, v.PrivateKeyPEM)
			sig, err := signSHA256RSA(key, []byte(v.Message))
			if err != nil || sig != v.Signature {
				t.Errorf("signSHA256RSA = %q, %v; want %q", sig, err, v.Signature)
			}
			cert, err := ParseCertificatePEM([]byte(v.CertificatePEM))
			if err != nil {
				t.Fatal(err)
			}
			if got := CertificateSerial(cert); got != v.CertificateSerial {
				t.Errorf("CertificateSerial = %s, want %s", got, v.CertificateSerial)
			}
			ver, err := NewCertificateVerifier([][]byte{[]byte(v.CertificatePEM)})
			if err != nil {
				t.Fatal(err)
			}
			if err := ver.Verify(t.Context(), v.CertificateSerial, []byte(v.Message), v.Signature); err != nil {
				t.Errorf("Verify = %v", err)
			}
			if err := ver.Verify(t.Context(), strings.ToLower(v.CertificateSerial), []byte(v.Message), v.Signature); err != nil {
				t.Errorf("Verify(lower-case serial) = %v", err)
			}
			if err := ver.Verify(t.Context(), v.CertificateSerial, []byte(v.Message+"!"), v.Signature); !errors.Is(err, ErrSignature) {
				t.Errorf("Verify(other message) = %v, want ErrSignature", err)
			}
		})
	}
}

// TestCorpusAuthorization: every vector of pay/v3_authorization.json gives
// the exact signing message and, with the vector's mock signer
// ("Sign:" + message), the exact header.
func TestCorpusAuthorization(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID            string `json:"id"`
		MchID         string `json:"mchid"`
		SerialNo      string `json:"serial_no"`
		Nonce         string `json:"nonce"`
		Timestamp     string `json:"timestamp"`
		Method        string `json:"method"`
		CanonicalURL  string `json:"canonical_url"`
		Body          string `json:"body"`
		Algorithm     string `json:"algorithm"`
		Message       string `json:"message"`
		Authorization string `json:"authorization"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_authorization.json")
	if len(f.Vectors) == 0 {
		t.Fatal("pay/v3_authorization.json holds no vectors")
	}
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			msg := string(requestMessage(v.Method, v.CanonicalURL, v.Timestamp, v.Nonce, []byte(v.Body)))
			if diff := cmp.Diff(v.Message, msg); diff != "" {
				t.Errorf("requestMessage (-want +got):\n%s", diff)
			}
			got := authorizationHeader("WECHATPAY2-"+v.Algorithm, v.MchID, v.Nonce, v.Timestamp, v.SerialNo, "Sign:"+msg)
			if diff := cmp.Diff(v.Authorization, got); diff != "" {
				t.Errorf("authorizationHeader (-want +got):\n%s", diff)
			}
		})
	}
}

// notifyVector is a vector of pay/v3_notify.json.
type notifyVector struct {
	ID                     string            `json:"id"`
	NowUnix                int64             `json:"now_unix"`
	Headers                map[string]string `json:"headers"`
	Body                   string            `json:"body"`
	SignMessage            string            `json:"sign_message"`
	PlatformCertificatePEM string            `json:"platform_certificate_pem"`
	APIv3Key               string            `json:"api_v3_key"`
	Expected               map[string]string `json:"expected"`
}

func loadNotifyVectors(t testing.TB) []notifyVector {
	var f corpusFile[notifyVector]
	corpus.DecodeJSON(t, &f, "pay", "v3_notify.json")
	if len(f.Vectors) == 0 {
		t.Fatal("pay/v3_notify.json holds no vectors")
	}
	return f.Vectors
}

func (v notifyVector) header() http.Header {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	return h
}

// notifyField reads the notify field an expected key of the corpus names.
func notifyField(n *Notification, key string) (string, bool) {
	switch key {
	case "id":
		return n.ID, true
	case "create_time":
		return n.CreateTime.Format(time.RFC3339), true
	case "resource_type":
		return n.ResourceType, true
	case "event_type":
		return string(n.EventType), true
	case "summary":
		return n.Summary, true
	case "resource.original_type":
		return n.Resource.OriginalType, true
	case "resource.algorithm":
		return n.Resource.Algorithm, true
	case "resource.associated_data":
		return n.Resource.AssociatedData, true
	case "resource.nonce":
		return n.Resource.Nonce, true
	case "resource.ciphertext":
		return n.Resource.Ciphertext, true
	case "plaintext":
		return string(n.Plaintext), true
	}
	return "", false
}

// TestCorpusNotify parses every full callback of pay/v3_notify.json at its
// time with its certificate and key, and compares every expected field;
// the same callback at today's clock is refused as stale.
func TestCorpusNotify(t *testing.T) {
	t.Parallel()
	for _, v := range loadNotifyVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			h := v.header()
			msg := responseMessage(h.Get(HeaderTimestamp), h.Get(HeaderNonce), []byte(v.Body))
			if diff := cmp.Diff(v.SignMessage, string(msg)); diff != "" {
				t.Errorf("responseMessage (-want +got):\n%s", diff)
			}
			ver, err := NewCertificateVerifier([][]byte{[]byte(v.PlatformCertificatePEM)})
			if err != nil {
				t.Fatal(err)
			}
			p := &NotifyParser{Verifier: ver, APIv3Key: v.APIv3Key, Now: func() time.Time { return time.Unix(v.NowUnix, 0) }}
			n, err := p.ParsePayload(t.Context(), h, []byte(v.Body))
			if err != nil {
				t.Fatalf("ParsePayload = %v", err)
			}
			if n.Serial != h.Get(HeaderSerial) {
				t.Errorf("Serial = %q, want %q", n.Serial, h.Get(HeaderSerial))
			}
			if len(v.Expected) == 0 {
				t.Fatal("vector without expected fields")
			}
			for key, want := range v.Expected {
				got, ok := notifyField(n, key)
				if !ok {
					t.Errorf("expected field %q is not read by this test", key)
					continue
				}
				if key == "create_time" {
					wt, err := time.Parse(time.RFC3339, want)
					if err != nil || !wt.Equal(n.CreateTime) {
						t.Errorf("create_time = %v, want %s", n.CreateTime, want)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}

			r := httptest.NewRequestWithContext(t.Context(), "POST", "/pay/v3/notify/1900000109", strings.NewReader(v.Body))
			r.Header = h
			if _, err := ParseNotify(r, ver, v.APIv3Key, 0); !errors.Is(err, ErrTimestamp) {
				t.Errorf("ParseNotify at today's clock = %v, want ErrTimestamp (the vector is from %d)", err, v.NowUnix)
			}
			tol := time.Since(time.Unix(v.NowUnix, 0)) + time.Hour
			r = httptest.NewRequestWithContext(t.Context(), "POST", "/pay/v3/notify/1900000109", strings.NewReader(v.Body))
			r.Header = h
			if got, err := ParseNotify(r, ver, v.APIv3Key, tol); err != nil || string(got.Plaintext) != v.Expected["plaintext"] {
				t.Errorf("ParseNotify with a tolerance reaching %d = %v", v.NowUnix, err)
			}
		})
	}
}

// TestCorpusTransactionPlaintext decodes the corpus's TRANSACTION.SUCCESS
// plaintext into a Transaction: every field it carries lands in the struct.
func TestCorpusTransactionPlaintext(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID        string  `json:"id"`
		Plaintext *string `json:"plaintext"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_aes_gcm.json")
	found := false
	for _, v := range f.Vectors {
		if v.Plaintext == nil || !strings.Contains(*v.Plaintext, `"trade_state"`) {
			continue
		}
		found = true
		var tx Transaction
		if err := json.Unmarshal([]byte(*v.Plaintext), &tx); err != nil {
			t.Fatalf("%s: %v", v.ID, err)
		}
		// Re-encode and compare with the source, zero amounts aside
		// (omitted by our encoding).
		var src, back map[string]any
		json.Unmarshal([]byte(*v.Plaintext), &src)
		b, _ := json.Marshal(&tx)
		json.Unmarshal(b, &back)
		dropZero(src)
		if diff := cmp.Diff(src, back); diff != "" {
			t.Errorf("%s: Transaction loses fields (-source +decoded):\n%s", v.ID, diff)
		}
	}
	if !found {
		t.Fatal("no transaction plaintext in pay/v3_aes_gcm.json")
	}
}

// dropZero removes numeric zeros from decoded JSON, in place.
func dropZero(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(float64); ok && n == 0 {
				delete(x, k)
				continue
			}
			dropZero(e)
		}
	case []any:
		for _, e := range x {
			dropZero(e)
		}
	}
}
