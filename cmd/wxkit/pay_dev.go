package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
)

// devPayDir is the directory, beside the dev-mode database, where `wxkit
// serve` writes the demo merchant's keys and configuration at start.
const devPayDir = "wxkit-dev-pay"

// devPayFile is the pay: configuration in devPayDir.
const devPayFile = "pay.yaml"

// writeDevPay writes the keys of the emulator's demo merchant
// (emulator.DemoMchID, for the demo app, WeChat Pay v3 in public-key mode)
// into dir, as an operator downloads them from the merchant platform
// (apiclient_key.pem, apiclient_cert.pem, pub_key.pem), and a pay.yaml with
// the pay: configuration that uses them. The emulator makes new keys at
// each start, so the files are rewritten each time. It returns the
// configuration.
func writeDevPay(emu *emulator.Emulator, dir string) (*gateway.PayConfig, error) {
	mk, err := emu.MerchantKey(emulator.DemoMchID)
	if err != nil {
		return nil, err
	}
	pk, err := emu.PlatformKey(emulator.DemoMchID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data string
	}{
		{"apiclient_key.pem", mk.PrivateKeyPEM},
		{"apiclient_cert.pem", mk.CertificatePEM},
		{"pub_key.pem", pk.PublicKeyPEM},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(abs, f.name), []byte(f.data), 0o600); err != nil {
			return nil, err
		}
	}
	pc := &gateway.PayConfig{Merchants: []gateway.PayMerchantConfig{{
		MchID:                 emulator.DemoMchID,
		AppIDs:                []string{emulator.DemoAppID, DevMiniAppID},
		Version:               gateway.PayV3,
		APIv3Key:              emulator.DemoAPIv3Key,
		SerialNo:              mk.SerialNo,
		PrivateKeyFile:        filepath.Join(abs, "apiclient_key.pem"),
		CertFile:              filepath.Join(abs, "apiclient_cert.pem"),
		PlatformPublicKeyFile: filepath.Join(abs, "pub_key.pem"),
		PlatformPublicKeyID:   pk.PublicKeyID,
	}}}
	var b bytes.Buffer
	b.WriteString("# The pay: configuration of the emulator's demo merchant, written by `wxkit serve` in dev mode.\n")
	b.WriteString("# The emulator makes new keys at each start: this file and the keys are rewritten then.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(devPayYAML(pc)); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(abs, devPayFile), b.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return pc, nil
}

// devPayYAML is the shape of pay.yaml (gateway.PayConfig's keys, without
// its empty ones).
func devPayYAML(pc *gateway.PayConfig) map[string]any {
	var ms []map[string]any
	for _, m := range pc.Merchants {
		ms = append(ms, map[string]any{
			"mch_id": m.MchID, "appids": m.AppIDs, "version": m.Version, "api_v3_key": m.APIv3Key,
			"serial_no": m.SerialNo, "private_key_file": m.PrivateKeyFile, "cert_file": m.CertFile,
			"platform_public_key_file": m.PlatformPublicKeyFile, "platform_public_key_id": m.PlatformPublicKeyID,
		})
	}
	return map[string]any{"merchants": ms}
}

// loadDevPay reads the pay.yaml that dev mode wrote beside dbPath; nil when
// there is none.
func loadDevPay(dbPath string) (*gateway.PayConfig, error) {
	path := filepath.Join(filepath.Dir(dbPath), devPayDir, devPayFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pc gateway.PayConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&pc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &pc, nil
}
