package pay

import (
	"crypto/aes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

// ErrInvalidReqInfo: a refund notify's req_info is not valid base64, not a
// whole number of AES blocks, or does not decrypt (wrong API key or
// tampered data: its PKCS#7 padding is malformed).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
var ErrInvalidReqInfo = errors.New("pay: invalid req_info")

// DecryptRefundReqInfo decrypts the req_info of a v2 refund notify:
// base64, AES-256-ECB with the key = the 32 ASCII characters of the
// lower-case hex MD5 of apiKey, PKCS#7 padding. It returns the inner
// "<root>…</root>" XML, or an error wrapping ErrInvalidReqInfo.
//
// ECB carries no integrity check: a wrong key is detected only by the
// padding (and by the XML that follows), which is why ParseRefundNotify also
// parses and checks the plaintext.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func DecryptRefundReqInfo(apiKey, reqInfo string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(reqInfo)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, ErrInvalidReqInfo
	}
	block, err := aes.NewCipher(refundKey(apiKey))
	if err != nil {
		return nil, err // unreachable: the key is always 32 bytes
	}
	for i := 0; i < len(ct); i += aes.BlockSize {
		block.Decrypt(ct[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
	}
	pt, ok := unpad(ct)
	if !ok {
		return nil, ErrInvalidReqInfo
	}
	return pt, nil
}

// EncryptRefundReqInfo is the inverse of DecryptRefundReqInfo: it returns
// the base64 req_info of plaintext (a "<root>…</root>" document). ECB is
// deterministic, so the same input always gives the same req_info. The
// emulator uses it to build refund notifies.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func EncryptRefundReqInfo(apiKey string, plaintext []byte) (string, error) {
	block, err := aes.NewCipher(refundKey(apiKey))
	if err != nil {
		return "", err // unreachable: the key is always 32 bytes
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+n)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(n)
	}
	for i := 0; i < len(buf); i += aes.BlockSize {
		block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}

// refundKey is the AES-256 key of req_info: lower-case hex md5(apiKey).
func refundKey(apiKey string) []byte {
	sum := md5.Sum([]byte(apiKey))
	return []byte(hex.EncodeToString(sum[:]))
}

// unpad strips PKCS#7 padding (1 to 16 bytes, all equal), checking every
// padding byte without branching on them.
func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize {
		return nil, false
	}
	good := 1
	for _, c := range b[len(b)-n:] {
		good &= subtle.ConstantTimeByteEq(c, byte(n))
	}
	if good != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}
