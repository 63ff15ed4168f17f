package gateway

import (
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/wxkit/wxkit/pay"
	payv3 "github.com/wxkit/wxkit/pay/v3"
)

// PayConfig is the `pay:` key: the WeChat Pay merchants the gateway takes
// JSAPI payments for (routes under /pay/, see Gateway), how long an unpaid
// order stays open, and where paid events go.
//
//	pay:
//	  order_timeout: 2h
//	  on_paid: { forward: "http://app.internal/paid", secret: "..." }
//	  merchants:
//	    - mch_id: "1900000109"
//	      appids: [wx0123456789abcdef]
//	      version: v3
//	      api_v3_key: "..."
//	      serial_no: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
//	      private_key_file: apiclient_key.pem
//	      platform_public_key_file: pub_key.pem
//	      platform_public_key_id: PUB_KEY_ID_0119...
//
// File paths are relative to the working directory of `wxkit serve`.
type PayConfig struct {
	// OrderTimeout is how long an order may stay unpaid: after it the
	// gateway closes the order (closeorder), and the platform refuses to
	// take payment for it a minute later (time_expire). Default 2h; at
	// least 5m (the platform does not close younger orders).
	OrderTimeout Duration `yaml:"order_timeout"`
	// OnPaid tells the application about paid orders.
	OnPaid OnPaidConfig `yaml:"on_paid"`
	// Merchants are the merchant accounts (商户号), each serving the apps
	// of its appids.
	Merchants []PayMerchantConfig `yaml:"merchants"`
}

// OnPaidConfig configures the paid events: when Forward is set, every
// order that becomes paid is POSTed there as JSON (PaidEvent), signed
// with Secret (see OnPaidSignatureHeader), at least once, from the outbox.
type OnPaidConfig struct {
	// Forward is the http(s) URL that receives the events; empty: none.
	Forward string `yaml:"forward"`
	// Secret keys the HMAC-SHA256 signature of each event, at least 16
	// characters; required with Forward. Environment:
	// WXKIT_PAY_ON_PAID_SECRET.
	Secret string `yaml:"secret"`
}

// PayMerchantConfig is one merchant account (商户号) and its keys.
type PayMerchantConfig struct {
	// MchID is the merchant id, digits. Required and unique.
	MchID string `yaml:"mch_id"`
	// AppIDs are the apps (Official Accounts, Mini Programs) bound to the
	// merchant: their signed-in users may pay through it. At least one.
	AppIDs []string `yaml:"appids"`
	// Version is the API the gateway speaks with the merchant: v2 (XML,
	// api_key) or v3 (JSON, RSA, api_v3_key). Default: v3 when api_v3_key
	// is set, else v2.
	Version string `yaml:"version"`
	// APIKey is the v2 API key (API密钥), 32 characters; required for v2.
	// Environment: WXKIT_PAY_<MCHID>_API_KEY.
	APIKey string `yaml:"api_key"`
	// SignType is the v2 sign type: MD5 (default) or HMAC-SHA256.
	SignType string `yaml:"sign_type"`
	// APIv3Key is the APIv3 key, 32 characters; required for v3 (it
	// decrypts notifies). Environment: WXKIT_PAY_<MCHID>_API_V3_KEY.
	APIv3Key string `yaml:"api_v3_key"`
	// SerialNo is the serial number (hex) of the merchant's API
	// certificate; required for v3 (it names the key of every request).
	SerialNo string `yaml:"serial_no"`
	// PrivateKeyFile is the merchant's API private key
	// (apiclient_key.pem): v3 signs every request with it; v2 presents it
	// with CertFile for refunds (mutual TLS).
	PrivateKeyFile string `yaml:"private_key_file"`
	// CertFile is the merchant's API certificate (apiclient_cert.pem).
	// v2 refunds need it (with PrivateKeyFile); without both, a v2
	// merchant takes payments but refunds are refused (501).
	CertFile string `yaml:"cert_file"`
	// PlatformPublicKeyFile is the WeChat Pay public key (pub_key.pem) that
	// v3 replies and notifies are verified with, with its id
	// PlatformPublicKeyID (PUB_KEY_ID_...): every merchant created since
	// late 2024 has one. The platform certificates are downloaded as
	// well, so that a merchant switching from certificates to the public
	// key verifies both. Without it, certificates only are downloaded
	// (GET /v3/certificates).
	PlatformPublicKeyFile string `yaml:"platform_public_key_file"`
	// PlatformPublicKeyID is the id of PlatformPublicKeyFile, shown beside
	// it on the merchant platform: the Wechatpay-Serial of what it signs.
	PlatformPublicKeyID string `yaml:"platform_public_key_id"`

	// What normalize read from the files.
	privateKey  *rsa.PrivateKey
	tlsCert     *tls.Certificate // v2 refunds
	platformKey []byte           // PEM of PlatformPublicKeyFile
}

