package miniprogram

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// wxaDecryptVector is one vector of crypto/wxa_decrypt.json.
type wxaDecryptVector struct {
	ID            string         `json:"id"`
	AppID         string         `json:"appid"`
	SessionKey    string         `json:"session_key"`
	IV            string         `json:"iv"`
	EncryptedData string         `json:"encrypted_data"`
	Plaintext     string         `json:"plaintext"`
	ExpectedJSON  map[string]any `json:"expected_json"`
}

func decryptVectors(t testing.TB) []wxaDecryptVector {
	t.Helper()
	var f struct {
		Vectors []wxaDecryptVector `json:"vectors"`
	}
	corpus.DecodeJSON(t, &f, "crypto", "wxa_decrypt.json")
	if len(f.Vectors) == 0 {
		t.Fatal("crypto/wxa_decrypt.json has no vectors")
	}
	return f.Vectors
}

// watermarkOf returns the watermark of an expected_json.
func watermarkOf(t *testing.T, doc map[string]any) (appID string, ts time.Time) {
	t.Helper()
	wm, ok := doc["watermark"].(map[string]any)
	if !ok {
		t.Fatalf("expected_json has no watermark: %v", doc)
	}
	return wm["appid"].(string), time.Unix(int64(wm["timestamp"].(float64)), 0)
}

// toMap encodes v as JSON and decodes it as a generic object.
func toMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecryptDataCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range decryptVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			t.Parallel()
			wmAppID, wmTime := watermarkOf(t, v.ExpectedJSON)
			now := wmTime.Add(30 * time.Second)

			pt, wm, err := DecryptData(v.AppID, v.SessionKey, v.EncryptedData, v.IV, now, 5*time.Minute)
			if err != nil {
				t.Fatalf("DecryptData = %v", err)
			}
			if string(pt) != v.Plaintext {
				t.Errorf("DecryptData plaintext = %q, want %q", pt, v.Plaintext)
			}
			var parsed map[string]any
			if err := json.Unmarshal(pt, &parsed); err != nil {
				t.Fatalf("plaintext is not JSON: %v", err)
			}
			if diff := cmp.Diff(v.ExpectedJSON, parsed); diff != "" {
				t.Errorf("decrypted JSON (-want +got):\n%s", diff)
			}
			if wm.AppID != wmAppID || !wm.Timestamp.Equal(wmTime) {
				t.Errorf("watermark = %s at %v, want %s at %v", wm.AppID, wm.Timestamp.Time, wmAppID, wmTime)
			}

			// The typed helper exposes every field of the vector.
			u, err := DecryptUserInfo(v.AppID, v.SessionKey, v.EncryptedData, v.IV, now, 0)
			if err != nil {
				t.Fatalf("DecryptUserInfo = %v", err)
			}
			if diff := cmp.Diff(v.ExpectedJSON, toMap(t, u)); diff != "" {
				t.Errorf("DecryptUserInfo (-want +got):\n%s", diff)
			}

			// Re-encryption gives the vector's ciphertext.
			enc, err := EncryptData(v.SessionKey, v.IV, []byte(v.Plaintext))
			if err != nil || enc != v.EncryptedData {
				t.Errorf("EncryptData = %s, %v; want %s", enc, err, v.EncryptedData)
			}
		})
	}
}

