package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// payKeyFiles writes a merchant key pair (apiclient_key.pem and
// apiclient_cert.pem with serial serial) and a platform public key to dir.
func payKeyFiles(t *testing.T, dir string, serial int64) (keyFile, certFile, pubFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = writeFile(t, dir, "apiclient_key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "1900000109"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "apiclient_cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}))
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubFile = writeFile(t, dir, "pub_key.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return keyFile, certFile, pubFile
}

func TestPayConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile, certFile, pubFile := payKeyFiles(t, dir, 0x5157F09E)
	otherDir := t.TempDir()
	otherKey, _, _ := payKeyFiles(t, otherDir, 1)
	apiKey := strings.Repeat("a", 32)
	v3 := func() string {
		return `
    - mch_id: "1900000109"
      appids: [wx0123456789abcdef]
      version: v3
      api_v3_key: "` + apiKey + `"
      serial_no: 5157f09e
      private_key_file: ` + keyFile + `
      cert_file: ` + certFile + `
      platform_public_key_file: ` + pubFile + `
      platform_public_key_id: PUB_KEY_ID_0119000001092024101100000000000001`
	}
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		err        string // a prefix of the error; "" means valid
	}{
		{"v3 with public key", "pay:\n  merchants:" + v3(), nil, ""},
		{"v2 defaults", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + " }", nil, ""},
		{"v2 key from the environment", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef] }",
			map[string]string{"WXKIT_PAY_1900000109_API_KEY": apiKey}, ""},
		{"v3 key from the environment", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], version: v3, serial_no: 5157F09E, private_key_file: " + keyFile + " }",
			map[string]string{"WXKIT_PAY_1900000109_API_V3_KEY": apiKey}, ""},
		{"order_timeout too short", "pay:\n  order_timeout: 4m", nil, "pay.order_timeout: 4m0s must be at least 5m"},
		{"forward without secret", "pay:\n  on_paid: { forward: \"http://app.internal/paid\" }", nil, "pay.on_paid.secret: required with forward"},
		{"forward secret from the environment", "pay:\n  on_paid: { forward: \"http://app.internal/paid\" }",
			map[string]string{"WXKIT_PAY_ON_PAID_SECRET": "0123456789abcdef"}, ""},
		{"short secret", "pay:\n  on_paid: { forward: \"http://app.internal/paid\", secret: short }", nil, "pay.on_paid.secret: must be at least 16"},
		{"forward not http", "pay:\n  on_paid: { forward: \"ftp://x\", secret: 0123456789abcdef }", nil, "pay.on_paid.forward:"},
		{"unknown key", "pay:\n  merchant: []", nil, "yaml: unmarshal errors:\n  line 2: field merchant not found"},
		{"no mch_id", "pay:\n  merchants:\n    - { appids: [wx0123456789abcdef], api_key: " + apiKey + " }", nil, "pay.merchants[0].mch_id: required"},
		{"mch_id not digits", "pay:\n  merchants:\n    - { mch_id: \"19/00\", appids: [wx0123456789abcdef], api_key: " + apiKey + " }", nil, "pay.merchants[0].mch_id: \"19/00\" is not a merchant id"},
		{"no appids", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", api_key: " + apiKey + " }", nil, "pay.merchants[0].appids: at least one"},
		{"bad appid", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx01], api_key: " + apiKey + " }", nil, "pay.merchants[0].appids[0]: \"wx01\" is not an AppID"},
		{"twice", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + " }" +
			"\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + " }", nil, "pay.merchants[1].mch_id: \"1900000109\" is configured twice"},
		{"bad version", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], version: v4 }", nil, "pay.merchants[0].version: \"v4\" is not v2 or v3"},
		{"short api_key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: abc }", nil,
			"pay.merchants[0].api_key: must be 32 characters, got 3 (or WXKIT_PAY_1900000109_API_KEY)"},
		{"bad sign_type", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + ", sign_type: SHA1 }", nil,
			"pay.merchants[0].sign_type: \"SHA1\" is not MD5 or HMAC-SHA256"},
		{"v2 cert without key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + ", cert_file: " + certFile + " }", nil,
			"pay.merchants[0].cert_file: v2 refunds need cert_file and private_key_file together"},
		{"v2 cert of another key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + ", cert_file: " + certFile + ", private_key_file: " + otherKey + " }", nil,
			"pay.merchants[0].cert_file: with private_key_file:"},
		{"v3 short key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], version: v3, api_v3_key: x }", nil,
			"pay.merchants[0].api_v3_key: must be 32 characters, got 1 (or WXKIT_PAY_1900000109_API_V3_KEY)"},
		{"v3 no serial", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + " }", nil,
			"pay.merchants[0].serial_no: required for v3"},
		{"v3 bad serial", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: XYZ }", nil,
			"pay.merchants[0].serial_no: \"XYZ\" is not a certificate serial number"},
		{"v3 no key file", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB }", nil,
			"pay.merchants[0].private_key_file: required for v3"},
		{"v3 missing key file", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB, private_key_file: " + filepath.Join(dir, "none.pem") + " }", nil,
			"pay.merchants[0].private_key_file: open"},
		{"v3 key file not a key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB, private_key_file: " + certFile + " }", nil,
			"pay.merchants[0].private_key_file:"},
		{"v3 cert of another serial", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB, private_key_file: " + keyFile + ", cert_file: " + certFile + " }", nil,
			"pay.merchants[0].cert_file: its serial number 5157F09E is not serial_no AB"},
		{"v3 cert of another key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: 5157F09E, private_key_file: " + otherKey + ", cert_file: " + certFile + " }", nil,
			"pay.merchants[0].cert_file: it is not the certificate of private_key_file"},
		{"v3 public key without id", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB, private_key_file: " + keyFile + ", platform_public_key_file: " + pubFile + " }", nil,
			"pay.merchants[0].platform_public_key_id: platform_public_key_file and platform_public_key_id go together"},
		{"v3 public key id without prefix", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB, private_key_file: " + keyFile + ", platform_public_key_file: " + pubFile + ", platform_public_key_id: KEY1 }", nil,
			"pay.merchants[0].platform_public_key_id: \"KEY1\" must start with PUB_KEY_ID_"},
		{"v3 public key file not a key", "pay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_v3_key: " + apiKey + ", serial_no: AB, private_key_file: " + keyFile + ", platform_public_key_file: " + certFile + ", platform_public_key_id: PUB_KEY_ID_01 }", nil,
			"pay.merchants[0].platform_public_key_file:"},
		{"public_url with a query", "public_url: http://x.example/?a=1\npay:\n  merchants:\n    - { mch_id: \"1900000109\", appids: [wx0123456789abcdef], api_key: " + apiKey + " }", nil,
			"public_url: \"http://x.example/?a=1\" must not carry a query string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfigEnv(tc.yaml, tc.env)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("ParseConfig = %v, want nil", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
				t.Fatalf("ParseConfig error = %v, want %q...", err, tc.err)
			case err == nil:
				if got := time.Duration(cfg.Pay.OrderTimeout); got != DefaultOrderTimeout {
					t.Errorf("order_timeout = %s, want the default %s", got, DefaultOrderTimeout)
				}
			}
			if err != nil && strings.Contains(err.Error(), apiKey) {
				t.Errorf("error %q shows the API key", err)
			}
		})
	}
}

