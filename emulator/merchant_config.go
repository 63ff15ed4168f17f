package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// PlatformMode is how a merchant verifies what WeChat Pay signs (APIv3
// responses and notifies), as set on the merchant platform.
type PlatformMode string

// The platform modes. Since late 2024 new merchants get only a WeChat Pay
// public key (PlatformModePublicKey): Wechatpay-Serial is its
// "PUB_KEY_ID_..." and GET /v3/certificates answers 404
// RESOURCE_NOT_EXISTS. Older merchants have platform certificates
// (PlatformModeCertificate): Wechatpay-Serial is the certificate's serial
// number in hex. A merchant switching from one to the other
// (PlatformModeBoth) is served certificates and sees responses and notifies
// signed by either key, alternating.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012153196
const (
	PlatformModePublicKey   PlatformMode = "public_key"
	PlatformModeCertificate PlatformMode = "certificate"
	PlatformModeBoth        PlatformMode = "both"
)

// MerchantConfig is one WeChat Pay merchant (商户号) hosted by the emulator:
// its keys, the apps whose users may pay it, and how the platform signs for
// it. Serve it v2 (XML, api_key) and v3 (JSON, RSA, api_v3_key) requests.
type MerchantConfig struct {
	// MchID is the merchant id (商户号), 10 digits on the real platform (not
	// enforced). Required and unique.
	MchID string `yaml:"mch_id" json:"mch_id"`
	// Name is the merchant's display name (商户名称), shown on the pay sheet.
	// Derived from MchID when empty.
	Name string `yaml:"name" json:"name,omitempty"`
	// AppIDs are the apps (Official Accounts, Mini Programs) bound to the
	// merchant; an order of another appid is refused (appid和mch_id不匹配 /
	// APPID_MCHID_NOT_MATCH). At least one is required. They need not be
	// apps hosted by the emulator; when one is, a JSAPI payer's openid must
	// be one of its users.
	AppIDs []string `yaml:"appids" json:"appids"`
	// APIKey is the v2 API key (API密钥, 32 characters) that signs v2
	// requests, responses and notifies and encrypts refund notifies. Empty:
	// v2 requests are refused.
	APIKey string `yaml:"api_key" json:"-"`
	// APIv3Key is the 32-byte APIv3 key that encrypts v3 notify resources and
	// /v3/certificates. Empty: v3 requests are refused.
	APIv3Key string `yaml:"api_v3_key" json:"-"`
	// MerchantSerialNo is the serial number (hex) of the merchant's API
	// certificate, the serial_no a v3 Authorization header must carry. Taken
	// from MerchantPublicKeyFile when that is a certificate, derived from
	// MchID for a generated key; compared case-insensitively.
	MerchantSerialNo string `yaml:"merchant_serial_no" json:"merchant_serial_no,omitempty"`
	// MerchantPublicKeyFile is a PEM file holding the merchant's API
	// certificate (apiclient_cert.pem) or its RSA public key, to verify v3
	// request signatures and v3 JSAPI paySign. Required for v3 unless
	// GenerateMerchantKey is set.
	MerchantPublicKeyFile string `yaml:"merchant_public_key_file" json:"merchant_public_key_file,omitempty"`
	// GenerateMerchantKey makes the emulator generate the merchant's key pair
	// and API certificate itself (on first use) instead of reading
	// MerchantPublicKeyFile. For development only: the private key is then
	// handed out by Emulator.MerchantKey and GET
	// /_emulator/merchants/{mch_id}/merchant_key, which a real platform never
	// does. The demo merchant of DefaultConfig uses it.
	GenerateMerchantKey bool `yaml:"generate_merchant_key" json:"generate_merchant_key,omitempty"`
	// PlatformPrivateKeyFile is a PEM RSA private key (PKCS#1 or PKCS#8) the
	// platform signs with: the WeChat Pay public key's in public_key and
	// both modes, the platform certificate's in certificate mode. Empty: a
	// 2048-bit key is generated on first use (not kept across restarts).
	PlatformPrivateKeyFile string `yaml:"platform_private_key_file" json:"-"`
	// PlatformCertificateKeyFile is, in both mode only, the platform
	// certificate's private key (the public key and the certificate have
	// different keys, as on the real platform). Empty: generated.
	PlatformCertificateKeyFile string `yaml:"platform_certificate_key_file" json:"-"`
	// PlatformMode is public_key (the default), certificate or both.
	PlatformMode PlatformMode `yaml:"platform_mode" json:"platform_mode"`
	// RefundNotifyURL is where refund notifies go when a refund request
	// carries no notify_url (the URL configured on the merchant platform).
	// Empty: such refunds are not notified.
	RefundNotifyURL string `yaml:"refund_notify_url" json:"refund_notify_url,omitempty"`
	// NotifyTimeout is how long the platform waits for the merchant's answer
	// to one notify delivery (5s).
	NotifyTimeout time.Duration `yaml:"notify_timeout" json:"notify_timeout"`
	// NotifySchedule are the waits before each retry of an unacknowledged
	// notify, on the emulator clock. Default: the platform's 15 steps
	// 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h
	// (DefaultNotifySchedule), so 16 deliveries in all.
	NotifySchedule []time.Duration `yaml:"notify_schedule" json:"notify_schedule"`
	// RefundDelay is how long a refund stays PROCESSING before it succeeds
	// and its notify is sent (0: right after the refund call is answered; the
	// answer still says PROCESSING).
	RefundDelay time.Duration `yaml:"refund_delay" json:"refund_delay"`
	// PrepayLifetime is how long a prepay_id can be paid (2h).
	PrepayLifetime time.Duration `yaml:"prepay_lifetime" json:"prepay_lifetime"`
	// TimestampWindow is how far a v3 Authorization timestamp may be from the
	// emulator's time (5m).
	TimestampWindow time.Duration `yaml:"timestamp_window" json:"timestamp_window"`
}

