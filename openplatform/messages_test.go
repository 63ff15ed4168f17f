package openplatform

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// textXML is a user's text message to the account toUser.
func textXML(toUser, content string, created int64, msgID int) string {
	return "<xml><ToUserName><![CDATA[" + toUser + "]]></ToUserName><FromUserName><![CDATA[oUser0001]]></FromUserName><CreateTime>" +
		strconv.FormatInt(created, 10) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content +
		"]]></Content><MsgId>" + strconv.Itoa(msgID) + "</MsgId></xml>"
}

// failingAuthorizers is a store.Authorizers that is down.
type failingAuthorizers struct{}

func (failingAuthorizers) PutAuthorizer(context.Context, *store.Authorizer) error {
	return errors.New("database down")
}
func (failingAuthorizers) Authorizer(context.Context, string, string) (*store.Authorizer, error) {
	return nil, errors.New("database down")
}
func (failingAuthorizers) ListAuthorizers(context.Context, string) ([]*store.Authorizer, error) {
	return nil, errors.New("database down")
}

// TestMessageServer: authorizers' messages, encrypted with the component's
// token and key and the component's AppID, reach the handler with the
// authorizer's AppID; a message for another account at this route does
// not, nor does one encrypted for the authorizer's own AppID.
func TestMessageServer(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	p := newFakePlatform(t, clock)
	c, logs := newTestComponent(t, p, clock)
	seedTicket(t, c, p)
	authorizeAccount(t, c, p, testAuthorizer)
	var calls atomic.Int32
	echo := webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
		calls.Add(1)
		return &message.Text{Content: AuthorizerAppID(ctx) + ":" + m.Content}, nil
	})
	srv, err := c.MessageServer(testAuthorizer, echo)
	if err != nil {
		t.Fatal(err)
	}
	// The release check's test account never authorized through this
	// Component before its messages arrive.
	const testAccount = "wx570bc396a51b8ff8"
	unknown, err := c.MessageServer(testAccount, echo)
	if err != nil {
		t.Fatal(err)
	}
	msgID := 1000
	push := func(h http.Handler, cipherAppID, toUser string) *httptest.ResponseRecorder {
		msgID++
		req := webhooktest.NewEncryptedRequest(testToken, testAESKey, cipherAppID,
			[]byte(textXML(toUser, "TESTCOMPONENT_MSG_TYPE_TEXT", clock.Now().Unix(), msgID)), webhook.ModeSafe,
			&webhooktest.RequestOptions{Target: "/component/" + testComponent + "/wx/x", Timestamp: clock.Now().Unix()})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	tests := []struct {
		name        string
		h           http.Handler
		cipherAppID string
		toUser      string
		status      int
		reply       string // "" for "success"
	}{
		{"own message", srv, testComponent, testUserName, 200, testAuthorizer + ":TESTCOMPONENT_MSG_TYPE_TEXT"},
		{"another account's message", srv, testComponent, "gh_someoneelse", 200, ""},
		{"encrypted for the authorizer's AppID", srv, testAuthorizer, testUserName, 403, ""},
		{"unknown authorizer", unknown, testComponent, "gh_3c884a361561", 200, testAccount + ":TESTCOMPONENT_MSG_TYPE_TEXT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			rec := push(tt.h, tt.cipherAppID, tt.toUser)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				return
			}
			r, err := webhooktest.ParseReply(testToken, testAESKey, testComponent, rec.Body.Bytes())
			if tt.reply == "" {
				if !errors.Is(err, webhooktest.ErrSuccess) || calls.Load() != before {
					t.Errorf("reply %v, %v (handler ran %d times); want success without the handler", r, err, calls.Load()-before)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseReply = %v", err)
			}
			if got := r.Reply.(*message.Text).Content; got != tt.reply || r.FromUserName != tt.toUser {
				t.Errorf("reply %q from %q, want %q from %q", got, r.FromUserName, tt.reply, tt.toUser)
			}
		})
	}
	if !strings.Contains(logs.String(), ErrForeignAuthorizer.Error()) {
		t.Errorf("the foreign message was not logged:\n%s", logs)
	}
	if _, err := c.MessageServer("", echo); err == nil {
		t.Error("MessageServer(\"\") = nil error")
	}

	// With the store down the message still reaches the handler (the push
	// is authentic; only its route is unchecked), and a warning is logged.
	down, logs2 := newTestComponent(t, p, clock, WithAuthorizers(failingAuthorizers{}), WithRefreshTokenCipher(c.cfg.aead))
	srv2, _ := down.MessageServer(testAuthorizer, echo)
	if r, err := webhooktest.ParseReply(testToken, testAESKey, testComponent, push(srv2, testComponent, testUserName).Body.Bytes()); err != nil ||
		r.Reply.(*message.Text).Content != testAuthorizer+":TESTCOMPONENT_MSG_TYPE_TEXT" {
		t.Errorf("with the store down: reply %v, %v; want the handler's", r, err)
	}
	if !strings.Contains(logs2.String(), "database down") {
		t.Errorf("store failure not logged:\n%s", logs2)
	}
	if AuthorizerAppID(t.Context()) != "" {
		t.Error("AuthorizerAppID outside a handler is not empty")
	}
}
