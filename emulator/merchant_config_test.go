package emulator

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfigMerchants(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "platform.pem")
	der, _ := x509.MarshalPKCS8PrivateKey(testRSAKeys()[1])
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(dir, "merchant_pub.pem")
	pder, _ := x509.MarshalPKIXPublicKey(&testRSAKeys()[0].PublicKey)
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}), 0o600); err != nil {
		t.Fatal(err)
	}
	y := `
apps:
  - appid: wx0123456789abcdef
    secret: s3cret
    token: tok123
merchants:
  - mch_id: "1900000109"
    name: 示例商户
    appids: [wx0123456789abcdef]
    api_key: "0123456789abcdef0123456789abcdef"
    api_v3_key: "abcdef0123456789abcdef0123456789"
    merchant_serial_no: "5157f09efdc096de15ebe81a47057a7232f1b8e1"
    merchant_public_key_file: ` + pubFile + `
    platform_private_key_file: ` + keyFile + `
    platform_mode: certificate
    refund_notify_url: http://127.0.0.1:8080/pay/refund/notify/1900000109
    notify_timeout: 2s
    notify_schedule: [1s, 2s]
    refund_delay: 10s
    prepay_lifetime: 1h
    timestamp_window: 1m
`
	c, err := ParseConfig([]byte(y))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	want := MerchantConfig{
		MchID: "1900000109", Name: "示例商户", AppIDs: []string{"wx0123456789abcdef"},
		APIKey: "0123456789abcdef0123456789abcdef", APIv3Key: "abcdef0123456789abcdef0123456789",
		MerchantSerialNo: "5157f09efdc096de15ebe81a47057a7232f1b8e1", MerchantPublicKeyFile: pubFile,
		PlatformPrivateKeyFile: keyFile, PlatformMode: PlatformModeCertificate,
		RefundNotifyURL: "http://127.0.0.1:8080/pay/refund/notify/1900000109",
		NotifyTimeout:   2 * time.Second, NotifySchedule: []time.Duration{time.Second, 2 * time.Second},
		RefundDelay: 10 * time.Second, PrepayLifetime: time.Hour, TimestampWindow: time.Minute,
	}
	if diff := cmp.Diff([]MerchantConfig{want}, c.Merchants); diff != "" {
		t.Errorf("merchants (-want +got):\n%s", diff)
	}
	e, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Config().Merchants[0]
	if got.MerchantSerialNo != strings.ToUpper(want.MerchantSerialNo) {
		t.Errorf("serial not normalised: %s", got.MerchantSerialNo)
	}
}

func TestMerchantDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Merchants: []MerchantConfig{{MchID: "1900000109", AppIDs: []string{"wx1"}, APIKey: testAPIKey}}}.withDefaults()
	m := c.Merchants[0]
	if m.PlatformMode != PlatformModePublicKey || m.NotifyTimeout != 5*time.Second || m.PrepayLifetime != 2*time.Hour ||
		m.TimestampWindow != 5*time.Minute || m.Name != "商户1900000109" || len(m.NotifySchedule) != 15 {
		t.Errorf("defaults = %+v", m)
	}
	if (Config{}).withDefaults().Merchants != nil {
		t.Error("no merchants became a non-nil slice")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	d := DefaultConfig().Merchants
	if len(d) != 1 || d[0].MchID != DemoMchID || d[0].AppIDs[0] != DemoAppID || !d[0].GenerateMerchantKey ||
		len(d[0].APIKey) != 32 || len(d[0].APIv3Key) != 32 {
		t.Errorf("demo merchant = %+v", d)
	}
}

func TestMerchantConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notKey := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(notKey, []byte("not a pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	valid := func() MerchantConfig {
		return MerchantConfig{MchID: "1900000109", AppIDs: []string{"wx1"}, APIKey: testAPIKey, APIv3Key: testAPIv3Key, GenerateMerchantKey: true}
	}
	tests := []struct {
		name   string
		change func(*MerchantConfig)
		key    string
	}{
		{"no mch_id", func(m *MerchantConfig) { m.MchID = "" }, "merchants[0].mch_id"},
		{"bad mch_id", func(m *MerchantConfig) { m.MchID = "19 00" }, "merchants[0].mch_id"},
		{"no appids", func(m *MerchantConfig) { m.AppIDs = nil }, "merchants[0].appids"},
		{"empty appid", func(m *MerchantConfig) { m.AppIDs = []string{"wx1", ""} }, "merchants[0].appids[1]"},
		{"no keys", func(m *MerchantConfig) { m.APIKey, m.APIv3Key = "", "" }, "merchants[0].api_key"},
		{"short api_key", func(m *MerchantConfig) { m.APIKey = "short" }, "merchants[0].api_key"},
		{"short api_v3_key", func(m *MerchantConfig) { m.APIv3Key = "short" }, "merchants[0].api_v3_key"},
		{"bad mode", func(m *MerchantConfig) { m.PlatformMode = "pubkey" }, "merchants[0].platform_mode"},
		{"v3 without a merchant key", func(m *MerchantConfig) { m.GenerateMerchantKey = false }, "merchants[0].merchant_public_key_file"},
		{"missing public key file", func(m *MerchantConfig) {
			m.GenerateMerchantKey, m.MerchantPublicKeyFile = false, filepath.Join(dir, "nope.pem")
		}, "merchants[0].merchant_public_key_file"},
		{"junk public key file", func(m *MerchantConfig) { m.GenerateMerchantKey, m.MerchantPublicKeyFile = false, notKey }, "merchants[0].merchant_public_key_file"},
		{"both key sources", func(m *MerchantConfig) { m.MerchantPublicKeyFile = notKey }, "merchants[0].generate_merchant_key"},
		{"junk platform key", func(m *MerchantConfig) { m.PlatformPrivateKeyFile = notKey }, "merchants[0].platform_private_key_file"},
		{"certificate key outside both", func(m *MerchantConfig) { m.PlatformCertificateKeyFile = notKey }, "merchants[0].platform_certificate_key_file"},
		{"bad serial", func(m *MerchantConfig) { m.MerchantSerialNo = "XYZ" }, "merchants[0].merchant_serial_no"},
		{"refund_notify_url with query", func(m *MerchantConfig) { m.RefundNotifyURL = "http://a/b?c=1" }, "merchants[0].refund_notify_url"},
		{"relative refund_notify_url", func(m *MerchantConfig) { m.RefundNotifyURL = "/pay/refund" }, "merchants[0].refund_notify_url"},
		{"zero schedule step", func(m *MerchantConfig) { m.NotifySchedule = []time.Duration{time.Second, 0} }, "merchants[0].notify_schedule[1]"},
		{"negative refund_delay", func(m *MerchantConfig) { m.RefundDelay = -time.Second }, "merchants[0].refund_delay"},
		{"negative notify_timeout", func(m *MerchantConfig) { m.NotifyTimeout = -time.Second }, "merchants[0].notify_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.change(&m)
			err := Config{Merchants: []MerchantConfig{m}}.Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Errorf("Validate = %v, want a ConfigError for %s", err, tt.key)
			}
		})
	}
	t.Run("duplicate mch_id", func(t *testing.T) {
		err := Config{Merchants: []MerchantConfig{valid(), valid()}}.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != "merchants[1].mch_id" {
			t.Errorf("Validate = %v", err)
		}
	})
	t.Run("v2 only needs no RSA key", func(t *testing.T) {
		m := valid()
		m.APIv3Key, m.GenerateMerchantKey = "", false
		if err := (Config{Merchants: []MerchantConfig{m}}).Validate(); err != nil {
			t.Errorf("Validate = %v", err)
		}
	})
	t.Run("unknown YAML key", func(t *testing.T) {
		_, err := ParseConfig([]byte("merchants:\n  - mch_id: \"1\"\n    apikey: x\n"))
		if err == nil || !strings.Contains(err.Error(), "merchants[0]") || !strings.Contains(err.Error(), "apikey") {
			t.Errorf("ParseConfig = %v, want the key named", err)
		}
	})
	t.Run("secrets are not in JSON", func(t *testing.T) {
		b, err := marshalJSON(valid())
		if err != nil || strings.Contains(string(b), testAPIKey) || strings.Contains(string(b), testAPIv3Key) {
			t.Errorf("JSON = %s, %v", b, err)
		}
	})
}