// Pay defaults of the real platform, used for zero MerchantConfig fields.
const (
	DefaultNotifyTimeout   = 5 * time.Second
	DefaultPrepayLifetime  = 2 * time.Hour
	DefaultTimestampWindow = 5 * time.Minute
)

// DefaultNotifySchedule returns the platform's retry schedule of pay and
// refund notifies: the waits before retries 1 to 15 (24h4m in all).
//
// WeChat docs: https://pay.weixin.qq.com/doc/v2/merchant/4011937248
func DefaultNotifySchedule() []time.Duration {
	m, h := time.Minute, time.Hour
	return []time.Duration{
		15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * m, 10 * m, 20 * m, 30 * m,
		30 * m, 30 * m, 60 * m, 3 * h, 3 * h, 3 * h, 6 * h, 6 * h,
	}
}

// Demo merchant of DefaultConfig: it takes payments for DemoAppID, v2 and
// v3, with generated keys (fetch them with Emulator.MerchantKey and
// Emulator.PlatformKey, or GET /_emulator/merchants/1900000109/merchant_key
// and .../platform_key).
const (
	DemoMchID    = "1900000109"
	DemoAPIKey   = "wxkitDemoPayApiKey0123456789abcd"
	DemoAPIv3Key = "wxkitDemoApiV3Key0123456789abcde"
)

// demoMerchant returns the merchant of DefaultConfig.
func demoMerchant() MerchantConfig {
	return MerchantConfig{
		MchID:               DemoMchID,
		Name:                "wxkit 演示商户",
		AppIDs:              []string{DemoAppID},
		APIKey:              DemoAPIKey,
		APIv3Key:            DemoAPIv3Key,
		GenerateMerchantKey: true,
		PlatformMode:        PlatformModePublicKey,
	}
}

// merchantsWithDefaults returns ms with every zero field defaulted.
func merchantsWithDefaults(ms []MerchantConfig) []MerchantConfig {
	if ms == nil {
		return nil
	}
	out := make([]MerchantConfig, len(ms))
	for i, m := range ms {
		if m.Name == "" {
			m.Name = "商户" + m.MchID
		}
		if m.PlatformMode == "" {
			m.PlatformMode = PlatformModePublicKey
		}
		if m.NotifyTimeout == 0 {
			m.NotifyTimeout = DefaultNotifyTimeout
		}
		if len(m.NotifySchedule) == 0 {
			m.NotifySchedule = DefaultNotifySchedule()
		} else {
			m.NotifySchedule = append([]time.Duration(nil), m.NotifySchedule...)
		}
		if m.PrepayLifetime == 0 {
			m.PrepayLifetime = DefaultPrepayLifetime
		}
		if m.TimestampWindow == 0 {
			m.TimestampWindow = DefaultTimestampWindow
		}
		if m.MerchantSerialNo == "" && m.GenerateMerchantKey {
			m.MerchantSerialNo = deriveSerial("merchant-serial:" + m.MchID)
		}
		m.MerchantSerialNo = strings.ToUpper(m.MerchantSerialNo)
		m.AppIDs = append([]string(nil), m.AppIDs...)
		out[i] = m
	}
	return out
}

// deriveSerial returns a stable 40-hex-digit certificate serial number for
// seed, in the shape of the platform's (upper case, no leading zero).
func deriveSerial(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	sum[0] = sum[0]&0x3f | 0x10
	return strings.ToUpper(hex.EncodeToString(sum[:20]))
}

