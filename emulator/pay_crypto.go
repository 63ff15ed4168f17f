package emulator

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
)

// The emulator implements WeChat Pay's cryptography itself, with the
// standard library only: it is the other side of the wire from the pay
// libraries and must not share their code.

// v2 sign types (sign_type).
const (
	signTypeMD5        = "MD5"
	signTypeHMACSHA256 = "HMAC-SHA256"
)

// v2SignString returns the string WeChat Pay v2 signs: the non-empty
// parameters but sign, sorted by key (bytewise), joined as k=v with &, then
// "&key=" + apiKey.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
func v2SignString(params map[string]string, apiKey string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
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

// v2Sign signs params with apiKey: MD5, or HMAC-SHA256 keyed with apiKey,
// over v2SignString, in upper-case hex. signType "" means MD5.
func v2Sign(params map[string]string, apiKey, signType string) (string, error) {
	var h hash.Hash
	switch signType {
	case "", signTypeMD5:
		h = md5.New()
	case signTypeHMACSHA256:
		h = hmac.New(sha256.New, []byte(apiKey))
	default:
		return "", fmt.Errorf("emulator: unknown sign_type %q", signType)
	}
	h.Write([]byte(v2SignString(params, apiKey)))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))), nil
}

// v2SignOK reports whether params["sign"] is their signature under apiKey
// (case-insensitive hex, constant-time compare).
func v2SignOK(params map[string]string, apiKey, signType string) bool {
	want, err := v2Sign(params, apiKey, signType)
	if err != nil {
		return false
	}
	got := strings.ToUpper(params["sign"])
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// aesGCMSeal encrypts plaintext as AEAD_AES_256_GCM with the APIv3 key,
// nonce (12 ASCII bytes) and associated data, and returns base64(ct||tag).
func aesGCMSeal(apiV3Key, nonce, associatedData string, plaintext []byte) (string, error) {
	block, err := aes.NewCipher([]byte(apiV3Key))
	if err != nil {
		return "", fmt.Errorf("emulator: AEAD_AES_256_GCM: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(nonce))
	if err != nil {
		return "", fmt.Errorf("emulator: AEAD_AES_256_GCM: %w", err)
	}
	ct := gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))
	return base64.StdEncoding.EncodeToString(ct), nil
}

// refundReqInfoKey returns the AES-256 key of a v2 refund notify's
// req_info: the 32 ASCII characters of lower-case hex md5(apiKey).
func refundReqInfoKey(apiKey string) []byte {
	sum := md5.Sum([]byte(apiKey))
	return []byte(hex.EncodeToString(sum[:]))
}

// aesECBEncrypt encrypts plaintext with AES-256-ECB and PKCS#7 padding and
// returns it in base64, as the req_info of a v2 refund notify.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
func aesECBEncrypt(key, plaintext []byte) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("emulator: AES-256-ECB: %w", err)
	}
	bs := block.BlockSize()
	pad := bs - len(plaintext)%bs
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	for i := 0; i < len(buf); i += bs {
		block.Encrypt(buf[i:i+bs], buf[i:i+bs])
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}

// rsaSign signs message with SHA256withRSA (RSASSA-PKCS1-v1_5) and returns
// it in base64.
func rsaSign(key *rsa.PrivateKey, message string) (string, error) {
	sum := sha256.Sum256([]byte(message))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("emulator: SHA256withRSA: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// rsaVerify reports whether sigB64 is a SHA256withRSA signature of message
// under pub.
func rsaVerify(pub *rsa.PublicKey, message, sigB64 string) bool {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || pub == nil {
		return false
	}
	sum := sha256.Sum256([]byte(message))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}

// parsePrivateKeyPEM parses a PEM RSA private key, PKCS#8 ("PRIVATE KEY")
// or PKCS#1 ("RSA PRIVATE KEY").
func parsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block found")
	}
	switch blk.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("not an RSA key (%T)", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("PEM block %q is not a private key", blk.Type)
}

// parsePublicKeyPEM parses a PEM certificate or RSA public key (PKIX
// "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"). serial is the certificate's
// serial number in upper-case hex, "" for a bare key.
func parsePublicKeyPEM(b []byte) (pub *rsa.PublicKey, serial string, err error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, "", errors.New("no PEM block found")
	}
	var k any
	switch blk.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, "", err
		}
		k, serial = c.PublicKey, fmt.Sprintf("%X", c.SerialNumber)
	case "PUBLIC KEY":
		if k, err = x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
			return nil, "", err
		}
	case "RSA PUBLIC KEY":
		if k, err = x509.ParsePKCS1PublicKey(blk.Bytes); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", fmt.Errorf("PEM block %q is neither a certificate nor a public key", blk.Type)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, "", fmt.Errorf("not an RSA key (%T)", k)
	}
	return rk, serial, nil
}

// publicKeyPEM encodes pub as a PKIX "PUBLIC KEY" PEM block.
func publicKeyPEM(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// privateKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block, the form
// of apiclient_key.pem.
func privateKeyPEM(key *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// nonceAlphabet is the alphabet of nonces the platform generates.
const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newNonce returns n random letters and digits.
func newNonce(n int) string { return randomString(n, nonceAlphabet) }
