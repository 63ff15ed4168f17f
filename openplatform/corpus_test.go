package openplatform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/token"
)

// replyTransport answers every request in process with the body its
// function gives for the request's path (the last two path elements, e.g.
// "component/api_query_auth"), recording the requests.
type replyTransport struct {
	reply func(endpoint string, r *http.Request) string

	mu    sync.Mutex
	calls []string
}

func (rt *replyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ep := path.Base(path.Dir(r.URL.Path)) + "/" + path.Base(r.URL.Path)
	rt.mu.Lock()
	rt.calls = append(rt.calls, ep)
	rt.mu.Unlock()
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(rt.reply(ep, r))),
		Request:    r,
	}, nil
}

// defaultReply is what the in-process platform answers for calls a test
// does not look at.
func defaultReply(ep string) string {
	switch ep {
	case "component/api_component_token":
		return `{"component_access_token":"ctok-default","expires_in":7200}`
	case "component/api_get_authorizer_info":
		return `{"authorizer_info":{"nick_name":"n","user_name":"gh_default"}}`
	}
	return `{"errcode":-1,"errmsg":"unexpected call ` + ep + `"}`
}

// newInProcessComponent returns a Component whose platform is rt, with a
// fresh ticket stored.
func newInProcessComponent(t testing.TB, rt *replyTransport, clock *testClock) *Component {
	t.Helper()
	c, err := NewComponent(testComponent, testSecret, testToken, testAESKey,
		WithHTTPClient(&http.Client{Transport: rt}), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StoreTicket(context.Background(), "ticket@@@in-process", clock.Now()); err != nil {
		t.Fatal(err)
	}
	return c
}

// apiIndexEntry is an entry of the corpus api/index.json.
type apiIndexEntry struct {
	File     string `json:"file"`
	Endpoint string `json:"endpoint"`
	Kind     string `json:"kind"`
}

// field reads a dotted path ("authorization_info.func_info.0.funcscope_category.id")
// from decoded JSON.
func field(t *testing.T, v any, dotted string) any {
	t.Helper()
	for _, k := range strings.Split(dotted, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				t.Fatalf("path %s: no element %s", dotted, k)
			}
			v = x[i]
		default:
			t.Fatalf("path %s: %s is not in a container", dotted, k)
		}
	}
	return v
}

func fieldString(t *testing.T, v any, dotted string) string {
	t.Helper()
	s, ok := field(t, v, dotted).(string)
	if !ok {
		t.Fatalf("path %s is not a string", dotted)
	}
	return s
}

func fieldInt(t *testing.T, v any, dotted string) int {
	t.Helper()
	f, ok := field(t, v, dotted).(float64)
	if !ok {
		t.Fatalf("path %s is not a number", dotted)
	}
	return int(f)
}

// funcIDs collects funcscope_category.id of a func_info list.
func funcIDs(t *testing.T, v any, dotted string) FuncInfo {
	t.Helper()
	list, ok := field(t, v, dotted).([]any)
	if !ok {
		t.Fatalf("path %s is not a list", dotted)
	}
	out := FuncInfo{}
	for i := range list {
		out = append(out, fieldInt(t, v, fmt.Sprintf("%s.%d.funcscope_category.id", dotted, i)))
	}
	return out
}

