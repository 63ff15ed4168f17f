package emulator

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// releaseBehaviour says how a test platform answers the release check.
type releaseBehaviour struct {
	// apiText is the customer-service text sent for code ("" sends none).
	apiText func(code string) string
	// ownToken sends it with the account's own token instead of
	// exchanging the code.
	ownToken bool
}

// releaseServer answers the release check's messages as a platform does:
// correctly with the zero behaviour.
func releaseServer(b releaseBehaviour) func(p *platform, appID string, m map[string]string) string {
	if b.apiText == nil {
		b.apiText = func(code string) string { return code + "_from_api" }
	}
	return func(p *platform, appID string, m map[string]string) string {
		switch {
		case m["MsgType"] == "event":
			return textReplyTo(m, m["Event"]+"from_callback")
		case m["Content"] == "TESTCOMPONENT_MSG_TYPE_TEXT":
			return textReplyTo(m, "TESTCOMPONENT_MSG_TYPE_TEXT_callback")
		case strings.HasPrefix(m["Content"], "QUERY_AUTH_CODE:"):
			code := strings.TrimPrefix(m["Content"], "QUERY_AUTH_CODE:")
			text := b.apiText(code)
			if text == "" {
				return ""
			}
			p.wg.Add(1)
			go func() { // after the empty answer, as the check requires
				defer p.wg.Done()
				tok := ""
				if b.ownToken {
					var r struct {
						AccessToken string `json:"access_token"`
					}
					resp, err := noRedirect.Get(p.emuURL + tokenURL(testAppID, testSecret))
					if err != nil {
						p.t.Errorf("token: %v", err)
						return
					}
					_ = json.Unmarshal([]byte(readAll(p.t, resp)), &r)
					tok = r.AccessToken
				} else {
					var ct componentTokenReply
					p.post("/cgi-bin/component/api_component_token", map[string]string{
						"component_appid": compAppID, "component_appsecret": compSecret, "component_verify_ticket": p.latestTicket(),
					}, &ct)
					tok = p.queryAuth(ct.ComponentAccessToken, code).AuthorizationInfo.AuthorizerAccessToken
				}
				if errcode := p.customSend(tok, m["FromUserName"], text); errcode != 0 {
					p.t.Errorf("custom send: errcode %d", errcode)
				}
			}()
			return ""
		}
		return ""
	}
}

func TestReleaseCheckPasses(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e, p := env.e, env.p
	p.reply = releaseServer(releaseBehaviour{})
	var res ReleaseCheckResult
	if st := serveJSON(t, e, "POST", "/_emulator/components/"+compAppID+"/release-check", `{"authorizer_appid":"`+testAppID+`"}`, &res); st != 200 {
		t.Fatalf("release-check: %d", st)
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name)
		if !s.Passed || s.Detail == "" {
			t.Errorf("step %s: passed %v, %s", s.Name, s.Passed, s.Detail)
		}
	}
	if diff := cmp.Diff([]string{ReleaseStepTicket, ReleaseStepEvent, ReleaseStepText, ReleaseStepAPIText}, names); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if !res.Passed {
		t.Errorf("release check failed: %+v", res.Steps)
	}
	// The account was authorized for the check, silently, like WeChat's
	// test accounts.
	info, _ := e.Component(compAppID)
	if len(info.Authorizers) != 1 || info.Authorizers[0].AppID != testAppID {
		t.Errorf("authorizers = %+v", info.Authorizers)
	}
	if n := len(p.eventsOf(InfoTypeAuthorized)); n != 0 {
		t.Errorf("%d authorized events pushed for the check's account", n)
	}
	// The raw JSON is the contract: passed, steps[].name/passed/detail.
	_, raw := serveRaw(t, e, "POST", "/_emulator/components/"+compAppID+"/release-check", `{"authorizer_appid":"`+testAppID+`","timeout":"5s"}`)
	var generic struct {
		Passed *bool            `json:"passed"`
		Steps  []map[string]any `json:"steps"`
	}
	if err := json.Unmarshal(raw, &generic); err != nil || generic.Passed == nil || !*generic.Passed || len(generic.Steps) != 4 {
		t.Fatalf("second check: %s", raw)
	}
	for _, s := range generic.Steps {
		if _, ok := s["name"].(string); !ok || s["passed"] != true || s["detail"] == "" {
			t.Errorf("step JSON = %v", s)
		}
	}
}

