package webhooktest_test

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
	"github.com/wxkit/wxkit/wxcrypto"
)

func TestJSONRequests(t *testing.T) {
	t.Parallel()
	const (
		token  = "AAAAA"
		aesKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		appID  = "wxba5fad812f8e6fb9"
		msg    = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`
	)
	opts := &webhooktest.RequestOptions{Timestamp: 1714112445, Nonce: "415670741"}
	c, err := wxcrypto.NewCipher(aesKey, appID)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(t *testing.T, body io.Reader) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.NewDecoder(body).Decode(&m); err != nil {
			t.Fatalf("body is not a JSON object: %v", err)
		}
		return m
	}

	r := webhooktest.NewSignedJSONRequest(token, []byte(msg), opts)
	q := r.URL.Query()
	if err := wxcrypto.CheckSignature(q.Get("signature"), token, "1714112445", "415670741"); err != nil {
		t.Errorf("signature: %v", err)
	}
	if q.Get("openid") != "o9AgO5Kd5ggOC-bXrbNODIiE3bGY" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("openid %q, Content-Type %q", q.Get("openid"), r.Header.Get("Content-Type"))
	}

	var plain map[string]any
	json.Unmarshal([]byte(msg), &plain)
	for _, mode := range []webhook.Mode{webhook.ModeSafe, webhook.ModeCompat} {
		r := webhooktest.NewEncryptedJSONRequest(token, aesKey, appID, []byte(msg), mode, opts)
		q := r.URL.Query()
		body := decode(t, r.Body)
		enc, _ := body["Encrypt"].(string)
		if err := wxcrypto.CheckMsgSignature(q.Get("msg_signature"), token, "1714112445", "415670741", enc); err != nil || q.Get("encrypt_type") != "aes" {
			t.Errorf("%s: msg_signature %v, encrypt_type %q", mode, err, q.Get("encrypt_type"))
		}
		if got, err := c.Decrypt(enc); err != nil || string(got) != msg {
			t.Errorf("%s: Encrypt decrypts to %q, %v; want the message", mode, got, err)
		}
		delete(body, "Encrypt")
		want := map[string]any{"ToUserName": "gh_97417a04a28d"}
		if mode == webhook.ModeCompat {
			want = plain
		}
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("%s: body besides Encrypt (-want +got):\n%s", mode, diff)
		}
	}
	if got := string(webhooktest.EncryptedJSONBody([]byte(" {} "), "E", webhook.ModeCompat)); got != `{"Encrypt":"E"}` {
		t.Errorf("compat body of {} = %s", got)
	}
}
