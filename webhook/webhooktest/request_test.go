package webhooktest_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
	"github.com/wxkit/wxkit/wxcrypto"
)

const (
	token  = "webhooktest-token"
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	appID  = "wxb11529c136998cb6"
	msgXML = `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>7</MsgId></xml>`
)

// TestRequestsAsWeChat checks the query parameters and bodies the builders
// produce against the signature rules, independently of webhook.Server.
func TestRequestsAsWeChat(t *testing.T) {
	opts := &webhooktest.RequestOptions{Timestamp: 1700000000, Nonce: "123456789"}
	for _, mode := range []webhook.Mode{webhook.ModePlain, webhook.ModeCompat, webhook.ModeSafe} {
		t.Run(string(mode), func(t *testing.T) {
			r := webhooktest.NewEncryptedRequest(token, aesKey, appID, []byte(msgXML), mode, opts)
			q := r.URL.Query()
			if q.Get("timestamp") != "1700000000" || q.Get("nonce") != "123456789" || q.Get("openid") != "oUser" {
				t.Errorf("query %v", q)
			}
			if err := wxcrypto.CheckSignature(q.Get("signature"), token, "1700000000", "123456789"); err != nil {
				t.Errorf("signature: %v", err)
			}
			body, _ := io.ReadAll(r.Body)
			if mode == webhook.ModePlain {
				if string(body) != msgXML || q.Has("encrypt_type") || q.Has("msg_signature") {
					t.Errorf("plain request: body %q, query %v", body, q)
				}
				return
			}
			if q.Get("encrypt_type") != "aes" {
				t.Errorf("encrypt_type %q", q.Get("encrypt_type"))
			}
			env, err := message.ParseEnvelope(body)
			if err != nil {
				t.Fatalf("envelope: %v", err)
			}
			if err := wxcrypto.CheckMsgSignature(q.Get("msg_signature"), token, "1700000000", "123456789", env.Encrypt); err != nil {
				t.Errorf("msg_signature: %v", err)
			}
			c, _ := wxcrypto.NewCipher(aesKey, appID)
			plain, err := c.Decrypt(env.Encrypt)
			if err != nil || string(plain) != msgXML {
				t.Errorf("Encrypt decrypts to %q, %v", plain, err)
			}
			hasPlainFields := bytes.Contains(body, []byte("<Content><![CDATA[hi]]></Content>"))
			if hasPlainFields != (mode == webhook.ModeCompat) {
				t.Errorf("%s body carries plaintext fields: %v (%s)", mode, hasPlainFields, body)
			}
			if env.ToUserName != "gh_1" {
				t.Errorf("ToUserName %q", env.ToUserName)
			}
		})
	}
}

func TestHandshakeRequests(t *testing.T) {
	opts := &webhooktest.RequestOptions{Timestamp: 1700000000, Nonce: "42"}
	q := webhooktest.NewHandshakeRequest(token, "echo+me", opts).URL.Query()
	if q.Get("echostr") != "echo+me" || wxcrypto.CheckSignature(q.Get("signature"), token, "1700000000", "42") != nil {
		t.Errorf("plain handshake query %v", q)
	}
	q = webhooktest.NewEncryptedHandshakeRequest(token, aesKey, appID, "echo+me", opts).URL.Query()
	if err := wxcrypto.CheckMsgSignature(q.Get("msg_signature"), token, "1700000000", "42", q.Get("echostr")); err != nil {
		t.Errorf("msg_signature: %v", err)
	}
	c, _ := wxcrypto.NewCipher(aesKey, appID)
	if got, err := c.Decrypt(q.Get("echostr")); err != nil || string(got) != "echo+me" {
		t.Errorf("echostr decrypts to %q, %v", got, err)
	}
}

func TestParseReply(t *testing.T) {
	c, _ := wxcrypto.NewCipher(aesKey, appID)
	reply := `<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[yo]]></Content></xml>`
	enc, _ := c.Encrypt([]byte(reply))
	sig := wxcrypto.MsgSignature(token, "1700000001", "99", enc)
	env := message.AppendEnvelope(nil, enc, sig, "1700000001", "99")

	got, err := webhooktest.ParseReply(token, aesKey, appID, env)
	if err != nil {
		t.Fatalf("ParseReply: %v", err)
	}
	if txt, ok := got.Reply.(*message.Text); !ok || txt.Content != "yo" {
		t.Errorf("reply %#v", got.Reply)
	}
	if _, err := webhooktest.ParseReply("other", aesKey, appID, env); !errors.Is(err, wxcrypto.ErrInvalidSignature) {
		t.Errorf("wrong token: %v, want ErrInvalidSignature", err)
	}
	if _, err := webhooktest.ParseReply(token, aesKey, "wxother", env); !errors.Is(err, wxcrypto.ErrInvalidAppID) {
		t.Errorf("wrong AppID: %v, want ErrInvalidAppID", err)
	}
	if _, err := webhooktest.ParseReply(token, aesKey, appID, []byte("success")); !errors.Is(err, webhooktest.ErrSuccess) {
		t.Errorf("success: %v", err)
	}
	if got, err := webhooktest.ParseReply(token, aesKey, appID, []byte(reply)); err != nil || !strings.Contains(got.Reply.(*message.Text).Content, "yo") {
		t.Errorf("plaintext reply: %v, %v", got, err)
	}
}
