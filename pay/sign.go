package pay

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
)

// SignType is the WeChat Pay v2 sign_type: the algorithm of the "sign"
// parameter of requests, responses and notifies.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
type SignType string

// The v2 sign types. A response or notify is signed with the sign type of
// the request that caused it (responses carry no sign_type field).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
const (
	SignTypeMD5        SignType = "MD5"         // the default
	SignTypeHMACSHA256 SignType = "HMAC-SHA256" // HMAC keyed with the API key
)

// Signature errors. They never carry key material.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
var (
	// ErrInvalidSignature: a sign is missing, empty or does not match.
	ErrInvalidSignature = errors.New("pay: invalid signature")
	// ErrInvalidSignType: a sign_type other than MD5 or HMAC-SHA256.
	ErrInvalidSignType = errors.New("pay: invalid sign_type")
)

// valid reports whether t is MD5 or HMAC-SHA256 (the empty type is not).
func (t SignType) valid() bool { return t == SignTypeMD5 || t == SignTypeHMACSHA256 }

// orMD5 returns t, or MD5 when t is empty.
func (t SignType) orMD5() SignType {
	if t == "" {
		return SignTypeMD5
	}
	return t
}

// SignString returns the string that WeChat Pay v2 signs (stringSignTemp):
// the params with a non-empty value, "sign" excluded, sorted by key (byte
// order), joined as k=v with "&", then "&key=" + apiKey. Values are used as
// they are, without URL-encoding. The result contains the API key: never
// log it.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func SignString(params map[string]string, apiKey string) string {
	keys := make([]string, 0, len(params))
	n := len("key=") + len(apiKey)
	for k, v := range params {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
		b.WriteByte('&')
	}
	b.WriteString("key=")
	b.WriteString(apiKey)
	return b.String()
}

// Sign returns the v2 sign of params (every non-empty param except "sign",
// whether the code knows it or not): MD5 of SignString, or HMAC-SHA256 of it
// keyed with apiKey, as upper-case hex (32 or 64 characters). An empty
// signType means MD5; any other than MD5 or HMAC-SHA256 is
// ErrInvalidSignType.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func Sign(params map[string]string, apiKey string, signType SignType) (string, error) {
	var h hash.Hash
	switch signType.orMD5() {
	case SignTypeMD5:
		h = md5.New()
	case SignTypeHMACSHA256:
		h = hmac.New(sha256.New, []byte(apiKey))
	default:
		return "", fmt.Errorf("%w %q", ErrInvalidSignType, signType)
	}
	h.Write([]byte(SignString(params, apiKey)))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
}

// CheckSign verifies params["sign"] (of a response or a notify) over every
// other non-empty param present, in constant time; upper- and lower-case hex
// are both accepted. A missing or empty sign, or one that does not match, is
// ErrInvalidSignature; an unknown signType is ErrInvalidSignType.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func CheckSign(params map[string]string, apiKey string, signType SignType) error {
	want, err := Sign(params, apiKey, signType)
	if err != nil {
		return err
	}
	got := params["sign"]
	if got == "" {
		return fmt.Errorf("%w: no sign", ErrInvalidSignature)
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToUpper(got)), []byte(want)) != 1 {
		return ErrInvalidSignature
	}
	return nil
}