// parseConfigEnv is ParseConfig with env as the environment.
func parseConfigEnv(y string, env map[string]string) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(y))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, err
	}
	cfg.ApplyEnv(func(k string) string { return env[k] })
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func TestPayConfigDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile, _, _ := payKeyFiles(t, dir, 1)
	apiKey := strings.Repeat("b", 32)
	cfg, err := ParseConfig([]byte(`
pay:
  merchants:
    - { mch_id: "1900000109", appids: [wx0123456789abcdef], api_key: ` + apiKey + ` }
    - { mch_id: "1900000110", appids: [wx0123456789abcdef], api_v3_key: ` + apiKey + `, serial_no: 5157f09e, private_key_file: ` + keyFile + ` }
`))
	if err != nil {
		t.Fatal(err)
	}
	type view struct{ MchID, Version, SignType, SerialNo string }
	var got []view
	for _, m := range cfg.Pay.Merchants {
		got = append(got, view{m.MchID, m.Version, m.SignType, m.SerialNo})
	}
	want := []view{{"1900000109", PayV2, "MD5", ""}, {"1900000110", PayV3, "", "5157F09E"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("merchants (-want +got):\n%s", d)
	}
	if m := cfg.Pay.Merchant("1900000110"); m == nil || !m.takes("wx0123456789abcdef") || m.takes("wx1111111111111111") {
		t.Errorf("Merchant(1900000110) = %+v", m)
	}
	if cfg.Pay.Merchant("1") != nil {
		t.Errorf("Merchant(1) != nil")
	}
}
