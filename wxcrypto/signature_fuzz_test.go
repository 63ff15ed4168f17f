package wxcrypto

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
)

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
	return s[:i] + string(b) + s[i+1:], true
}

// tamperHex is tamper for a hex digest compared without case: the new byte
// is never the other case of the old one.
func tamperHex(s string, pos uint, b byte) string {
	i := int(pos % uint(len(s)))
	if lower(b) == lower(s[i]) {
		b = lower(s[i]) ^ 1
	}
	return s[:i] + string(b) + s[i+1:]
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// FuzzSignatureRoundTrip signs any token, timestamp, nonce and Encrypt
// with Signature and MsgSignature and checks that:
//   - the signatures are 40 lower-case hex digits, equal to SortedSHA1 and
//     AppendMsgSignature, and verify (in upper case too);
//   - changing any one byte of a signature, or of any one signed value,
//     makes the check fail with ErrInvalidSignature, as does a truncated
//     signature.
func FuzzSignatureRoundTrip(f *testing.F) {
	for _, v := range loadVectors[signatureVector](f, "crypto/signature.json") {
		f.Add(v.Token, v.Timestamp, v.Nonce, v.Encrypt, uint8(0), uint(0), byte('0'))
	}
	f.Add("", "", "", "", uint8(3), uint(7), byte('a'))
	f.Add("tok", "1409735669", "1320562132", strings.Repeat("A", 3000), uint8(2), uint(2999), byte('B'))
	f.Fuzz(func(t *testing.T, token, timestamp, nonce, encrypt string, which uint8, pos uint, b byte) {
		sig := Signature(token, timestamp, nonce)
		msig := MsgSignature(token, timestamp, nonce, encrypt)
		if !isLowerHex(sig, 40) || !isLowerHex(msig, 40) {
			t.Fatalf("signatures %q, %q are not 40 lower-case hex digits", sig, msig)
		}
		if sig != SortedSHA1("", token, timestamp, nonce) || msig != SortedSHA1("", token, timestamp, nonce, encrypt) {
			t.Fatal("Signature or MsgSignature differs from SortedSHA1")
		}
		if got := string(AppendMsgSignature([]byte("x"), token, timestamp, nonce, encrypt)); got != "x"+msig {
			t.Fatalf("AppendMsgSignature = %q, want %q", got, "x"+msig)
		}
		for _, s := range []string{sig, strings.ToUpper(sig)} {
			if err := CheckSignature(s, token, timestamp, nonce); err != nil {
				t.Fatalf("CheckSignature(%q) = %v", s, err)
			}
		}
		for _, s := range []string{msig, strings.ToUpper(msig)} {
			if err := CheckMsgSignature(s, token, timestamp, nonce, encrypt); err != nil {
				t.Fatalf("CheckMsgSignature(%q) = %v", s, err)
			}
		}

		if err := CheckSignature(tamperHex(sig, pos, b), token, timestamp, nonce); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("CheckSignature of a changed signature = %v", err)
		}
		if err := CheckMsgSignature(tamperHex(msig, pos, b), token, timestamp, nonce, encrypt); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("CheckMsgSignature of a changed signature = %v", err)
		}
		if CheckSignature(sig[:39], token, timestamp, nonce) == nil || CheckMsgSignature(msig+"0", token, timestamp, nonce, encrypt) == nil {
			t.Fatal("a signature of the wrong length verified")
		}

		vals := []string{token, timestamp, nonce, encrypt}
		i := int(which) % len(vals)
		changed, ok := tamper(vals[i], pos, b)
		if !ok {
			return
		}
		vals[i] = changed
		if err := CheckMsgSignature(msig, vals[0], vals[1], vals[2], vals[3]); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("CheckMsgSignature with value %d changed to %q = %v", i, changed, err)
		}
		if i < 3 {
			if err := CheckSignature(sig, vals[0], vals[1], vals[2]); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("CheckSignature with value %d changed to %q = %v", i, changed, err)
			}
		}
	})
}

// FuzzJSSDKSignature checks the wx.config signature against its definition
// (the hex SHA-1 of "jsapi_ticket=T&noncestr=N&timestamp=TS&url=U", U
// without its fragment): both entry points agree, a fragment does not
// change it, and changing any byte of the ticket changes it.
func FuzzJSSDKSignature(f *testing.F) {
	f.Add("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg", "Wm3WZYTPz0wzccnW", int64(1414587457), "http://mp.weixin.qq.com?params=value#frag", uint(0), byte('x'))
	f.Add("", "", int64(-1), "#", uint(0), byte(0))
	f.Fuzz(func(t *testing.T, ticket, nonce string, ts int64, pageURL string, pos uint, b byte) {
		sig := JSSDKSignature(ticket, nonce, ts, pageURL)
		if sig != JSSDKSignatureString(ticket, nonce, strconv.FormatInt(ts, 10), pageURL) {
			t.Fatal("JSSDKSignature and JSSDKSignatureString differ")
		}
		u, _, _ := strings.Cut(pageURL, "#")
		sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" + strconv.FormatInt(ts, 10) + "&url=" + u))
		if sig != hex.EncodeToString(sum[:]) {
			t.Fatalf("JSSDKSignature = %s, want the SHA-1 of the documented string", sig)
		}
		if JSSDKSignature(ticket, nonce, ts, u+"#x") != sig {
			t.Fatal("a fragment changed the signature")
		}
		if changed, ok := tamper(ticket, pos, b); ok && JSSDKSignature(changed, nonce, ts, pageURL) == sig {
			t.Fatalf("changing the ticket to %q kept the signature", changed)
		}
	})
}
