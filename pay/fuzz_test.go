package pay

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/internal/corpus"
)

// seedXML adds every pay/v2 corpus sample and a few signed documents.
func seedXML(f *testing.F) {
	for _, p := range corpus.Glob(f, "pay/v2/*.xml") {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(wireRender(signed(payNotify(), testKey, SignTypeMD5)))
	f.Add(wireRender(signed(ok(map[string]string{"prepay_id": "wx1", "trade_state": "SUCCESS", "refund_count": "1", "refund_id_0": "r", "coupon_count": "1", "coupon_fee_0": "1"}), testKey, SignTypeMD5)))
	f.Add([]byte("<xml><a><![CDATA[x]]></a></xml>"))
	f.Add([]byte(""))
}

// FuzzDecodeXML: DecodeXML never panics, fails only with ErrMalformed, and
// what it accepts survives EncodeXML and a second decode unchanged.
func FuzzDecodeXML(f *testing.F) {
	seedXML(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeXML(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeXML error %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc, err := EncodeXML(m)
		if err != nil {
			return // names EncodeXML does not produce (non-ASCII, "-", ".")
		}
		back, err := DecodeXML(enc)
		if err != nil || !cmp.Equal(m, back) {
			t.Fatalf("round trip of %q: %v, %v; want %v", enc, back, err, m)
		}
	})
}

// FuzzParseNotify: no input makes ParseNotify panic, and whatever it
// accepts carries a sign that verifies over every field.
func FuzzParseNotify(f *testing.F) {
	seedXML(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseNotify(b, testKey, SignTypeMD5)
		if n == nil {
			return
		}
		if err != nil && !errors.As(err, new(*Error)) {
			t.Fatalf("ParseNotify returned a notify with error %v", err)
		}
		if cerr := CheckSign(n.Raw, testKey, SignTypeMD5); cerr != nil {
			t.Fatalf("accepted a notify whose sign does not verify: %v", cerr)
		}
	})
}

// FuzzParseRefundNotify: no input makes ParseRefundNotify panic.
func FuzzParseRefundNotify(f *testing.F) {
	seedXML(f)
	key := "OF4Ne3znh8KqL0V4NqmALQa0uXMYKcEk" // the key of the corpus refund notify
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseRefundNotify(b, key)
		if (n == nil) == (err == nil) {
			t.Fatalf("ParseRefundNotify = %v, %v", n, err)
		}
		if n != nil && (n.RefundID == "" || n.OutRefundNo == "") {
			t.Fatalf("accepted a refund notify without ids: %+v", n)
		}
	})
}

// FuzzReply: no reply makes the client's checks or any typed decoder
// panic; a reply is accepted only with a verified sign.
func FuzzReply(f *testing.F) {
	seedXML(f)
	c, err := NewClient(testAppID, testMchID, testKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := c.decodeReply("pay/x", b); err == nil {
			if CheckSign(m, testKey, SignTypeMD5) != nil {
				t.Fatal("accepted a reply whose sign does not verify")
			}
		}
		// The typed decoders run on verified maps; feed them any map.
		m, err := DecodeXML(b)
		if err != nil {
			return
		}
		decodePrepay("p", m)
		decodeOrder("p", m)
		decodeRefund("p", m)
		decodeOrderRefunds("p", m)
	})
}

// tamper returns s with the byte at pos (modulo len(s)) replaced by b, or
// by b^1 when that is the byte already there; ok is false for an empty s.
func tamper(s string, pos uint, b byte) (string, bool) {
	if s == "" {
		return s, false
	}
	i := int(pos % uint(len(s)))
	if s[i] == b {
		b ^= 1
	}
	return s[:i] + string([]byte{b}) + s[i+1:], true
}

// FuzzSignRoundTrip signs any two parameters (MD5 and HMAC-SHA256) and
// checks the sign against the test's own signer, that CheckSign accepts it
// (in either case) and refuses it once any byte of the sign, of a signed
// value or of the API key changes. An unknown sign type is
// ErrInvalidSignType.
func FuzzSignRoundTrip(f *testing.F) {
	for _, v := range loadVectors[signVector](f, "pay", "v2_sign.json") {
		for k, val := range v.Params {
			f.Add(k, val, "mch_id", "10000100", v.APIKey, v.SignType == SignTypeHMACSHA256, uint8(0), uint(3), byte('x'))
			break
		}
	}
	f.Add("appid", "wxd930ea5d5a258f4f", "body", "test", "192006250b4c09247ec02edce69f6a2d", false, uint8(2), uint(0), byte('Z'))
	f.Add("sign", "x", "", "", "k", true, uint8(1), uint(0), byte(0))
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, apiKey string, useHMAC bool, which uint8, pos uint, b byte) {
		st := SignTypeMD5
		if useHMAC {
			st = SignTypeHMACSHA256
		}
		params := map[string]string{k1: v1, k2: v2}
		sign, err := Sign(params, apiKey, st)
		if err != nil {
			t.Fatalf("Sign = %v", err)
		}
		if want := wireSign(params, apiKey, st); sign != want {
			t.Fatalf("Sign = %s, the test's signer %s", sign, want)
		}
		if _, err := Sign(params, apiKey, "SHA1"); !errors.Is(err, ErrInvalidSignType) {
			t.Fatalf("Sign with an unknown type = %v", err)
		}
		for _, s := range []string{sign, strings.ToLower(sign)} {
			params["sign"] = s
			if err := CheckSign(params, apiKey, st); err != nil {
				t.Fatalf("CheckSign(%q) = %v", s, err)
			}
		}
		changedSign, _ := tamper(sign, pos, b)
		if strings.EqualFold(changedSign, sign) {
			changedSign, _ = tamper(sign, pos, sign[int(pos%uint(len(sign)))]^0x20^1)
		}
		params["sign"] = changedSign
		if err := CheckSign(params, apiKey, st); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("CheckSign of a changed sign %q = %v", changedSign, err)
		}
		params["sign"] = sign
		switch which % 3 {
		case 0: // the API key
			if changed, ok := tamper(apiKey, pos, b); ok {
				if err := CheckSign(params, changed, st); !errors.Is(err, ErrInvalidSignature) {
					t.Fatalf("CheckSign with the API key changed = %v", err)
				}
			}
		default: // a signed value (empty values and "sign" are not signed)
			k := k1
			if which%3 == 2 {
				k = k2
			}
			if k == "sign" || params[k] == "" {
				return
			}
			changed, _ := tamper(params[k], pos, b)
			params[k] = changed
			if err := CheckSign(params, apiKey, st); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("CheckSign with %s changed to %q = %v", k, changed, err)
			}
		}
	})
}