func TestReleaseCheckFails(t *testing.T) {
	t.Parallel()
	wrongEverything := func(p *platform, appID string, m map[string]string) string {
		switch {
		case m["MsgType"] == "event": // an underscore too many
			return envelopeWith(t, compAESKey, compAppID, compToken, textReplyTo(m, m["Event"]+"_from_callback"))
		case m["Content"] == "TESTCOMPONENT_MSG_TYPE_TEXT": // not encrypted
			return textReplyTo(m, "TESTCOMPONENT_MSG_TYPE_TEXT_callback")
		default: // a passive reply instead of the API
			code := strings.TrimPrefix(m["Content"], "QUERY_AUTH_CODE:")
			return envelopeWith(t, compAESKey, compAppID, compToken, textReplyTo(m, code+"_from_api"))
		}
	}
	tests := []struct {
		name    string
		ack     string
		encrypt bool
		reply   func(p *platform, appID string, m map[string]string) string
		timeout time.Duration
		// want maps each failing step to a part of its detail.
		want map[string]string
	}{
		{
			name: "wrong answers", ack: "ok", reply: wrongEverything,
			want: map[string]string{
				ReleaseStepTicket:  `answer "ok", want "success"`,
				ReleaseStepEvent:   `want the text "LOCATIONfrom_callback"`,
				ReleaseStepText:    "safe mode requires an encrypted reply",
				ReleaseStepAPIText: "want an empty reply",
			},
		},
		{
			name: "wrong customer-service text", encrypt: true,
			reply: releaseServer(releaseBehaviour{apiText: func(code string) string { return code + "_from_callback" }}),
			want:  map[string]string{ReleaseStepAPIText: "_from_callback\", want"},
		},
		{
			name: "no customer-service message", encrypt: true, timeout: 50 * time.Millisecond,
			reply: releaseServer(releaseBehaviour{apiText: func(string) string { return "" }}),
			want:  map[string]string{ReleaseStepAPIText: "within 50ms no customer-service message"},
		},
		{
			name: "the account's own token instead of the code", encrypt: true,
			reply: releaseServer(releaseBehaviour{ownToken: true}),
			want:  map[string]string{ReleaseStepAPIText: "never exchanged with api_query_auth"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newComponentEnv(t, func(c *Config) { c.Push.Timeout = 500 * time.Millisecond })
			env.p.ack, env.p.encrypt, env.p.reply = tt.ack, tt.encrypt, tt.reply
			res, err := env.e.ReleaseCheck(t.Context(), compAppID, testAppID, tt.timeout)
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed {
				t.Errorf("the check passed: %+v", res.Steps)
			}
			if len(res.Steps) != 4 {
				t.Fatalf("%d steps, want 4", len(res.Steps))
			}
			for _, s := range res.Steps {
				part, shouldFail := tt.want[s.Name]
				switch {
				case shouldFail && s.Passed:
					t.Errorf("step %s passed, want it to fail", s.Name)
				case shouldFail && !strings.Contains(s.Detail, part):
					t.Errorf("step %s detail %q, want it to contain %q", s.Name, s.Detail, part)
				case !shouldFail && !s.Passed:
					t.Errorf("step %s failed: %s", s.Name, s.Detail)
				}
			}
		})
	}
}

func TestReleaseCheckErrors(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e := env.e
	tests := []struct {
		name, comp, app string
		want            error
	}{
		{"unknown platform", "wxnope", testAppID, ErrUnknownComponent},
		{"unknown account", compAppID, "wxnope", ErrUnknownApp},
		{"account without followers", compAppID, otherAppID, ErrUnknownUser},
		{"platform without message_url", comp2AppID, testAppID, ErrNoMessageURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.ReleaseCheck(t.Context(), tt.comp, tt.app, 0); !errors.Is(err, tt.want) {
				t.Errorf("ReleaseCheck = %v, want %v", err, tt.want)
			}
		})
	}
	// An account whose messages go to another platform (authorized later).
	msg := "http://127.0.0.1:1/wx/$APPID$"
	if err := e.SetComponentURLs(comp2AppID, nil, &msg); err != nil {
		t.Fatal(err)
	}
	env.pushTicketNow(t)
	env.authorizeViaControl(t, testAppID)
	advance(t, e, time.Second)
	c2 := e.component(comp2AppID)
	c2.mu.Lock()
	c2.auths[testAppID] = &authorization{appID: testAppID, at: e.Now(), refreshToken: "refreshtoken@@@x"}
	c2.mu.Unlock()
	if _, err := e.ReleaseCheck(t.Context(), compAppID, testAppID, 0); !errors.Is(err, ErrNotAuthorized) {
		t.Errorf("ReleaseCheck of an account served by another platform = %v", err)
	}
}
