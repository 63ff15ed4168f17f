package webhook_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func TestHandshake(t *testing.T) {
	for _, tc := range []struct {
		name     string
		server   cfg
		req      *http.Request
		wantCode int
		wantBody string
	}{
		{
			name:     "plain",
			server:   cfg{token: testToken},
			req:      webhooktest.NewHandshakeRequest(testToken, "1234567890123456789", nil),
			wantCode: 200, wantBody: "1234567890123456789",
		},
		{
			name:     "plain echostr to a safe-mode server",
			server:   cfg{token: testToken, key: testAESKey, appID: testAppID, mode: webhook.ModeSafe},
			req:      webhooktest.NewHandshakeRequest(testToken, "echo+with/odd=chars", nil),
			wantCode: 200, wantBody: "echo+with/odd=chars",
		},
		{
			name:     "encrypted echostr",
			server:   cfg{token: testToken, key: testAESKey, appID: testAppID},
			req:      webhooktest.NewEncryptedHandshakeRequest(testToken, testAESKey, testAppID, "5927782489442352469", nil),
			wantCode: 200, wantBody: "5927782489442352469",
		},
		{
			name:     "encrypted echostr for another AppID",
			server:   cfg{token: testToken, key: testAESKey, appID: testAppID},
			req:      webhooktest.NewEncryptedHandshakeRequest(testToken, testAESKey, "wxothe0000000000000", "5927782489442352469", nil),
			wantCode: 403,
		},
		{
			name:     "wrong token",
			server:   cfg{token: testToken},
			req:      webhooktest.NewHandshakeRequest("other-token", "123", nil),
			wantCode: 403,
		},
		{
			name:     "encrypted echostr, wrong token",
			server:   cfg{token: testToken, key: testAESKey, appID: testAppID},
			req:      webhooktest.NewEncryptedHandshakeRequest("other-token", testAESKey, testAppID, "123", nil),
			wantCode: 403,
		},
		{
			name:     "stale",
			server:   cfg{token: testToken},
			req:      webhooktest.NewHandshakeRequest(testToken, "123", &webhooktest.RequestOptions{Timestamp: time.Now().Add(-time.Hour).Unix()}),
			wantCode: 403,
		},
		{
			name:     "no echostr",
			server:   cfg{token: testToken},
			req:      webhooktest.NewHandshakeRequest(testToken, "", nil),
			wantCode: 400,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := newLogger()
			s := tc.server.server()
			s.Logger = logger
			w := serve(s, tc.req)
			if w.Code != tc.wantCode {
				t.Fatalf("status %d, want %d (body %q, log %s)", w.Code, tc.wantCode, w.Body, logs)
			}
			if tc.wantCode == 200 {
				if got := w.Body.String(); got != tc.wantBody {
					t.Errorf("body %q, want %q", got, tc.wantBody)
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want text/plain", ct)
				}
				return
			}
			if n := len(logs.lines()); n != 1 {
				t.Errorf("%d log lines, want 1: %s", n, logs)
			}
		})
	}
}

// TestHandshakeCorpusVectors replays the WeCom URL-verification vectors
// (encrypted echostr with msg_signature) from crypto/msg_crypt.json.
func TestHandshakeCorpusVectors(t *testing.T) {
	var file struct {
		Vectors []cryptVector `json:"vectors"`
	}
	corpus.DecodeJSON(t, &file, "crypto", "msg_crypt.json")
	n := 0
	for _, v := range file.Vectors {
		if !strings.Contains(v.ID, "verifyurl") {
			continue
		}
		n++
		t.Run(v.ID, func(t *testing.T) {
			s := &webhook.Server{Token: v.Token, EncodingAESKey: v.EncodingAESKey, AppID: v.AppID, TimestampWindow: webhook.NoTimestampCheck}
			target := "/wx?msg_signature=" + v.MsgSignature + "&timestamp=" + v.Timestamp + "&nonce=" + v.Nonce + "&echostr=" + urlQueryEscape(v.Encrypt)
			w := serve(s, newGet(target))
			if w.Code != 200 || w.Body.String() != v.Plaintext {
				t.Errorf("got %d %q, want 200 %q", w.Code, w.Body, v.Plaintext)
			}
		})
	}
	if n == 0 {
		t.Fatal("no verifyurl vectors in msg_crypt.json")
	}
}