// Defaults and limits of PayConfig.
const (
	DefaultOrderTimeout = 2 * time.Hour
	MinOrderTimeout     = 5 * time.Minute
)

// Values of PayMerchantConfig.Version.
const (
	PayV2 = "v2"
	PayV3 = "v3"
)

var (
	mchIDPattern    = regexp.MustCompile(`^[0-9]{1,32}$`)
	serialNoPattern = regexp.MustCompile(`^[0-9A-Fa-f]{1,64}$`)
)

// applyPayEnv overrides the pay secrets from the environment:
// WXKIT_PAY_ON_PAID_SECRET, WXKIT_PAY_<MCHID>_API_KEY and
// WXKIT_PAY_<MCHID>_API_V3_KEY. A variable set and non-empty wins.
func (c *Config) applyPayEnv(getenv func(string) string) {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.Pay.OnPaid.Secret, "WXKIT_PAY_ON_PAID_SECRET")
	for i := range c.Pay.Merchants {
		m := &c.Pay.Merchants[i]
		p := "WXKIT_PAY_" + strings.ToUpper(m.MchID) + "_"
		set(&m.APIKey, p+"API_KEY")
		set(&m.APIv3Key, p+"API_V3_KEY")
	}
}

// normalizePay fills the defaults of the pay: keys, validates them and
// reads the key files they name. Errors name the key, e.g.
// "pay.merchants[0].api_v3_key: must be 32 characters, got 12". Secrets
// never appear in them.
func (c *Config) normalizePay() error {
	p := &c.Pay
	if p.OrderTimeout == 0 {
		p.OrderTimeout = Duration(DefaultOrderTimeout)
	}
	if time.Duration(p.OrderTimeout) < MinOrderTimeout {
		return fmt.Errorf("pay.order_timeout: %s must be at least %s (the platform does not close younger orders)",
			time.Duration(p.OrderTimeout), MinOrderTimeout)
	}
	if f := p.OnPaid.Forward; f != "" {
		if err := checkBaseURL(f); err != nil {
			return fmt.Errorf("pay.on_paid.forward: %v", err)
		}
		switch n := len(p.OnPaid.Secret); {
		case n == 0:
			return fmt.Errorf("pay.on_paid.secret: required with forward (or WXKIT_PAY_ON_PAID_SECRET): it signs the events")
		case n < 16:
			return fmt.Errorf("pay.on_paid.secret: must be at least 16 characters, got %d", n)
		}
	}
	if len(p.Merchants) > 0 {
		if u, err := url.Parse(c.PublicURL); err != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("public_url: %q must not carry a query string or fragment: pay notify URLs are built from it", c.PublicURL)
		}
	}
	seen := map[string]bool{}
	for i := range p.Merchants {
		m := &p.Merchants[i]
		key := fmt.Sprintf("pay.merchants[%d]", i)
		if err := m.normalize(key); err != nil {
			return err
		}
		if seen[m.MchID] {
			return fmt.Errorf("%s.mch_id: %q is configured twice", key, m.MchID)
		}
		seen[m.MchID] = true
	}
	return nil
}

