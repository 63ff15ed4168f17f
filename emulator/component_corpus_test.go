package emulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
)

// lookupPath follows a dotted path (numeric segments index arrays) in a
// decoded JSON document.
func lookupPath(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// TestMiniProgramAndComponentCorpus checks the emulator's answers against
// every response of the corpus index for the Mini Program login and the
// Open Platform (api/sns_jscode2session*, api/wxa_*, api/component_*): each
// required field is there, with the sample's JSON type; and its pushes
// against messages/component_*: each field of a sample is pushed.
func TestMiniProgramAndComponentCorpus(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e, p := env.e, env.p
	env.pushTicketNow(t)
	tok := p.componentToken()
	qtok := "?component_access_token=" + url.QueryEscape(tok)

	answers := map[string][]byte{}
	keep := func(endpoint string, status int, body []byte) {
		if status != 200 {
			t.Fatalf("%s: status %d", endpoint, status)
		}
		answers[endpoint] = body
	}
	_, b := serveRaw(t, e, "GET", code2sessionURL(mpAppID, mpSecret, wxLogin(t, e, mpAppID, "")), "")
	answers["GET /sns/jscode2session"] = b
	code := phoneCode(t, e, mpAppID, "")
	_, b = serveRaw(t, e, "POST", "/wxa/business/getuserphonenumber?access_token="+appToken(t, e, mpAppID, mpSecret), `{"code":"`+code+`"}`)
	answers["POST /wxa/business/getuserphonenumber"] = b
	st, b := postRaw(t, env, "/cgi-bin/component/api_component_token", componentTokenBody(compAppID, compSecret, p.latestTicket()))
	keep("POST /cgi-bin/component/api_component_token", st, b)
	var pre struct {
		PreAuthCode string `json:"pre_auth_code"`
	}
	st, b = postRaw(t, env, "/cgi-bin/component/api_create_preauthcode"+qtok, `{"component_appid":"`+compAppID+`"}`)
	keep("POST /cgi-bin/component/api_create_preauthcode", st, b)
	_ = json.Unmarshal(b, &pre)
	res, err := e.AuthorizeComponent(t.Context(), compAppID, testAppID, pre.PreAuthCode, "http://platform.example/cb")
	if err != nil {
		t.Fatal(err)
	}
	st, b = postRaw(t, env, "/cgi-bin/component/api_query_auth"+qtok, `{"component_appid":"`+compAppID+`","authorization_code":"`+res.AuthCode+`"}`)
	keep("POST /cgi-bin/component/api_query_auth", st, b)
	var qa queryAuthReply
	_ = json.Unmarshal(b, &qa)
	st, b = postRaw(t, env, "/cgi-bin/component/api_authorizer_token"+qtok, fmt.Sprintf(`{"component_appid":%q,"authorizer_appid":%q,"authorizer_refresh_token":%q}`,
		compAppID, testAppID, qa.AuthorizationInfo.AuthorizerRefreshToken))
	keep("POST /cgi-bin/component/api_authorizer_token", st, b)
	st, b = postRaw(t, env, "/cgi-bin/component/api_get_authorizer_info"+qtok, `{"component_appid":"`+compAppID+`","authorizer_appid":"`+testAppID+`"}`)
	keep("POST /cgi-bin/component/api_get_authorizer_info", st, b)

	var index struct {
		Entries []struct {
			File           string   `json:"file"`
			Endpoint       string   `json:"endpoint"`
			Kind           string   `json:"kind"`
			RequiredFields []string `json:"required_fields"`
		} `json:"entries"`
	}
	corpus.DecodeJSON(t, &index, "api", "index.json")
	checked := 0
	for _, en := range index.Entries {
		name := strings.TrimPrefix(en.File, "api/")
		if en.Kind != "response" || !(strings.HasPrefix(name, "sns_jscode2session") || strings.HasPrefix(name, "wxa_") || strings.HasPrefix(name, "component_")) {
			continue
		}
		got, ok := answers[en.Endpoint]
		if !ok {
			t.Errorf("corpus %s: the test has no answer of %s", en.File, en.Endpoint)
			continue
		}
		checked++
		t.Run(name, func(t *testing.T) {
			var sample, doc any
			_ = json.Unmarshal(corpus.ReadFile(t, "api", name), &sample)
			if err := json.Unmarshal(got, &doc); err != nil {
				t.Fatalf("answer %q: %v", got, err)
			}
			for _, f := range en.RequiredFields {
				v, ok := lookupPath(doc, f)
				if !ok {
					t.Errorf("the answer of %s lacks %s: %s", en.Endpoint, f, got)
					continue
				}
				if sv, _ := lookupPath(sample, f); fmt.Sprintf("%T", sv) != fmt.Sprintf("%T", v) {
					t.Errorf("%s is a %T, the corpus has a %T", f, v, sv)
				}
			}
		})
	}
	if checked < 7 {
		t.Errorf("checked %d corpus responses, want at least 7", checked)
	}

	// The pushes carry every field of the corpus samples.
	env.authorizeViaControl(t, testAppID) // updateauthorized
	if _, err := e.UnauthorizeComponent(t.Context(), compAppID, testAppID); err != nil {
		t.Fatal(err)
	}
	samples := corpus.Glob(t, "messages/component_*.json")
	if len(samples) == 0 {
		t.Fatal("no messages/component_* samples")
	}
	for _, path := range samples {
		var s struct {
			ID       string            `json:"id"`
			InfoType string            `json:"info_type"`
			Fields   map[string]string `json:"fields"`
		}
		corpus.DecodeJSON(t, &s, "messages", filepath.Base(path))
		t.Run(s.ID, func(t *testing.T) {
			pushed := p.eventsOf(s.InfoType)
			if len(pushed) == 0 {
				t.Fatalf("no %s push received", s.InfoType)
			}
			for k := range s.Fields {
				if _, ok := pushed[0][k]; !ok {
					t.Errorf("the %s push lacks %s: %v", s.InfoType, k, pushed[0])
				}
			}
		})
	}
}
