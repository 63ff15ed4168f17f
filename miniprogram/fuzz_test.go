package miniprogram

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzDecryptData feeds DecryptData arbitrary keys, ivs and ciphertexts
// (raw text, or the base64 of arbitrary bytes, or a valid encryption of an
// arbitrary plaintext). It must never panic, must fail with one of the
// package's sentinels, and whatever it accepts must be a JSON object whose
// watermark passed the checks and that encrypts back to the input.
func FuzzDecryptData(f *testing.F) {
	for _, v := range decryptVectors(f) {
		key, _ := base64.StdEncoding.DecodeString(v.SessionKey)
		iv, _ := base64.StdEncoding.DecodeString(v.IV)
		ct, _ := base64.StdEncoding.DecodeString(v.EncryptedData)
		f.Add(v.AppID, key, iv, ct, uint8(0), int64(0), int64(0))
		f.Add(v.AppID, key, iv, []byte(v.Plaintext), uint8(2), int64(1477314187), int64(300))
		f.Add(v.AppID, []byte(v.SessionKey), []byte(v.IV), []byte(v.EncryptedData), uint8(1), int64(0), int64(0))
	}
	f.Add("wxA", make([]byte, 16), make([]byte, 16), []byte(`{"watermark":{"appid":"wxA","timestamp":5}}`), uint8(2), int64(5), int64(1))
	f.Add("", []byte{}, []byte{}, []byte{}, uint8(0), int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, appID string, key, iv, data []byte, mode uint8, nowUnix, maxAgeSec int64) {
		var k, i, d string
		switch mode % 3 {
		case 0: // base64 of arbitrary bytes
			k, i, d = base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(iv), base64.StdEncoding.EncodeToString(data)
		case 1: // arbitrary text
			k, i, d = string(key), string(iv), string(data)
		case 2: // a valid encryption of data
			k, i = base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(iv)
			enc, err := EncryptData(k, i, data)
			if err != nil {
				if !errors.Is(err, ErrInvalidSessionKey) && !errors.Is(err, ErrInvalidIV) {
					t.Fatalf("EncryptData error %v is not a package sentinel", err)
				}
				return
			}
			d = enc
		}
		now := time.Unix(nowUnix%(1<<40), 0)
		maxAge := time.Duration(maxAgeSec%(1<<20)) * time.Second
		pt, wm, err := DecryptData(appID, k, d, i, now, maxAge)
		if err != nil {
			for _, s := range []error{ErrInvalidSessionKey, ErrInvalidIV, ErrInvalidEncryptedData, ErrDecrypt, ErrWatermarkAppID, ErrWatermarkStale} {
				if errors.Is(err, s) {
					if pt != nil || wm != nil {
						t.Fatalf("DecryptData returned %q, %v with %v", pt, wm, err)
					}
					return
				}
			}
			t.Fatalf("DecryptData error %v is not a package sentinel", err)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(pt, &obj) != nil {
			t.Fatalf("accepted plaintext %q is not a JSON object", pt)
		}
		if appID == "" || wm.AppID != appID {
			t.Fatalf("accepted watermark appid %q for app %q", wm.AppID, appID)
		}
		if maxAge > 0 {
			if diff := now.Sub(wm.Timestamp.Time); diff > maxAge || diff < -maxAge {
				t.Fatalf("accepted watermark %v, %v from now %v (maxAge %v)", wm.Timestamp.Time, diff, now, maxAge)
			}
		}
		if mode%3 == 2 && !bytes.Equal(pt, data) {
			t.Fatalf("DecryptData(EncryptData(%q)) = %q", data, pt)
		}
		back, err := EncryptData(k, i, pt)
		if err != nil {
			t.Fatalf("EncryptData of an accepted plaintext: %v", err)
		}
		orig, _ := base64.StdEncoding.DecodeString(d)
		if got, _ := base64.StdEncoding.DecodeString(back); !bytes.Equal(got, orig) {
			t.Fatalf("accepted ciphertext does not encrypt back")
		}
	})
}

// FuzzRawDataSignature checks RawDataSignature and CheckRawDataSignature on
// any rawData and session key: the signature is 40 lower-case hex digits of
// sha1(rawData + sessionKey), it verifies in either case, and changing a
// byte of it, of rawData or of the session key makes the check fail.
func FuzzRawDataSignature(f *testing.F) {
	for _, v := range signatureVectors(f) {
		f.Add(v.RawData, v.SessionKey, true, uint(0), byte('0'))
	}
	f.Add("", "", false, uint(0), byte(0))
	f.Fuzz(func(t *testing.T, rawData, sessionKey string, changeRaw bool, pos uint, b byte) {
		sig := RawDataSignature(rawData, sessionKey)
		sum := sha1.Sum([]byte(rawData + sessionKey))
		if sig != hex.EncodeToString(sum[:]) {
			t.Fatalf("RawDataSignature = %s, want the hex sha1 of rawData + sessionKey", sig)
		}
		for _, s := range []string{sig, strings.ToUpper(sig)} {
			if err := CheckRawDataSignature(rawData, s, sessionKey); err != nil {
				t.Fatalf("CheckRawDataSignature(%q) = %v", s, err)
			}
		}
		i := int(pos % 40)
		c := b
		if c|0x20 == sig[i]|0x20 {
			c = sig[i] ^ 1
		}
		if err := CheckRawDataSignature(rawData, sig[:i]+string(c)+sig[i+1:], sessionKey); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("changed signature: %v", err)
		}
		s := sessionKey
		if changeRaw {
			s = rawData
		}
		if s == "" {
			return
		}
		j := int(pos % uint(len(s)))
		c = b
		if s[j] == c {
			c ^= 1
		}
		changed := s[:j] + string(c) + s[j+1:]
		raw, key := rawData, changed
		if changeRaw {
			raw, key = changed, sessionKey
		}
		if err := CheckRawDataSignature(raw, sig, key); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("changed input %q + %q: %v", raw, key, err)
		}
	})
}
