package webhook_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
	"github.com/wxkit/wxkit/wxcrypto"
)

// secretBody marks the message text: it must never reach a log line.
const secretBody = "Confidential-Body-Text"

// pushXML is a text push with every required element; edit changes it.
func pushXML(edit func(s string) string) []byte {
	s := `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>` +
		`<CreateTime>` + strconv.FormatInt(time.Now().Unix(), 10) + `</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
		`<Content><![CDATA[` + secretBody + `]]></Content><MsgId>42</MsgId></xml>`
	return []byte(edit(s))
}

// dropElem removes the element name from a push built by pushXML.
func dropElem(name string) func(string) string {
	return func(s string) string {
		i := strings.Index(s, "<"+name+">")
		j := strings.Index(s, "</"+name+">")
		return s[:i] + s[j+len(name)+3:]
	}
}

// inContent puts raw bytes into the Content of a push built by pushXML.
func inContent(raw string) func(string) string {
	return func(s string) string { return strings.Replace(s, secretBody, secretBody+raw, 1) }
}

// TestRefusedXML sends, with a valid signature, pushes whose XML XML 1.0
// or the push format forbids: in plain mode the body, in safe and
// compatible mode the decrypted plaintext. Each is answered 400 with one
// warn line naming the reason; the Handler does not run and nothing is
// recorded or remembered by the dedup store.
func TestRefusedXML(t *testing.T) {
	const (
		reasonChar     = "character not allowed in XML"
		reasonEncoding = "encoding other than UTF-8"
	)
	cases := []struct {
		name   string
		xml    []byte
		reason string
		compat bool // also send in compatible mode (the body then carries the plaintext)
	}{
		{"invalid UTF-8", pushXML(inContent("\xff\xfe")), reasonChar, true},
		{"GBK bytes", pushXML(inContent("\xc4\xe3\xba\xc3")), reasonChar, true},
		{"encoded surrogate", pushXML(inContent("\xed\xa0\x80")), reasonChar, true},
		{"NUL", pushXML(inContent("\x00")), reasonChar, true},
		{"SOH", pushXML(inContent("\x01")), reasonChar, true},
		{"U+FFFE", pushXML(inContent("\uFFFE")), reasonChar, true},
		{"U+FFFF", pushXML(inContent("\uFFFF")), reasonChar, true},
		{"GBK declaration", pushXML(func(s string) string { return `<?xml version="1.0" encoding="GBK"?>` + s }), reasonEncoding, true},
		{"gbk declaration with GBK bytes", pushXML(func(s string) string {
			return `<?xml version='1.0' encoding='gbk'?>` + inContent("\xc4\xe3")(s)
		}), reasonEncoding, true},
		{"bare <xml/>", []byte("<xml/>"), "missing element <ToUserName>", false},
		{"empty <xml></xml>", []byte("<xml></xml>"), "missing element <ToUserName>", true},
		{"no ToUserName", pushXML(dropElem("ToUserName")), "missing element <ToUserName>", true},
		{"no FromUserName", pushXML(dropElem("FromUserName")), "missing element <FromUserName>", true},
		{"no CreateTime", pushXML(dropElem("CreateTime")), "missing element <CreateTime>", true},
		{"no MsgType", pushXML(dropElem("MsgType")), "missing element <MsgType>", true},
		{"empty MsgType", pushXML(func(s string) string { return strings.Replace(s, "<![CDATA[text]]>", "", 1) }), "missing element <MsgType>", true},
		{"non-numeric CreateTime", pushXML(func(s string) string {
			i, j := strings.Index(s, "<CreateTime>")+12, strings.Index(s, "</CreateTime>")
			return s[:i] + "now" + s[j:]
		}), "missing element <CreateTime>", true},
		{"Open Platform push without AppId", []byte("<xml><CreateTime>1413192605</CreateTime><InfoType>component_verify_ticket</InfoType></xml>"),
			"missing element <AppId>", true},
	}
	type mode struct {
		name   string
		server webhook.Mode
		push   webhook.Mode
	}
	for _, md := range []mode{
		{"plain", webhook.ModePlain, webhook.ModePlain},
		{"safe", webhook.ModeSafe, webhook.ModeSafe},
		{"compat", webhook.ModeCompat, webhook.ModeCompat},
	} {
		t.Run(md.name, func(t *testing.T) {
			for _, tc := range cases {
				if md.push == webhook.ModeCompat && !tc.compat {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					s := &webhook.Server{Token: testToken, AppID: testAppID, Mode: md.server}
					if md.server != webhook.ModePlain {
						s.EncodingAESKey = testAESKey
					}
					req := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, tc.xml, md.push, nil)
					expectRefused(t, s, req, tc.reason)
				})
			}
		})
	}
}

// TestRefusedEnvelope sends safe-mode pushes whose Encrypt is a valid,
// correctly signed message but whose envelope has characters or an
// encoding XML forbids.
func TestRefusedEnvelope(t *testing.T) {
	c, err := wxcrypto.NewCipher(testAESKey, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(pushXML(func(s string) string { return s }))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, envelope, reason string
	}{
		{"NUL in ToUserName", "<xml><ToUserName><![CDATA[gh\x00]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>", "character not allowed in XML"},
		{"invalid UTF-8 after Encrypt", "<xml><Encrypt><![CDATA[" + enc + "]]></Encrypt><AgentID>\xff</AgentID></xml>", "character not allowed in XML"},
		{"U+FFFF in a comment", "<xml><!-- \uFFFF --><Encrypt>" + enc + "</Encrypt></xml>", "character not allowed in XML"},
		{"GBK declaration", `<?xml version="1.0" encoding="GBK"?><xml><Encrypt><![CDATA[` + enc + `]]></Encrypt></xml>`, "encoding other than UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &webhook.Server{Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeSafe}
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			req := webhooktest.NewEnvelopeRequest(testToken, tc.envelope, enc, ts, "12345", nil)
			expectRefused(t, s, req, tc.reason)
		})
	}
	// The same envelope without the fault is accepted: the refusals above
	// are the faults', not the signing's.
	s := &webhook.Server{Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeSafe,
		Handler: webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) { return nil, nil })}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req := webhooktest.NewEnvelopeRequest(testToken, "<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", enc, ts, "12345", nil)
	if w := serve(s, req); w.Code != http.StatusOK {
		t.Fatalf("clean envelope: status %d, body %q", w.Code, w.Body)
	}
}

// expectRefused serves req on s (given a logger, a recorder, a dedup store
// and a handler here) and checks the refusal: 400, the handler not run,
// nothing recorded or claimed, one warn line containing reason and no
// secret or body text.
func expectRefused(t *testing.T, s *webhook.Server, req *http.Request, reason string) {
	t.Helper()
	logger, logs := newLogger()
	rec := new(recorder)
	dedup := new(webhook.MemoryDedup)
	called := false
	s.Logger, s.Recorder, s.Dedup = logger, rec, dedup
	s.Handler = webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
		called = true
		return nil, nil
	})
	w := serve(s, req)
	if w.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400 (body %q, log %s)", w.Code, w.Body, logs)
	}
	if called {
		t.Error("handler ran")
	}
	if rec.count() != 0 {
		t.Errorf("%d messages recorded", rec.count())
	}
	if n := dedup.Len(); n != 0 {
		t.Errorf("dedup store holds %d keys", n)
	}
	lines := logs.lines()
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs)
	}
	if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], reason) {
		t.Errorf("log line %q: want level WARN and reason containing %q", lines[0], reason)
	}
	for _, secret := range []string{testToken, testAESKey, secretBody, req.URL.Query().Get("signature"), req.URL.Query().Get("msg_signature")} {
		if secret != "" && strings.Contains(lines[0], secret) {
			t.Errorf("log line leaks %q: %s", secret, lines[0])
		}
	}
}