// TestDecryptDataRefusals: every corpus vector, altered, is refused with
// the documented error.
func TestDecryptDataRefusals(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString
	for _, v := range decryptVectors(t) {
		_, wmTime := watermarkOf(t, v.ExpectedJSON)
		now := wmTime.Add(time.Minute)
		ct, err := base64.StdEncoding.DecodeString(v.EncryptedData)
		if err != nil {
			t.Fatal(err)
		}
		iv, _ := base64.StdEncoding.DecodeString(v.IV)
		flipped := func(b []byte, i int) string {
			c := bytes.Clone(b)
			c[i] ^= 0x01
			return b64(c)
		}
		last := len(ct) - 1
		tests := []struct {
			name                 string
			appID, key, data, iv string
			now                  time.Time
			maxAge               time.Duration
			want                 error
			wantInMsg            string
		}{
			{"foreign watermark appid", "wx0000000000000000", v.SessionKey, v.EncryptedData, v.IV, now, 0, ErrWatermarkAppID, v.AppID},
			{"empty appid", "", v.SessionKey, v.EncryptedData, v.IV, now, 0, ErrWatermarkAppID, ""},
			{"watermark an hour old", v.AppID, v.SessionKey, v.EncryptedData, v.IV, wmTime.Add(time.Hour), 5 * time.Minute, ErrWatermarkStale, ""},
			{"watermark from the future", v.AppID, v.SessionKey, v.EncryptedData, v.IV, wmTime.Add(-10 * time.Minute), 5 * time.Minute, ErrWatermarkStale, ""},
			{"wrong iv", v.AppID, v.SessionKey, v.EncryptedData, flipped(iv, 0), now, 0, ErrDecrypt, ""},
			{"other iv", v.AppID, v.SessionKey, v.EncryptedData, b64(bytes.Repeat([]byte{7}, 16)), now, 0, ErrDecrypt, ""},
			{"other session_key", v.AppID, b64(bytes.Repeat([]byte{7}, 16)), v.EncryptedData, v.IV, now, 0, ErrDecrypt, ""},
			{"tampered first block", v.AppID, v.SessionKey, flipped(ct, 3), v.IV, now, 0, ErrDecrypt, ""},
			{"tampered padding", v.AppID, v.SessionKey, flipped(ct, last), v.IV, now, 0, ErrDecrypt, ""},
			{"truncated by a block", v.AppID, v.SessionKey, b64(ct[:len(ct)-16]), v.IV, now, 0, ErrDecrypt, ""},
			{"not whole blocks", v.AppID, v.SessionKey, b64(ct[:len(ct)-1]), v.IV, now, 0, ErrInvalidEncryptedData, ""},
			{"empty data", v.AppID, v.SessionKey, "", v.IV, now, 0, ErrInvalidEncryptedData, ""},
			{"data not base64", v.AppID, v.SessionKey, "!!" + v.EncryptedData, v.IV, now, 0, ErrInvalidEncryptedData, ""},
			{"session_key not base64", v.AppID, "!!", v.EncryptedData, v.IV, now, 0, ErrInvalidSessionKey, ""},
			{"session_key 8 bytes", v.AppID, b64(make([]byte, 8)), v.EncryptedData, v.IV, now, 0, ErrInvalidSessionKey, ""},
			{"session_key 32 bytes", v.AppID, b64(make([]byte, 32)), v.EncryptedData, v.IV, now, 0, ErrInvalidSessionKey, ""},
			{"iv 8 bytes", v.AppID, v.SessionKey, v.EncryptedData, b64(make([]byte, 8)), now, 0, ErrInvalidIV, ""},
			{"iv not base64", v.AppID, v.SessionKey, v.EncryptedData, "?", now, 0, ErrInvalidIV, ""},
		}
		for _, tt := range tests {
			t.Run(v.ID+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				pt, wm, err := DecryptData(tt.appID, tt.key, tt.data, tt.iv, tt.now, tt.maxAge)
				if !errors.Is(err, tt.want) {
					t.Fatalf("DecryptData = %q, %v, %v; want %v", pt, wm, err, tt.want)
				}
				if pt != nil || wm != nil {
					t.Errorf("DecryptData returned %q, %v with an error", pt, wm)
				}
				if !strings.Contains(err.Error(), tt.wantInMsg) {
					t.Errorf("error %q does not name %q", err, tt.wantInMsg)
				}
				if strings.Contains(err.Error(), v.SessionKey) {
					t.Errorf("error %q carries the session_key", err)
				}
				if _, err := DecryptUserInfo(tt.appID, tt.key, tt.data, tt.iv, tt.now, tt.maxAge); !errors.Is(err, tt.want) {
					t.Errorf("DecryptUserInfo = %v, want %v", err, tt.want)
				}
			})
		}
	}
}

