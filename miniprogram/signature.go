package miniprogram

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// RawDataSignature returns sha1_hex(rawData + sessionKey) (40 lower-case
// hex digits): the signature wx.getUserInfo returns beside rawData, with the
// session_key as WeChat gave it (base64 text, not decoded).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
func RawDataSignature(rawData, sessionKey string) string {
	h := sha1.New()
	h.Write([]byte(rawData))
	h.Write([]byte(sessionKey))
	return hex.EncodeToString(h.Sum(nil))
}

// CheckRawDataSignature verifies that signature (hex, either case) is
// RawDataSignature(rawData, sessionKey), comparing in constant time. It
// returns nil or ErrSignatureMismatch.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
func CheckRawDataSignature(rawData, signature, sessionKey string) error {
	want := RawDataSignature(rawData, sessionKey)
	if len(signature) != len(want) {
		return ErrSignatureMismatch
	}
	got := []byte(signature)
	for i, c := range got {
		if 'A' <= c && c <= 'F' {
			got[i] = c + 'a' - 'A'
		}
	}
	if subtle.ConstantTimeCompare(got, []byte(want)) != 1 {
		return ErrSignatureMismatch
	}
	return nil
}

// SessionSignature returns hex(hmac_sha256(key = sessionKey, "")), the
// signature of the user's login state that wxa/checksession verifies: the
// HMAC of the empty string keyed with the session_key as WeChat gave it
// (base64 text, not decoded). It proves knowledge of the session_key
// without revealing it, but treat it as a credential too.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
func SessionSignature(sessionKey string) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	return hex.EncodeToString(m.Sum(nil))
}
