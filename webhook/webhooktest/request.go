package webhooktest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/wxcrypto"
)

// RequestOptions adjusts the requests built by this package. The zero value
// (or nil) gives what WeChat sends now.
type RequestOptions struct {
	// Target is the request URL path (and host); default "/wx".
	Target string
	// Timestamp is the timestamp parameter in Unix seconds; default now.
	Timestamp int64
	// Nonce is the nonce parameter; default 10 random digits.
	Nonce string
	// OpenID is the openid parameter; default the message's FromUserName
	// (omitted when there is none, as for Open Platform pushes).
	OpenID string
}

func (o *RequestOptions) target() string {
	if o == nil || o.Target == "" {
		return "/wx"
	}
	return o.Target
}

func (o *RequestOptions) timestamp() string {
	if o == nil || o.Timestamp == 0 {
		return strconv.FormatInt(time.Now().Unix(), 10)
	}
	return strconv.FormatInt(o.Timestamp, 10)
}

func (o *RequestOptions) nonce() string {
	if o != nil && o.Nonce != "" {
		return o.Nonce
	}
	return Nonce()
}

func (o *RequestOptions) openID(msgXML []byte) string {
	if o != nil && o.OpenID != "" {
		return o.OpenID
	}
	if m, err := message.Parse(bytes.Clone(msgXML)); err == nil {
		return m.FromUserName
	}
	return ""
}

// Nonce returns 10 random decimal digits, the shape of WeChat's nonce.
func Nonce() string {
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b[:])
}

// param is one query parameter, kept in WeChat's order.
type param struct{ k, v string }

func buildTarget(target string, ps []param) string {
	var sb strings.Builder
	sb.WriteString(target)
	sep := byte('?')
	if strings.Contains(target, "?") {
		sep = '&'
	}
	for _, p := range ps {
		if p.v == "" {
			continue
		}
		sb.WriteByte(sep)
		sep = '&'
		sb.WriteString(p.k)
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(p.v))
	}
	return sb.String()
}

func newPost(target string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "text/xml")
	r.Header.Set("User-Agent", "Mozilla/4.0")
	return r
}

// NewSignedRequest returns a plain-mode push: POST body with
// ?signature&timestamp&nonce&openid, signature = sha1(sort(token,
// timestamp, nonce)).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
func NewSignedRequest(token string, body []byte, opts *RequestOptions) *http.Request {
	ts, nonce := opts.timestamp(), opts.nonce()
	return newPost(buildTarget(opts.target(), []param{
		{"signature", wxcrypto.Signature(token, ts, nonce)},
		{"timestamp", ts},
		{"nonce", nonce},
		{"openid", opts.openID(body)},
	}), body)
}

// NewEncryptedRequest returns a push of msgXML (the plaintext message) in
// compatible or safe mode, encrypted with aesKey for appID: the query has
// signature, timestamp, nonce, openid, encrypt_type=aes and msg_signature =
// sha1(sort(token, timestamp, nonce, Encrypt)). In safe mode the body is
// <xml><ToUserName/><Encrypt/></xml>; in compatible mode it is msgXML with
// an <Encrypt> element added at the end. ModePlain gives NewSignedRequest.
// It panics on an invalid aesKey.
func NewEncryptedRequest(token, aesKey, appID string, msgXML []byte, mode webhook.Mode, opts *RequestOptions) *http.Request {
	if mode == webhook.ModePlain {
		return NewSignedRequest(token, msgXML, opts)
	}
	c, err := wxcrypto.NewCipher(aesKey, appID)
	if err != nil {
		panic(fmt.Sprintf("webhooktest: %v", err))
	}
	enc, err := c.Encrypt(msgXML)
	if err != nil {
		panic(fmt.Sprintf("webhooktest: %v", err))
	}
	body := EncryptedBody(msgXML, enc, mode)
	ts, nonce := opts.timestamp(), opts.nonce()
	return newPost(buildTarget(opts.target(), []param{
		{"signature", wxcrypto.Signature(token, ts, nonce)},
		{"timestamp", ts},
		{"nonce", nonce},
		{"openid", opts.openID(msgXML)},
		{"encrypt_type", "aes"},
		{"msg_signature", wxcrypto.MsgSignature(token, ts, nonce, enc)},
	}), body)
}

