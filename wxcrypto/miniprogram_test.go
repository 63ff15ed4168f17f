package wxcrypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type wxaDecryptVector struct {
	vectorBase
	AppID         string         `json:"appid"`
	SessionKey    string         `json:"session_key"`
	IV            string         `json:"iv"`
	EncryptedData string         `json:"encrypted_data"`
	Plaintext     string         `json:"plaintext"`
	ExpectedJSON  map[string]any `json:"expected_json"`
}

func TestDecryptMiniProgramCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors[wxaDecryptVector](t, "crypto/wxa_decrypt.json") {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			got, err := DecryptMiniProgram(v.AppID, v.SessionKey, v.IV, v.EncryptedData)
			if err != nil {
				t.Fatalf("DecryptMiniProgram: %v", err)
			}
			if string(got) != v.Plaintext {
				t.Errorf("DecryptMiniProgram = %q, want %q", got, v.Plaintext)
			}
			var parsed map[string]any
			if err := json.Unmarshal(got, &parsed); err != nil {
				t.Fatalf("plaintext is not JSON: %v", err)
			}
			if diff := cmp.Diff(v.ExpectedJSON, parsed); diff != "" {
				t.Errorf("decrypted JSON mismatch (-want +got):\n%s", diff)
			}
			enc, err := EncryptMiniProgram(v.SessionKey, v.IV, []byte(v.Plaintext))
			if err != nil || enc != v.EncryptedData {
				t.Errorf("EncryptMiniProgram = %s, %v; want %s", enc, err, v.EncryptedData)
			}

			// Wrong watermark AppID.
			if _, err := DecryptMiniProgram("wx0000000000000000", v.SessionKey, v.IV, v.EncryptedData); !errors.Is(err, ErrInvalidAppID) {
				t.Errorf("DecryptMiniProgram(wrong appid) = %v, want ErrInvalidAppID", err)
			}
			if _, err := DecryptMiniProgram("", v.SessionKey, v.IV, v.EncryptedData); !errors.Is(err, ErrInvalidAppID) {
				t.Errorf("DecryptMiniProgram(empty appid) = %v, want ErrInvalidAppID", err)
			}

			// Another session_key: garbage out, never the plaintext, never a panic.
			otherKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
			if out, err := DecryptMiniProgram(v.AppID, otherKey, v.IV, v.EncryptedData); err == nil {
				t.Errorf("DecryptMiniProgram(other key) = %q, want an error", out)
			}

			ct, _ := base64.StdEncoding.DecodeString(v.EncryptedData)
			tampered := bytes.Clone(ct)
			tampered[len(tampered)-17] ^= 0x40 // flips the last pad byte
			bad := []struct {
				name          string
				key, iv, data string
				want          error
			}{
				{"session_key not base64", "!!", v.IV, v.EncryptedData, ErrInvalidKey},
				{"session_key 8 bytes", base64.StdEncoding.EncodeToString(make([]byte, 8)), v.IV, v.EncryptedData, ErrInvalidKey},
				{"iv 8 bytes", v.SessionKey, base64.StdEncoding.EncodeToString(make([]byte, 8)), v.EncryptedData, ErrInvalidCiphertext},
				{"data empty", v.SessionKey, v.IV, "", ErrInvalidCiphertext},
				{"data not whole blocks", v.SessionKey, v.IV, base64.StdEncoding.EncodeToString(ct[:len(ct)-1]), ErrInvalidCiphertext},
				{"data tampered padding", v.SessionKey, v.IV, base64.StdEncoding.EncodeToString(tampered), ErrInvalidPadding},
			}
			for _, b := range bad {
				if _, err := DecryptMiniProgram(v.AppID, b.key, b.iv, b.data); !errors.Is(err, b.want) {
					t.Errorf("%s: DecryptMiniProgram = %v, want %v", b.name, err, b.want)
				}
			}
		})
	}
}

func TestEncryptMiniProgramRoundTrip(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	iv := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210"))
	for _, pt := range []string{
		`{"watermark":{"appid":"wxA"}}`,
		`{"openId":"o","watermark":{"appid":"wxA","timestamp":1}}` + "        ", // 16-byte multiple after padding
	} {
		enc, err := EncryptMiniProgram(key, iv, []byte(pt))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecryptMiniProgram("wxA", key, iv, enc)
		if err != nil || string(got) != pt {
			t.Errorf("round trip = %q, %v; want %q", got, err, pt)
		}
	}
	if _, err := EncryptMiniProgram("bad", iv, nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("EncryptMiniProgram(bad key) = %v, want ErrInvalidKey", err)
	}
	// Not JSON after decryption.
	enc, _ := EncryptMiniProgram(key, iv, []byte("not json"))
	if _, err := DecryptMiniProgram("wxA", key, iv, enc); !errors.Is(err, ErrInvalidCiphertext) {
		t.Errorf("DecryptMiniProgram(non-JSON) = %v, want ErrInvalidCiphertext", err)
	}
}

type wxaSignatureVector struct {
	vectorBase
	RawData    string `json:"raw_data"`
	SessionKey string `json:"session_key"`
	Signature  string `json:"signature"`
}

func TestMiniProgramSignatureCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors[wxaSignatureVector](t, "crypto/wxa_signature.json") {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			got := MiniProgramSignature(v.RawData, v.SessionKey)
			err := CheckMiniProgramSignature(v.Signature, v.RawData, v.SessionKey)
			if v.isValid() {
				if got != v.Signature || err != nil {
					t.Errorf("MiniProgramSignature = %s (check %v), want %s", got, err, v.Signature)
				}
				return
			}
			if got == v.Signature {
				t.Errorf("negative vector matches: %s", got)
			}
			if !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("CheckMiniProgramSignature = %v, want ErrInvalidSignature", err)
			}
		})
	}
}