func (m *PayMerchantConfig) normalize(key string) error {
	if m.MchID == "" {
		return fmt.Errorf("%s.mch_id: required", key)
	}
	if !mchIDPattern.MatchString(m.MchID) {
		return fmt.Errorf("%s.mch_id: %q is not a merchant id (digits)", key, m.MchID)
	}
	env := "WXKIT_PAY_" + m.MchID + "_"
	if len(m.AppIDs) == 0 {
		return fmt.Errorf("%s.appids: at least one app is required", key)
	}
	apps := map[string]bool{}
	for j, a := range m.AppIDs {
		if !appIDPattern.MatchString(a) {
			return fmt.Errorf("%s.appids[%d]: %q is not an AppID (wx + 16 letters or digits)", key, j, a)
		}
		if apps[a] {
			return fmt.Errorf("%s.appids[%d]: %q is listed twice", key, j, a)
		}
		apps[a] = true
	}
	if m.Version == "" {
		m.Version = PayV2
		if m.APIv3Key != "" {
			m.Version = PayV3
		}
	}
	if (m.CertFile == "") != (m.PrivateKeyFile == "") && m.Version == PayV2 {
		return fmt.Errorf("%s.cert_file: v2 refunds need cert_file and private_key_file together", key)
	}
	switch m.Version {
	case PayV2:
		if len(m.APIKey) != 32 {
			return fmt.Errorf("%s.api_key: must be 32 characters, got %d (or %sAPI_KEY)", key, len(m.APIKey), env)
		}
		switch pay.SignType(m.SignType) {
		case "":
			m.SignType = string(pay.SignTypeMD5)
		case pay.SignTypeMD5, pay.SignTypeHMACSHA256:
		default:
			return fmt.Errorf("%s.sign_type: %q is not MD5 or HMAC-SHA256", key, m.SignType)
		}
		if m.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(m.CertFile, m.PrivateKeyFile)
			if err != nil {
				return fmt.Errorf("%s.cert_file: with private_key_file: %v", key, err)
			}
			m.tlsCert = &cert
		}
	case PayV3:
		if len(m.APIv3Key) != 32 {
			return fmt.Errorf("%s.api_v3_key: must be 32 characters, got %d (or %sAPI_V3_KEY)", key, len(m.APIv3Key), env)
		}
		if m.SerialNo == "" {
			return fmt.Errorf("%s.serial_no: required for v3 (the serial number of the merchant API certificate)", key)
		}
		if !serialNoPattern.MatchString(m.SerialNo) {
			return fmt.Errorf("%s.serial_no: %q is not a certificate serial number (hex)", key, m.SerialNo)
		}
		m.SerialNo = strings.ToUpper(m.SerialNo)
		if m.PrivateKeyFile == "" {
			return fmt.Errorf("%s.private_key_file: required for v3 (apiclient_key.pem)", key)
		}
		b, err := os.ReadFile(m.PrivateKeyFile)
		if err != nil {
			return fmt.Errorf("%s.private_key_file: %v", key, err)
		}
		if m.privateKey, err = payv3.ParsePrivateKeyPEM(b); err != nil {
			return fmt.Errorf("%s.private_key_file: %v", key, err)
		}
		if m.CertFile != "" {
			if err := m.checkCertFile(); err != nil {
				return fmt.Errorf("%s.cert_file: %v", key, err)
			}
		}
		if (m.PlatformPublicKeyFile == "") != (m.PlatformPublicKeyID == "") {
			return fmt.Errorf("%s.platform_public_key_id: platform_public_key_file and platform_public_key_id go together", key)
		}
		if m.PlatformPublicKeyFile != "" {
			if !strings.HasPrefix(m.PlatformPublicKeyID, payv3.PublicKeyIDPrefix) {
				return fmt.Errorf("%s.platform_public_key_id: %q must start with %s", key, m.PlatformPublicKeyID, payv3.PublicKeyIDPrefix)
			}
			b, err := os.ReadFile(m.PlatformPublicKeyFile)
			if err != nil {
				return fmt.Errorf("%s.platform_public_key_file: %v", key, err)
			}
			if _, err := payv3.NewPublicKeyVerifier(m.PlatformPublicKeyID, b); err != nil {
				return fmt.Errorf("%s.platform_public_key_file: %v", key, err)
			}
			m.platformKey = b
		}
	default:
		return fmt.Errorf("%s.version: %q is not v2 or v3", key, m.Version)
	}
	return nil
}

// checkCertFile checks that CertFile is the certificate of the private key
// and of SerialNo.
func (m *PayMerchantConfig) checkCertFile() error {
	b, err := os.ReadFile(m.CertFile)
	if err != nil {
		return err
	}
	cert, err := payv3.ParseCertificatePEM(b)
	if err != nil {
		return err
	}
	if s := payv3.CertificateSerial(cert); s != m.SerialNo {
		return fmt.Errorf("its serial number %s is not serial_no %s", s, m.SerialNo)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&m.privateKey.PublicKey) {
		return fmt.Errorf("it is not the certificate of private_key_file")
	}
	return nil
}

// Merchant returns the configured merchant mchID, or nil.
func (p *PayConfig) Merchant(mchID string) *PayMerchantConfig {
	for i := range p.Merchants {
		if p.Merchants[i].MchID == mchID {
			return &p.Merchants[i]
		}
	}
	return nil
}

// takes reports whether appID is one of the merchant's apps.
func (m *PayMerchantConfig) takes(appID string) bool {
	for _, a := range m.AppIDs {
		if a == appID {
			return true
		}
	}
	return false
}