// NewEnvelopeRequest returns an encrypted push whose body and Encrypt value
// are given as they were captured (a recorded envelope_xml), signed with
// the given timestamp and nonce: for replaying published vectors.
func NewEnvelopeRequest(token, envelopeXML, encrypt, timestamp, nonce string, opts *RequestOptions) *http.Request {
	return newPost(buildTarget(opts.target(), []param{
		{"signature", wxcrypto.Signature(token, timestamp, nonce)},
		{"timestamp", timestamp},
		{"nonce", nonce},
		{"encrypt_type", "aes"},
		{"msg_signature", wxcrypto.MsgSignature(token, timestamp, nonce, encrypt)},
	}), []byte(envelopeXML))
}

// EncryptedBody returns the POST body WeChat sends for msgXML whose
// ciphertext is enc: the safe-mode envelope, or for ModeCompat msgXML with
// <Encrypt> appended inside its root element.
func EncryptedBody(msgXML []byte, enc string, mode webhook.Mode) []byte {
	var b []byte
	if mode == webhook.ModeCompat {
		end := bytes.LastIndex(msgXML, []byte("</"))
		if end < 0 {
			end = len(msgXML)
		}
		b = append(b, msgXML[:end]...)
		b = append(b, "<Encrypt><![CDATA["...)
		b = append(b, enc...)
		b = append(b, "]]></Encrypt>\n"...)
		return append(b, msgXML[end:]...)
	}
	b = append(b, "<xml>\n"...)
	if m, err := message.Parse(bytes.Clone(msgXML)); err == nil && m.ToUserName != "" {
		b = append(b, "<ToUserName><![CDATA["...)
		b = append(b, m.ToUserName...)
		b = append(b, "]]></ToUserName>\n"...)
	}
	b = append(b, "<Encrypt><![CDATA["...)
	b = append(b, enc...)
	return append(b, "]]></Encrypt>\n</xml>"...)
}

// NewHandshakeRequest returns the URL-verification GET of the Official
// Account: ?signature&timestamp&nonce&echostr, the echostr in plaintext.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
func NewHandshakeRequest(token, echostr string, opts *RequestOptions) *http.Request {
	ts, nonce := opts.timestamp(), opts.nonce()
	return httptest.NewRequest(http.MethodGet, buildTarget(opts.target(), []param{
		{"signature", wxcrypto.Signature(token, ts, nonce)},
		{"timestamp", ts},
		{"nonce", nonce},
		{"echostr", echostr},
	}), nil)
}

// NewEncryptedHandshakeRequest returns a WeCom/Open-Platform style URL
// verification: ?msg_signature&timestamp&nonce&echostr with echostr
// encrypted for appID (the server must echo the plaintext). It panics on
// an invalid aesKey.
func NewEncryptedHandshakeRequest(token, aesKey, appID, echostr string, opts *RequestOptions) *http.Request {
	c, err := wxcrypto.NewCipher(aesKey, appID)
	if err != nil {
		panic(fmt.Sprintf("webhooktest: %v", err))
	}
	enc, err := c.Encrypt([]byte(echostr))
	if err != nil {
		panic(fmt.Sprintf("webhooktest: %v", err))
	}
	ts, nonce := opts.timestamp(), opts.nonce()
	return httptest.NewRequest(http.MethodGet, buildTarget(opts.target(), []param{
		{"msg_signature", wxcrypto.MsgSignature(token, ts, nonce, enc)},
		{"timestamp", ts},
		{"nonce", nonce},
		{"echostr", enc},
	}), nil)
}