// validateMerchants checks the merchants of c (defaults applied) and returns
// a *ConfigError naming the first bad key.
func validateMerchants(ms []MerchantConfig) error {
	bad := func(key string, format string, args ...any) error {
		return &ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
	}
	seen := map[string]bool{}
	for i, m := range ms {
		p := fmt.Sprintf("merchants[%d].", i)
		if m.MchID == "" {
			return bad(p+"mch_id", "required")
		}
		if !isDigitsOrLetters(m.MchID) || len(m.MchID) > 32 {
			return bad(p+"mch_id", "must be at most 32 digits or letters, got %q", m.MchID)
		}
		if seen[m.MchID] {
			return bad(p+"mch_id", "duplicate mch_id %q", m.MchID)
		}
		seen[m.MchID] = true
		if len(m.AppIDs) == 0 {
			return bad(p+"appids", "at least one appid is required")
		}
		for j, a := range m.AppIDs {
			if a == "" {
				return bad(fmt.Sprintf("%sappids[%d]", p, j), "empty appid")
			}
		}
		if m.APIKey == "" && m.APIv3Key == "" {
			return bad(p+"api_key", "give api_key (v2), api_v3_key (v3) or both")
		}
		if m.APIKey != "" && len(m.APIKey) != 32 {
			return bad(p+"api_key", "must be 32 characters, got %d", len(m.APIKey))
		}
		if m.APIv3Key != "" && len(m.APIv3Key) != 32 {
			return bad(p+"api_v3_key", "must be 32 bytes, got %d", len(m.APIv3Key))
		}
		switch m.PlatformMode {
		case PlatformModePublicKey, PlatformModeCertificate, PlatformModeBoth:
		default:
			return bad(p+"platform_mode", "invalid value %q (want public_key, certificate or both)", m.PlatformMode)
		}
		if m.MerchantPublicKeyFile != "" && m.GenerateMerchantKey {
			return bad(p+"generate_merchant_key", "cannot be set together with merchant_public_key_file")
		}
		if m.APIv3Key != "" && m.MerchantPublicKeyFile == "" && !m.GenerateMerchantKey {
			return bad(p+"merchant_public_key_file", "required with api_v3_key (or set generate_merchant_key for development)")
		}
		if m.MerchantPublicKeyFile != "" {
			b, err := os.ReadFile(m.MerchantPublicKeyFile)
			if err != nil {
				return &ConfigError{Key: p + "merchant_public_key_file", Err: err}
			}
			_, serial, err := parsePublicKeyPEM(b)
			if err != nil {
				return &ConfigError{Key: p + "merchant_public_key_file", Err: err}
			}
			if serial != "" && m.MerchantSerialNo != "" && !strings.EqualFold(serial, m.MerchantSerialNo) {
				return bad(p+"merchant_serial_no", "%s does not match the certificate's serial %s", m.MerchantSerialNo, serial)
			}
			if serial == "" && m.MerchantSerialNo == "" {
				return bad(p+"merchant_serial_no", "required when merchant_public_key_file is a bare public key")
			}
		}
		if m.MerchantSerialNo != "" && !isHex(m.MerchantSerialNo) {
			return bad(p+"merchant_serial_no", "must be hexadecimal, got %q", m.MerchantSerialNo)
		}
		for _, kf := range []struct{ key, file string }{
			{"platform_private_key_file", m.PlatformPrivateKeyFile},
			{"platform_certificate_key_file", m.PlatformCertificateKeyFile},
		} {
			if kf.file == "" {
				continue
			}
			b, err := os.ReadFile(kf.file)
			if err != nil {
				return &ConfigError{Key: p + kf.key, Err: err}
			}
			if _, err := parsePrivateKeyPEM(b); err != nil {
				return &ConfigError{Key: p + kf.key, Err: err}
			}
		}
		if m.PlatformCertificateKeyFile != "" && m.PlatformMode != PlatformModeBoth {
			return bad(p+"platform_certificate_key_file", "only used in platform_mode both")
		}
		if m.PlatformCertificateKeyFile != "" && m.PlatformCertificateKeyFile == m.PlatformPrivateKeyFile {
			return bad(p+"platform_certificate_key_file", "must differ from platform_private_key_file")
		}
		if m.RefundNotifyURL != "" {
			if err := checkNotifyURL(m.RefundNotifyURL); err != nil {
				return bad(p+"refund_notify_url", "%v", err)
			}
		}
		if m.NotifyTimeout < 0 {
			return bad(p+"notify_timeout", "must be positive, got %s", m.NotifyTimeout)
		}
		for j, d := range m.NotifySchedule {
			if d <= 0 {
				return bad(fmt.Sprintf("%snotify_schedule[%d]", p, j), "must be positive, got %s", d)
			}
		}
		for key, d := range map[string]time.Duration{
			"refund_delay": m.RefundDelay, "prepay_lifetime": m.PrepayLifetime, "timestamp_window": m.TimestampWindow,
		} {
			if d < 0 {
				return bad(p+key, "must not be negative, got %s", d)
			}
		}
	}
	return nil
}

// checkNotifyURL reports why u cannot be a notify_url: it must be an
// absolute http(s) URL without a query string.
func checkNotifyURL(u string) error {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL, got %q", u)
	}
	if pu.RawQuery != "" || strings.Contains(u, "?") {
		return fmt.Errorf("must not carry a query string, got %q", u)
	}
	return nil
}

func isDigitsOrLetters(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	_, err := hex.DecodeString(strings.Repeat("0", len(s)%2) + s)
	return err == nil
}
