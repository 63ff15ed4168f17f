package payv3

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// AuthorizationSchema is the schema of the Authorization header of v3
// requests and the value of Wechatpay-Signature-Type: SHA256 with RSA
// (RSASSA-PKCS1-v1_5), keys of 2048 bits.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
const AuthorizationSchema = "WECHATPAY2-SHA256-RSA2048"

// requestMessage is the string a request signature covers:
// "METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n", URL being the path and query as
// sent (the request URI), BODY empty for a GET.
func requestMessage(method, canonicalURL, timestamp, nonce string, body []byte) []byte {
	b := make([]byte, 0, len(method)+len(canonicalURL)+len(timestamp)+len(nonce)+len(body)+5)
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, canonicalURL...)
	b = append(b, '\n')
	b = append(b, timestamp...)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	b = append(b, body...)
	return append(b, '\n')
}

// responseMessage is the string the platform's signature of a reply or a
// notify covers: "TIMESTAMP\nNONCE\nBODY\n" (an empty body, as of a 204,
// leaves the last line a lone "\n").
func responseMessage(timestamp, nonce string, body []byte) []byte {
	b := make([]byte, 0, len(timestamp)+len(nonce)+len(body)+3)
	b = append(b, timestamp...)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	b = append(b, body...)
	return append(b, '\n')
}

// authorizationHeader lays out the Authorization header value. schema is
// "WECHATPAY2-" + the algorithm name.
func authorizationHeader(schema, mchID, nonce, timestamp, serialNo, signature string) string {
	return schema + ` mchid="` + mchID + `",nonce_str="` + nonce + `",timestamp="` + timestamp +
		`",serial_no="` + serialNo + `",signature="` + signature + `"`
}

// signSHA256RSA signs message with SHA256withRSA (PKCS#1 v1.5, which is
// deterministic) and returns the signature in standard base64.
func signSHA256RSA(key *rsa.PrivateKey, message []byte) (string, error) {
	h := sha256.Sum256(message)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		return "", fmt.Errorf("payv3: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verifySHA256RSA checks a base64 SHA256withRSA signature of message.
func verifySHA256RSA(pub *rsa.PublicKey, message []byte, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return errors.New("signature is not base64")
	}
	h := sha256.Sum256(message)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		return errors.New("signature does not match")
	}
	return nil
}

// newNonce returns a random nonce_str: 26 characters of [A-Z2-7], 130 bits.
func newNonce() string { return rand.Text() }

// signer is the wxhttp.Authenticator of v3 calls: it signs every attempt
// afresh (new timestamp and nonce).
type signer struct {
	mchID, serialNo string
	key             *rsa.PrivateKey
	now             func() int64
}

// Authorize sets the Authorization header over r's request URI and body.
func (s *signer) Authorize(r *http.Request, body []byte) (wxhttp.Grant, error) {
	ts := strconv.FormatInt(s.now(), 10)
	nonce := newNonce()
	uri := r.URL.RequestURI()
	sig, err := signSHA256RSA(s.key, requestMessage(r.Method, uri, ts, nonce, body))
	if err != nil {
		return wxhttp.Grant{}, err
	}
	r.Header.Set("Authorization", authorizationHeader(AuthorizationSchema, s.mchID, nonce, ts, s.serialNo, sig))
	return wxhttp.Grant{}, nil
}

// validHeaderValue reports whether s can be quoted in the Authorization
// header and signed unambiguously: printable ASCII without quotes,
// backslashes or line breaks.
func validHeaderValue(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' })
}
