package miniprogram

import (
	"errors"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
)

// wxaSignatureVector is one vector of crypto/wxa_signature.json.
type wxaSignatureVector struct {
	ID         string `json:"id"`
	RawData    string `json:"raw_data"`
	SessionKey string `json:"session_key"`
	Signature  string `json:"signature"`
	Valid      bool   `json:"valid"`
}

func signatureVectors(t testing.TB) []wxaSignatureVector {
	t.Helper()
	var f struct {
		Vectors []wxaSignatureVector `json:"vectors"`
	}
	corpus.DecodeJSON(t, &f, "crypto", "wxa_signature.json")
	if len(f.Vectors) == 0 {
		t.Fatal("crypto/wxa_signature.json has no vectors")
	}
	return f.Vectors
}

func TestRawDataSignatureCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range signatureVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			t.Parallel()
			got := RawDataSignature(v.RawData, v.SessionKey)
			err := CheckRawDataSignature(v.RawData, v.Signature, v.SessionKey)
			if !v.Valid {
				if got == v.Signature {
					t.Errorf("negative vector matches: %s", got)
				}
				if !errors.Is(err, ErrSignatureMismatch) {
					t.Errorf("CheckRawDataSignature = %v, want ErrSignatureMismatch", err)
				}
				return
			}
			if got != v.Signature || err != nil {
				t.Errorf("RawDataSignature = %s (check %v), want %s", got, err, v.Signature)
			}
			if err := CheckRawDataSignature(v.RawData, strings.ToUpper(v.Signature), v.SessionKey); err != nil {
				t.Errorf("CheckRawDataSignature(upper case) = %v", err)
			}
			// Any change of rawData, key or signature is refused.
			other := "0"
			if v.Signature[39] == '0' {
				other = "1"
			}
			for _, c := range []struct{ name, raw, sig, key string }{
				{"rawData", v.RawData + " ", v.Signature, v.SessionKey},
				{"session_key", v.RawData, v.Signature, "A" + v.SessionKey[1:]},
				{"signature", v.RawData, v.Signature[:39] + other, v.SessionKey},
				{"signature truncated", v.RawData, v.Signature[:39], v.SessionKey},
				{"signature empty", v.RawData, "", v.SessionKey},
			} {
				if err := CheckRawDataSignature(c.raw, c.sig, c.key); !errors.Is(err, ErrSignatureMismatch) {
					t.Errorf("CheckRawDataSignature(changed %s) = %v, want ErrSignatureMismatch", c.name, err)
				}
			}
		})
	}
}