// TestDecryptDataPlaintexts: data encrypted under a known key decrypts only
// when it is a JSON object whose watermark names the app.
func TestDecryptDataPlaintexts(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	iv := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210"))
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name      string
		plaintext string
		want      error
	}{
		{"watermark", `{"a":1,"watermark":{"appid":"wxA","timestamp":1700000000}}`, nil},
		{"quoted timestamp", `{"watermark":{"timestamp":"1700000000","appid":"wxA"}}`, nil},
		{"exactly one block of padding", `{"watermark":{"appid":"wxA","timestamp":1700000000}}` + "           ", nil},
		{"no watermark", `{"a":1}`, ErrWatermarkAppID},
		{"not json", `not json`, ErrDecrypt},
		{"json array", `[{"watermark":{"appid":"wxA"}}]`, ErrDecrypt},
		{"json string", `"wxA"`, ErrDecrypt},
		{"truncated json", `{"watermark":{"appid":"wxA"`, ErrDecrypt},
		{"empty", ``, ErrDecrypt},
		{"bad timestamp", `{"watermark":{"appid":"wxA","timestamp":"soon"}}`, ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, err := EncryptData(key, iv, []byte(tt.plaintext))
			if err != nil {
				t.Fatal(err)
			}
			pt, wm, err := DecryptData("wxA", key, enc, iv, now, time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("DecryptData = %q, %v; want %v", pt, err, tt.want)
			}
			if err == nil && (string(pt) != tt.plaintext || wm.AppID != "wxA" || wm.Timestamp.Unix() != 1700000000) {
				t.Errorf("DecryptData = %q, %+v; want %q with watermark wxA at 1700000000", pt, wm, tt.plaintext)
			}
		})
	}
	if _, err := EncryptData("bad", iv, nil); !errors.Is(err, ErrInvalidSessionKey) {
		t.Errorf("EncryptData(bad key) = %v, want ErrInvalidSessionKey", err)
	}
	if _, err := EncryptData(key, "bad", nil); !errors.Is(err, ErrInvalidIV) {
		t.Errorf("EncryptData(bad iv) = %v, want ErrInvalidIV", err)
	}
}

func TestDecryptPhoneNumber(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	iv := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210"))
	// The shape of the old getPhoneNumber button's encryptedData (WeChat
	// docs), countryCode once as a string and once as a number.
	for _, cc := range []string{`"86"`, `86`} {
		plain := `{"phoneNumber":"13580006666","purePhoneNumber":"13580006666","countryCode":` + cc + `,"watermark":{"appid":"wxA","timestamp":1700000000}}`
		enc, err := EncryptData(key, iv, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		p, err := DecryptPhoneNumber("wxA", key, enc, iv, time.Unix(1700000000, 0), 0)
		if err != nil {
			t.Fatalf("DecryptPhoneNumber = %v", err)
		}
		want := map[string]any{"phoneNumber": "13580006666", "purePhoneNumber": "13580006666", "countryCode": "86",
			"watermark": map[string]any{"appid": "wxA", "timestamp": float64(1700000000)}}
		if diff := cmp.Diff(want, toMap(t, p)); diff != "" {
			t.Errorf("DecryptPhoneNumber (countryCode %s) (-want +got):\n%s", cc, diff)
		}
		if _, err := DecryptPhoneNumber("wxB", key, enc, iv, time.Time{}, 0); !errors.Is(err, ErrWatermarkAppID) {
			t.Errorf("DecryptPhoneNumber(wxB) = %v, want ErrWatermarkAppID", err)
		}
	}
	enc, _ := EncryptData(key, iv, []byte(`{"countryCode":[1],"watermark":{"appid":"wxA"}}`))
	if _, err := DecryptPhoneNumber("wxA", key, enc, iv, time.Time{}, 0); !errors.Is(err, ErrDecrypt) {
		t.Errorf("DecryptPhoneNumber(countryCode array) = %v, want ErrDecrypt", err)
	}
}

func TestUnpad(t *testing.T) {
	t.Parallel()
	block := func(tail ...byte) []byte { return append(bytes.Repeat([]byte{'x'}, 16-len(tail)), tail...) }
	tests := []struct {
		name string
		in   []byte
		n    int // length kept; -1: refused
	}{
		{"one byte", block(1), 15},
		{"two bytes", block(2, 2), 14},
		{"full block", bytes.Repeat([]byte{16}, 16), 0},
		{"zero", block(0), -1},
		{"seventeen", block(17), -1},
		{"inconsistent", block(1, 2), -1},
		{"inconsistent far", append(bytes.Repeat([]byte{16}, 15), 15), -1},
		{"empty", nil, -1},
		{"not a block", []byte{1}, -1},
	}
	for _, tt := range tests {
		out, ok := unpad(tt.in)
		if tt.n < 0 {
			if ok {
				t.Errorf("%s: unpad = %q, want refused", tt.name, out)
			}
			continue
		}
		if !ok || len(out) != tt.n {
			t.Errorf("%s: unpad = %d bytes, %v; want %d", tt.name, len(out), ok, tt.n)
		}
	}
}
