package webhooktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/wxcrypto"
)

// jsonOpenID returns the openid parameter of a JSON push: opts.OpenID, or
// the message's FromUserName.
func (o *RequestOptions) jsonOpenID(msgJSON []byte) string {
	if o != nil && o.OpenID != "" {
		return o.OpenID
	}
	var m struct{ FromUserName string }
	json.Unmarshal(msgJSON, &m) // not a push: no openid
	return m.FromUserName
}

func newJSONPost(target string, body []byte) *http.Request {
	r := newPost(target, body)
	r.Header.Set("Content-Type", "application/json")
	return r
}

// NewSignedJSONRequest returns a plain-mode push in JSON format (a Mini
// Program configured for JSON): POST msgJSON with
// ?signature&timestamp&nonce&openid, as NewSignedRequest.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
func NewSignedJSONRequest(token string, msgJSON []byte, opts *RequestOptions) *http.Request {
	ts, nonce := opts.timestamp(), opts.nonce()
	return newJSONPost(buildTarget(opts.target(), []param{
		{"signature", wxcrypto.Signature(token, ts, nonce)},
		{"timestamp", ts},
		{"nonce", nonce},
		{"openid", opts.jsonOpenID(msgJSON)},
	}), msgJSON)
}

// NewEncryptedJSONRequest returns a push of msgJSON (the plaintext message
// object) in JSON format, in compatible or safe mode, encrypted with aesKey
// for appID: the query is that of NewEncryptedRequest; in safe mode the
// body is {"ToUserName","Encrypt"}, in compatible mode msgJSON with an
// "Encrypt" member added at the end. ModePlain gives NewSignedJSONRequest.
// msgJSON may be anything in safe mode (to test refusals); it panics on an
// invalid aesKey, or in compatible mode on a msgJSON that is not a JSON
// object.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
func NewEncryptedJSONRequest(token, aesKey, appID string, msgJSON []byte, mode webhook.Mode, opts *RequestOptions) *http.Request {
	if mode == webhook.ModePlain {
		return NewSignedJSONRequest(token, msgJSON, opts)
	}
	c, err := wxcrypto.NewCipher(aesKey, appID)
	if err != nil {
		panic(fmt.Sprintf("webhooktest: %v", err))
	}
	enc, err := c.Encrypt(msgJSON)
	if err != nil {
		panic(fmt.Sprintf("webhooktest: %v", err))
	}
	ts, nonce := opts.timestamp(), opts.nonce()
	return newJSONPost(buildTarget(opts.target(), []param{
		{"signature", wxcrypto.Signature(token, ts, nonce)},
		{"timestamp", ts},
		{"nonce", nonce},
		{"openid", opts.jsonOpenID(msgJSON)},
		{"encrypt_type", "aes"},
		{"msg_signature", wxcrypto.MsgSignature(token, ts, nonce, enc)},
	}), EncryptedJSONBody(msgJSON, enc, mode))
}

// EncryptedJSONBody returns the POST body WeChat sends in JSON format for
// msgJSON whose ciphertext is enc: {"ToUserName","Encrypt"} (ToUserName
// empty when msgJSON has none), or for ModeCompat msgJSON with "Encrypt"
// added as its last member; it panics then on a msgJSON that is not a JSON
// object.
func EncryptedJSONBody(msgJSON []byte, enc string, mode webhook.Mode) []byte {
	encJSON, _ := json.Marshal(enc)
	if mode == webhook.ModeCompat {
		t := bytes.TrimSpace(msgJSON)
		if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
			panic("webhooktest: EncryptedJSONBody: msgJSON is not a JSON object")
		}
		b := append([]byte(nil), t[:len(t)-1]...)
		if len(bytes.TrimSpace(t[1:len(t)-1])) > 0 {
			b = append(b, ',')
		}
		b = append(b, `"Encrypt":`...)
		b = append(b, encJSON...)
		return append(b, '}')
	}
	var m struct{ ToUserName string }
	json.Unmarshal(msgJSON, &m)
	to, _ := json.Marshal(m.ToUserName)
	b := []byte(`{"ToUserName":`)
	b = append(b, to...)
	b = append(b, `,"Encrypt":`...)
	b = append(b, encJSON...)
	return append(b, '}')
}