// TestAPICorpus answers each component call with the corpus reply of its
// endpoint (every api/component_*.json that api/index.json lists) and
// checks what the Component makes of it against the reply's own fields.
func TestAPICorpus(t *testing.T) {
	t.Parallel()
	var index struct {
		Entries []apiIndexEntry `json:"entries"`
	}
	corpus.DecodeJSON(t, &index, "api", "index.json")
	checks := map[string]func(t *testing.T, c *Component, clock *testClock, reply any){
		"POST /cgi-bin/component/api_component_token": func(t *testing.T, c *Component, clock *testClock, reply any) {
			tok, err := c.TokenSource().Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := &token.Token{Value: fieldString(t, reply, "component_access_token"),
				Expiry: clock.Now().Add(time.Duration(fieldInt(t, reply, "expires_in")) * time.Second)}
			if diff := cmp.Diff(want, tok); diff != "" {
				t.Errorf("component token (-want +got):\n%s", diff)
			}
		},
		"POST /cgi-bin/component/api_create_preauthcode": func(t *testing.T, c *Component, clock *testClock, reply any) {
			pre, err := c.PreAuthCode(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := &PreAuthCode{Code: fieldString(t, reply, "pre_auth_code"), ExpiresIn: fieldInt(t, reply, "expires_in"),
				Expiry: clock.Now().Add(time.Duration(fieldInt(t, reply, "expires_in")) * time.Second)}
			if diff := cmp.Diff(want, pre); diff != "" {
				t.Errorf("PreAuthCode (-want +got):\n%s", diff)
			}
		},
		"POST /cgi-bin/component/api_query_auth": func(t *testing.T, c *Component, clock *testClock, reply any) {
			a, err := c.QueryAuth(t.Context(), "queryauthcode@@@corpus")
			if err != nil {
				t.Fatal(err)
			}
			appID := fieldString(t, reply, "authorization_info.authorizer_appid")
			want := &Authorization{
				AuthorizerAppID: appID,
				FuncInfo:        funcIDs(t, reply, "authorization_info.func_info"),
				Token: &token.Token{Value: fieldString(t, reply, "authorization_info.authorizer_access_token"),
					Expiry: clock.Now().Add(time.Duration(fieldInt(t, reply, "authorization_info.expires_in")) * time.Second)},
			}
			if diff := cmp.Diff(want, a); diff != "" {
				t.Errorf("QueryAuth (-want +got):\n%s", diff)
			}
			wantRT := fieldString(t, reply, "authorization_info.authorizer_refresh_token")
			if rt, err := (refreshTokens{c, appID}).RefreshToken(t.Context()); err != nil || rt != wantRT {
				t.Errorf("stored refresh token = %q, %v; want %q", rt, err, wantRT)
			}
		},
		"POST /cgi-bin/component/api_authorizer_token": func(t *testing.T, c *Component, clock *testClock, reply any) {
			seedAuthorizer(t, c, "wxcorpus")
			if err := c.cfg.tokens.Delete(t.Context(), token.AuthorizerTokenKey(c.appID, "wxcorpus")); err != nil {
				t.Fatal(err)
			}
			tok, err := c.AuthorizerTokenSource("wxcorpus").Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := &token.Token{Value: fieldString(t, reply, "authorizer_access_token"),
				Expiry: clock.Now().Add(time.Duration(fieldInt(t, reply, "expires_in")) * time.Second)}
			if diff := cmp.Diff(want, tok); diff != "" {
				t.Errorf("authorizer token (-want +got):\n%s", diff)
			}
			// The reply's refresh token differs from the seeded one: it
			// replaced it.
			wantRT := fieldString(t, reply, "authorizer_refresh_token")
			if rt, err := (refreshTokens{c, "wxcorpus"}).RefreshToken(t.Context()); err != nil || rt != wantRT {
				t.Errorf("stored refresh token = %q, %v; want %q", rt, err, wantRT)
			}
		},
		"POST /cgi-bin/component/api_get_authorizer_info": func(t *testing.T, c *Component, clock *testClock, reply any) {
			info, err := c.AuthorizerInfo(t.Context(), "wxasked")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{
				"authorizer_info.nick_name":            info.Nickname,
				"authorizer_info.head_img":             info.HeadImg,
				"authorizer_info.service_type_info.id": info.ServiceTypeInfo.ID,
				"authorizer_info.verify_type_info.id":  info.VerifyTypeInfo.ID,
				"authorizer_info.user_name":            info.UserName,
				"authorizer_info.alias":                info.Alias,
				"qrcode_url":                           info.QRCodeURL, // top level in this older sample
				"authorization_info.appid":             info.AppID,
			}
			for p, v := range got {
				var want any
				switch v.(type) {
				case int:
					want = fieldInt(t, reply, p)
				default:
					want = fieldString(t, reply, p)
				}
				if v != want {
					t.Errorf("AuthorizerInfo: %s = %v, want %v", p, v, want)
				}
			}
			if diff := cmp.Diff(funcIDs(t, reply, "authorization_info.func_info"), info.FuncInfo); diff != "" {
				t.Errorf("AuthorizerInfo FuncInfo (-want +got):\n%s", diff)
			}
		},
	}

	covered := map[string]bool{}
	for _, e := range index.Entries {
		if !strings.HasPrefix(e.File, "api/component_") {
			continue
		}
		covered[e.File] = true
		t.Run(path.Base(e.File), func(t *testing.T) {
			t.Parallel()
			check, ok := checks[e.Endpoint]
			if !ok || e.Kind != "response" {
				t.Fatalf("no check for the %s %s of %s: add one", e.Kind, e.Endpoint, e.File)
			}
			body := corpus.ReadFile(t, e.File)
			var reply any
			if err := json.Unmarshal(body, &reply); err != nil {
				t.Fatalf("%s: %v", e.File, err)
			}
			target := "component/" + path.Base(strings.Fields(e.Endpoint)[1])
			clock := newTestClock()
			rt := &replyTransport{reply: func(ep string, _ *http.Request) string {
				if ep == target {
					return string(body)
				}
				return defaultReply(ep)
			}}
			check(t, newInProcessComponent(t, rt, clock), clock, reply)
			if !slices.Contains(rt.calls, target) {
				t.Errorf("calls %v never reached %s", rt.calls, target)
			}
		})
	}
	for _, f := range corpus.Glob(t, "api/component_*.json") {
		if rel := "api/" + path.Base(f); !covered[rel] {
			t.Errorf("%s is not listed in api/index.json, so no test reads it", rel)
		}
	}
}

// TestErrcodesOpenCorpus answers a component call with every errcode of
// the official Open Platform table (errcodes_open.tsv): each comes back as
// a *wxkit.APIError with that errcode (0 is success), after one retry with
// a new component token for the token errcodes, without the token in the
// error; the package's sentinels match their rows.
func TestErrcodesOpenCorpus(t *testing.T) {
	t.Parallel()
	sentinels := map[int]error{
		61005: ErrTicketExpired, 61006: ErrTicketInvalid, 61009: ErrCodeInvalid, 61010: ErrCodeExpired, 61023: ErrRefreshTokenInvalid,
	}
	type row struct {
		code int
		msg  string
	}
	var rows []row
	codes := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(corpus.ReadFile(t, "errcodes_open.tsv")))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			t.Fatalf("errcodes_open.tsv: row %q has %d fields, want 3", sc.Text(), len(f))
		}
		code, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("errcodes_open.tsv: errcode %q: %v", f[0], err)
		}
		msg := f[1]
		if msg == "" {
			msg = f[2]
		}
		rows = append(rows, row{code, msg})
		codes[code] = true
	}
	if len(rows) < 1000 {
		t.Fatalf("errcodes_open.tsv holds %d rows, want the whole table", len(rows))
	}
	for s := range sentinels {
		if !codes[s] {
			t.Errorf("sentinel errcode %d is not in the official table", s)
		}
	}

	clock := newTestClock()
	var cur row
	tokens := 0
	rt := &replyTransport{reply: func(ep string, r *http.Request) string {
		switch ep {
		case "component/api_component_token":
			tokens++
			return fmt.Sprintf(`{"component_access_token":"ctok-%d","expires_in":7200}`, tokens)
		case "component/api_create_preauthcode":
			b, _ := json.Marshal(map[string]any{"errcode": cur.code, "errmsg": cur.msg, "pre_auth_code": "preauthcode@@@ok", "expires_in": 1800})
			return string(b)
		}
		return defaultReply(ep)
	}}
	c := newInProcessComponent(t, rt, clock)
	c.api.Sleep = func(context.Context, time.Duration) error { return nil } // busy retries without waiting
	for _, r := range rows {
		cur = r
		rt.calls = nil
		pre, err := c.PreAuthCode(t.Context())
		if r.code == 0 {
			if err != nil || pre.Code != "preauthcode@@@ok" {
				t.Errorf("errcode 0: PreAuthCode = %v, %v; want success", pre, err)
			}
			continue
		}
		e, ok := errors.AsType[*wxkit.APIError](err)
		if !ok || e.ErrCode != r.code {
			t.Errorf("errcode %d: PreAuthCode error = %v, want a *wxkit.APIError with errcode %d", r.code, err, r.code)
			continue
		}
		if s, ok := sentinels[r.code]; ok && !errors.Is(err, s) {
			t.Errorf("errcode %d: errors.Is(err, sentinel) = false", r.code)
		}
		if strings.Contains(err.Error(), "ctok-") {
			t.Errorf("errcode %d: error %q carries the component token", r.code, err)
		}
		calls := 0
		for _, ep := range rt.calls {
			if ep == "component/api_create_preauthcode" {
				calls++
			}
		}
		want := 1
		switch {
		case wxkit.IsTokenRejected(err):
			want = 2 // the token is invalidated, a new one fetched, the call sent again
		case errors.Is(err, wxkit.ErrAPIMinuteQuota):
			want = 4 // backoff retries
		}
		if calls != want {
			t.Errorf("errcode %d: api_create_preauthcode sent %d times, want %d", r.code, calls, want)
		}
	}
}
