package wxcrypto

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

type jssdkVector struct {
	vectorBase
	JSAPITicket string  `json:"jsapi_ticket"`
	NonceStr    string  `json:"noncestr"`
	Timestamp   string  `json:"timestamp"`
	URL         string  `json:"url"`
	Signature   string  `json:"signature"`
	String1     *string `json:"string1"`
}

func TestJSSDKSignatureCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors[jssdkVector](t, "crypto/jssdk_signature.json") {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			ts, err := strconv.ParseInt(v.Timestamp, 10, 64)
			if err != nil {
				t.Fatalf("timestamp %q: %v", v.Timestamp, err)
			}
			if got := JSSDKSignature(v.JSAPITicket, v.NonceStr, ts, v.URL); got != v.Signature {
				t.Errorf("JSSDKSignature = %s, want %s", got, v.Signature)
			}
			if got := JSSDKSignatureString(v.JSAPITicket, v.NonceStr, v.Timestamp, v.URL); got != v.Signature {
				t.Errorf("JSSDKSignatureString = %s, want %s", got, v.Signature)
			}
			if v.String1 != nil {
				// The documented string1 hashes to the signature, and is the
				// documented layout of the inputs (fragment stripped).
				sum := sha1.Sum([]byte(*v.String1))
				if got := hex.EncodeToString(sum[:]); got != v.Signature {
					t.Errorf("sha1(string1) = %s, want %s", got, v.Signature)
				}
				u, _, _ := strings.Cut(v.URL, "#")
				layout := "jsapi_ticket=" + v.JSAPITicket + "&noncestr=" + v.NonceStr + "&timestamp=" + v.Timestamp + "&url=" + u
				if layout != *v.String1 {
					t.Errorf("string1 = %q, want %q", layout, *v.String1)
				}
			}
		})
	}
}

func TestJSSDKSignatureFragment(t *testing.T) {
	t.Parallel()
	base := JSSDKSignature("t", "n", 1, "https://a.example/p?q=1")
	for _, u := range []string{"https://a.example/p?q=1#", "https://a.example/p?q=1#frag", "https://a.example/p?q=1#a#b"} {
		if got := JSSDKSignature("t", "n", 1, u); got != base {
			t.Errorf("JSSDKSignature(%q) = %s, want %s", u, got, base)
		}
	}
	if got := JSSDKSignature("t", "n", 2, "https://a.example/p?q=1"); got == base {
		t.Error("JSSDKSignature ignores the timestamp")
	}
}
