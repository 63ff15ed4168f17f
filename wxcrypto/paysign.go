package wxcrypto

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
)

// SignType is the WeChat Pay v2 sign_type.
type SignType string

// Pay v2 sign types.
const (
	SignTypeMD5        SignType = "MD5"
	SignTypeHMACSHA256 SignType = "HMAC-SHA256"
)

// PaySignString returns the string that WeChat Pay v2 signs: the non-empty
// params except "sign", sorted by key (ASCII), joined as k=v with "&", then
// "&key=" + apiKey. It contains the API key: never log it.
func PaySignString(params map[string]string, apiKey string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
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

// PaySign signs params for WeChat Pay v2 with the merchant API key: MD5 or
// HMAC-SHA256 (keyed with apiKey) over PaySignString, upper-case hex. An
// empty signType means MD5. It returns ErrInvalidSignType for any other type.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func PaySign(params map[string]string, apiKey string, signType SignType) (string, error) {
	var h hash.Hash
	switch signType {
	case SignTypeMD5, "":
		h = md5.New()
	case SignTypeHMACSHA256:
		h = hmac.New(sha256.New, []byte(apiKey))
	default:
		return "", ErrInvalidSignType
	}
	h.Write([]byte(PaySignString(params, apiKey)))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
}

// CheckPaySign verifies the "sign" value in params (a notify or an API
// reply) in constant time. It returns ErrInvalidSignature when it is
// missing or wrong, ErrInvalidSignType for an unknown type.
func CheckPaySign(params map[string]string, apiKey string, signType SignType) error {
	want, err := PaySign(params, apiKey, signType)
	if err != nil {
		return err
	}
	got := strings.ToUpper(params["sign"])
	if got == "" || len(got) != len(want) || !Equal(got, want) {
		return ErrInvalidSignature
	}
	return nil
}

// DecryptRefundReqInfo decrypts the req_info of a WeChat Pay v2 refund
// notification: AES-256-ECB with key = lower-case md5_hex(apiKey) (32 ASCII
// bytes), PKCS#7. It returns the inner "<root>…</root>" XML.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func DecryptRefundReqInfo(apiKey, reqInfo string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(reqInfo)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, ErrInvalidCiphertext
	}
	block, err := aes.NewCipher(refundKey(apiKey))
	if err != nil {
		return nil, ErrInvalidKey
	}
	for i := 0; i < len(ct); i += aes.BlockSize {
		block.Decrypt(ct[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
	}
	return unpad(ct, aes.BlockSize)
}

// EncryptRefundReqInfo is the inverse of DecryptRefundReqInfo, used by the
// emulator to build refund notifications.
func EncryptRefundReqInfo(apiKey string, plaintext []byte) (string, error) {
	block, err := aes.NewCipher(refundKey(apiKey))
	if err != nil {
		return "", ErrInvalidKey
	}
	buf := pad(append([]byte(nil), plaintext...), aes.BlockSize)
	for i := 0; i < len(buf); i += aes.BlockSize {
		block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}

func refundKey(apiKey string) []byte {
	sum := md5.Sum([]byte(apiKey))
	return []byte(hex.EncodeToString(sum[:]))
}
