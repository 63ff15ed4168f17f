package openplatform

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// FuzzNotify pushes arbitrary plaintext, encrypted and signed as the
// platform does, to the authorization event URL. Whatever it is, the
// Server answers 200 or 400 without panicking, and a ticket is stored only
// when the input is a component_verify_ticket push of this component, and
// then it is that push's ticket.
func FuzzNotify(f *testing.F) {
	for _, p := range corpus.Glob(f, "messages/component_*.xml") {
		f.Add(corpus.ReadFile(f, "messages", filepath.Base(p)))
	}
	created := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	f.Add([]byte(ticketXML(testComponent, "ticket@@@fuzz", created)))
	f.Add([]byte(ticketXML("wxothercomponent01", "ticket@@@other", created)))
	f.Add([]byte(authEventXML(testComponent, "authorized", testAuthorizer, "code", created)))
	f.Add([]byte(authEventXML(testComponent, "unauthorized", testAuthorizer, "", created)))
	f.Add([]byte("<xml><AppId>" + testComponent + "</AppId><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType></xml>"))
	f.Add([]byte("<xml><InfoType>component_verify_ticket</InfoType></xml>"))
	f.Add([]byte("not xml"))

	rt := &replyTransport{reply: func(ep string, _ *http.Request) string {
		if ep == "component/api_query_auth" {
			return `{"errcode":61009,"errmsg":"code is invalid"}`
		}
		return defaultReply(ep)
	}}
	f.Fuzz(func(t *testing.T, plain []byte) {
		if len(plain) > 8<<10 {
			return
		}
		clock := newTestClock()
		clock.Set(created.Add(time.Minute))
		tokens := &token.MemoryStore{Now: clock.Now}
		c, err := NewComponent(testComponent, testSecret, testToken, testAESKey,
			WithHTTPClient(&http.Client{Transport: rt}), WithClock(clock.Now), WithTokenStore(tokens))
		if err != nil {
			t.Fatal(err)
		}
		req := webhooktest.NewEncryptedRequest(testToken, testAESKey, testComponent, plain, webhook.ModeSafe,
			&webhooktest.RequestOptions{Target: "/notify", Timestamp: clock.Now().Unix()})
		rec := httptest.NewRecorder()
		c.NotifyServer().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", rec.Code, plain)
		}
		got, err := c.Ticket(context.Background())
		if errors.Is(err, ErrNoTicket) {
			return
		}
		if err != nil {
			t.Fatalf("Ticket() = %v", err)
		}
		m, perr := message.Parse(bytes.Clone(plain))
		if perr != nil || m.InfoType != message.InfoTypeComponentVerifyTicket || m.AppID != testComponent || m.ComponentVerifyTicket != got.Value {
			t.Fatalf("ticket %q stored from a push that is not this component's ticket push: %q", got.Value, plain)
		}
	})
}

// FuzzQueryAuthReply feeds arbitrary api_query_auth and
// api_get_authorizer_info replies to QueryAuth: it never panics, and when
// it succeeds the authorizer it names is stored, authorized.
func FuzzQueryAuthReply(f *testing.F) {
	f.Add(corpus.ReadFile(f, "api", "component_api_query_auth.json"), corpus.ReadFile(f, "api", "component_api_get_authorizer_info.json"))
	f.Add([]byte(`{"authorization_info":{"authorizer_appid":"wxa","func_info":[{"funcscope_category":{}}]}}`), []byte(`{}`))
	f.Add([]byte(`{"authorization_info":{"func_info":"x"}}`), []byte(`{"authorizer_info":{"MiniProgramInfo":null}}`))
	f.Add([]byte(`{"errcode":61010,"errmsg":"code is expired"}`), []byte(`[]`))
	f.Add([]byte(`{"authorization_info":{"authorizer_appid":"wxa","expires_in":-5,"authorizer_access_token":"t"}}`), []byte(`{"errcode":-1}`))
	f.Fuzz(func(t *testing.T, queryAuth, info []byte) {
		rt := &replyTransport{reply: func(ep string, _ *http.Request) string {
			switch ep {
			case "component/api_query_auth":
				return string(queryAuth)
			case "component/api_get_authorizer_info":
				return string(info)
			}
			return defaultReply(ep)
		}}
		clock := newTestClock()
		c := newInProcessComponent(t, rt, clock)
		a, err := c.QueryAuth(context.Background(), "queryauthcode@@@fuzz")
		if err != nil {
			return
		}
		stored, err := c.cfg.authorizers.Authorizer(context.Background(), testComponent, a.AuthorizerAppID)
		if err != nil || !stored.Authorized {
			t.Fatalf("QueryAuth succeeded for %q but the authorizer is %+v, %v", a.AuthorizerAppID, stored, err)
		}
	})
}
