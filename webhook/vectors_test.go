package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// cryptVector is one entry of crypto/msg_crypt.json.
type cryptVector struct {
	ID             string            `json:"id"`
	Platform       string            `json:"platform"`
	Direction      string            `json:"direction"`
	Token          string            `json:"token"`
	EncodingAESKey string            `json:"encoding_aes_key"`
	AppID          string            `json:"appid"`
	Timestamp      string            `json:"timestamp"`
	Nonce          string            `json:"nonce"`
	MsgSignature   string            `json:"msg_signature"`
	Encrypt        string            `json:"encrypt"`
	Plaintext      string            `json:"plaintext"`
	ExpectFields   map[string]string `json:"expect_fields"`
	EnvelopeXML    string            `json:"envelope_xml"`
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func newGet(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }

// TestCorpusEnvelopes posts every captured encrypted push of
// crypto/msg_crypt.json (envelope_xml with its msg_signature, timestamp and
// nonce) to a Server configured with the vector's credentials, and checks
// the Handler got the published plaintext and an encrypted echo came back.
func TestCorpusEnvelopes(t *testing.T) {
	var file struct {
		Vectors []cryptVector `json:"vectors"`
	}
	corpus.DecodeJSON(t, &file, "crypto", "msg_crypt.json")
	n := 0
	for _, v := range file.Vectors {
		if v.Direction != "decrypt" || v.EnvelopeXML == "" {
			continue
		}
		n++
		t.Run(v.ID, func(t *testing.T) {
			var got *message.Message
			s := &webhook.Server{
				Token: v.Token, EncodingAESKey: v.EncodingAESKey, AppID: v.AppID,
				TimestampWindow: webhook.NoTimestampCheck,
				Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
					got = m
					return echo(ctx, m)
				}),
			}
			target := "/wx?signature=x&timestamp=" + v.Timestamp + "&nonce=" + v.Nonce + "&encrypt_type=aes&msg_signature=" + v.MsgSignature
			w := serve(s, httptest.NewRequest(http.MethodPost, target, strings.NewReader(v.EnvelopeXML)))
			if w.Code != 200 {
				t.Fatalf("status %d, body %q", w.Code, w.Body)
			}
			if got == nil {
				t.Fatal("handler not called")
			}
			if diff := cmp.Diff(v.Plaintext, string(got.Raw)); diff != "" {
				t.Errorf("decrypted message (-want +got):\n%s", diff)
			}
			for name, want := range v.ExpectFields {
				if val, ok := got.Get(name); !ok || val != want {
					t.Errorf("%s = %q (present %v), want %q", name, val, ok, want)
				}
			}
			reply, err := webhooktest.ParseReply(v.Token, v.EncodingAESKey, v.AppID, w.Body.Bytes())
			if err != nil {
				t.Fatalf("ParseReply: %v (body %q)", err, w.Body)
			}
			if diff := cmp.Diff(&message.Text{Content: "echo text " + got.Content}, reply.Reply); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
			if reply.ToUserName != got.FromUserName || reply.FromUserName != got.ToUserName {
				t.Errorf("reply addressed %q→%q, want %q→%q", reply.FromUserName, reply.ToUserName, got.ToUserName, got.FromUserName)
			}
		})
	}
	if n == 0 {
		t.Fatal("no decrypt vectors with envelope_xml")
	}
}

// TestCorpusEnvelopeTampered checks that the same captured envelopes are
// refused when the signature, the AppID or the timestamp window is wrong.
func TestCorpusEnvelopeTampered(t *testing.T) {
	var file struct {
		Vectors []cryptVector `json:"vectors"`
	}
	corpus.DecodeJSON(t, &file, "crypto", "msg_crypt.json")
	for _, v := range file.Vectors {
		if v.Direction != "decrypt" || v.EnvelopeXML == "" {
			continue
		}
		target := "/wx?timestamp=" + v.Timestamp + "&nonce=" + v.Nonce + "&encrypt_type=aes&msg_signature=" + v.MsgSignature
		for _, tc := range []struct {
			name   string
			server cfg
			target string
			want   int
		}{
			{"other token", cfg{token: v.Token + "x", key: v.EncodingAESKey, appID: v.AppID, window: webhook.NoTimestampCheck}, target, 403},
			{"other AppID", cfg{token: v.Token, key: v.EncodingAESKey, appID: "wxffffffffffffffff", window: webhook.NoTimestampCheck}, target, 403},
			{"stale", cfg{token: v.Token, key: v.EncodingAESKey, appID: v.AppID}, target, 403},
			{"other nonce", cfg{token: v.Token, key: v.EncodingAESKey, appID: v.AppID, window: webhook.NoTimestampCheck}, strings.Replace(target, "nonce="+v.Nonce, "nonce=1"+v.Nonce, 1), 403},
		} {
			t.Run(v.ID+"/"+tc.name, func(t *testing.T) {
				called := false
				logger, logs := newLogger()
				srv := tc.server.server()
				srv.Logger = logger
				srv.Handler = webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
					called = true
					return nil, nil
				})
				w := serve(srv, httptest.NewRequest(http.MethodPost, tc.target, strings.NewReader(v.EnvelopeXML)))
				if w.Code != tc.want || called {
					t.Errorf("status %d, handler called %v; want %d, not called", w.Code, called, tc.want)
				}
				if n := len(logs.lines()); n != 1 {
					t.Errorf("%d log lines, want 1", n)
				}
			})
		}
	}
}
