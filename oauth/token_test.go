package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/corpus"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "0123456789abcdef0123456789abcdef"
	// apiPrefix is the path prefix of the test API host: a request that
	// loses it hits the mux's 404 and fails loudly.
	apiPrefix = "/api-prefix/"
)

var testNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// setup returns a Config pointing at an httptest server and the mux to
// register handlers on (under apiPrefix).
func setup(t *testing.T) (*Config, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := &Config{
		AppID:       testAppID,
		AppSecret:   testSecret,
		RedirectURL: "https://app.example/cb",
		Scope:       ScopeUserInfo,
		APIBase:     srv.URL + apiPrefix,
		OpenBase:    srv.URL + "/open/",
		HTTPClient:  srv.Client(),
		now:         func() time.Time { return testNow },
	}
	return cfg, mux
}

// handleJSON registers a GET handler for path that checks the query
// against want and answers body.
func handleJSON(t *testing.T, mux *http.ServeMux, path string, want url.Values, body []byte) {
	t.Helper()
	mux.HandleFunc(apiPrefix+path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("%s: method = %s, want GET", path, r.Method)
		}
		if diff := cmp.Diff(want, r.URL.Query()); diff != "" {
			t.Errorf("%s: query mismatch (-want +got):\n%s", path, diff)
		}
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		_, _ = w.Write(body)
	})
}

func TestExchangeCorpus(t *testing.T) {
	t.Parallel()
	cfg, mux := setup(t)
	body := corpus.ReadFile(t, "api", "sns_oauth2_access_token.json")
	handleJSON(t, mux, "sns/oauth2/access_token", url.Values{
		"appid": {testAppID}, "secret": {testSecret}, "code": {"CODE"}, "grant_type": {"authorization_code"},
	}, body)
	got, err := cfg.Exchange(t.Context(), "CODE")
	if err != nil {
		t.Fatalf("Exchange = %v", err)
	}
	want := &Token{
		AccessToken: "ACCESS_TOKEN", ExpiresIn: 7200, Expiry: testNow.Add(7200 * time.Second),
		RefreshToken: "REFRESH_TOKEN", OpenID: "OPENID", Scope: "SCOPE",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Exchange mismatch (-want +got):\n%s", diff)
	}
}

func TestRefreshCorpus(t *testing.T) {
	t.Parallel()
	cfg, mux := setup(t)
	body := corpus.ReadFile(t, "api", "sns_oauth2_refresh_token.json")
	handleJSON(t, mux, "sns/oauth2/refresh_token", url.Values{
		"appid": {testAppID}, "grant_type": {"refresh_token"}, "refresh_token": {"RT"},
	}, body)
	got, err := cfg.Refresh(t.Context(), "RT")
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	want := &Token{
		AccessToken: "ACCESS_TOKEN", ExpiresIn: 7200, Expiry: testNow.Add(7200 * time.Second),
		RefreshToken: "REFRESH_TOKEN", OpenID: "OPENID", Scope: "SCOPE",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Refresh mismatch (-want +got):\n%s", diff)
	}
}

func TestUserInfoCorpus(t *testing.T) {
	t.Parallel()
	cfg, mux := setup(t)
	body := corpus.ReadFile(t, "api", "sns_userinfo.json")
	handleJSON(t, mux, "sns/userinfo", url.Values{
		"access_token": {"AT"}, "openid": {"OPENID"}, "lang": {"zh_CN"},
	}, body)
	got, err := cfg.UserInfo(t.Context(), &Token{AccessToken: "AT", OpenID: "OPENID"}, LangZhCN)
	if err != nil {
		t.Fatalf("UserInfo = %v", err)
	}
	// The expected values are read from the corpus file itself, decoded
	// generically, so that the typed decoding is checked field by field.
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	var priv []string
	for _, p := range raw["privilege"].([]any) {
		priv = append(priv, p.(string))
	}
	want := &UserInfo{
		OpenID: raw["openid"].(string), Nickname: raw["nickname"].(string), Sex: SexMale,
		Province: raw["province"].(string), City: raw["city"].(string), Country: raw["country"].(string),
		HeadImgURL: raw["headimgurl"].(string), Privilege: priv, UnionID: raw["unionid"].(string),
	}
	if raw["sex"] != "1" {
		t.Fatalf("corpus sex = %v, the test expects the string \"1\"", raw["sex"])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UserInfo mismatch (-want +got):\n%s", diff)
	}
}

func TestUserInfoNoLang(t *testing.T) {
	t.Parallel()
	cfg, mux := setup(t)
	handleJSON(t, mux, "sns/userinfo", url.Values{"access_token": {"AT"}, "openid": {"O"}},
		[]byte(`{"openid":"O","nickname":"n","sex":2,"province":"","city":"","country":"","headimgurl":"","privilege":[]}`))
	got, err := cfg.UserInfo(t.Context(), &Token{AccessToken: "AT", OpenID: "O"}, "")
	if err != nil {
		t.Fatalf("UserInfo = %v", err)
	}
	want := &UserInfo{OpenID: "O", Nickname: "n", Sex: SexFemale, Privilege: []string{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UserInfo mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckTokenCorpus(t *testing.T) {
	t.Parallel()
	cfg, mux := setup(t)
	handleJSON(t, mux, "sns/auth", url.Values{"access_token": {"AT"}, "openid": {"O"}},
		corpus.ReadFile(t, "api", "sns_auth.json"))
	if err := cfg.CheckToken(t.Context(), "AT", "O"); err != nil {
		t.Errorf("CheckToken = %v, want nil", err)
	}
}

// TestAPIErrors checks that an errcode reply, on HTTP 200 or otherwise,
// becomes an *wxkit.APIError that matches its sentinel, for every call.
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name string
		path string
		call func(ctx context.Context, c *Config) error
	}{
		{"Exchange", "sns/oauth2/access_token", func(ctx context.Context, c *Config) error {
			_, err := c.Exchange(ctx, "CODE")
			return err
		}},
		{"Refresh", "sns/oauth2/refresh_token", func(ctx context.Context, c *Config) error {
			_, err := c.Refresh(ctx, "RT")
			return err
		}},
		{"UserInfo", "sns/userinfo", func(ctx context.Context, c *Config) error {
			_, err := c.UserInfo(ctx, &Token{AccessToken: "AT", OpenID: "O"}, LangEN)
			return err
		}},
		{"CheckToken", "sns/auth", func(ctx context.Context, c *Config) error {
			return c.CheckToken(ctx, "AT", "O")
		}},
	}
	errs := []struct {
		status   int
		sentinel *wxkit.APIError
	}{
		{200, wxkit.ErrInvalidCode},
		{200, wxkit.ErrCodeBeenUsed},
		{200, wxkit.ErrInvalidRefreshToken},
		{200, wxkit.ErrRefreshTokenExpired},
		{200, wxkit.ErrAPIUnauthorized},
		{200, wxkit.ErrAccessTokenExpired},
		{200, wxkit.ErrInvalidCredential},
		{503, wxkit.ErrSystemBusy},
	}
	for _, c := range calls {
		for _, e := range errs {
			t.Run(fmt.Sprintf("%s/%d/%d", c.name, e.status, e.sentinel.ErrCode), func(t *testing.T) {
				t.Parallel()
				cfg, mux := setup(t)
				mux.HandleFunc(apiPrefix+c.path, func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(e.status)
					fmt.Fprintf(w, `{"errcode":%d,"errmsg":"%s rid: 6638a1b2-1c2d3e4f-5a6b7c8d"}`, e.sentinel.ErrCode, e.sentinel.ErrMsg)
				})
				err := c.call(t.Context(), cfg)
				if !errors.Is(err, e.sentinel) {
					t.Fatalf("%s = %v, want errors.Is %v", c.name, err, e.sentinel)
				}
				ae, ok := errors.AsType[*wxkit.APIError](err)
				if !ok || ae.Method != "GET" || ae.Path != c.path {
					t.Errorf("%s error = %#v, want Method GET, Path %s", c.name, ae, c.path)
				}
				assertNoSecrets(t, err)
			})
		}
	}
}

// assertNoSecrets fails when err's text carries a secret of the tests.
func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{testSecret, "CODE", "RT", "AT", "access_token=", "secret="} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
}

func TestTransportErrorsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/"
	srv.Close() // connection refused from now on
	cfg := &Config{AppID: testAppID, AppSecret: testSecret, APIBase: base}
	ctx := t.Context()
	_, err1 := cfg.Exchange(ctx, "CODE")
	_, err2 := cfg.Refresh(ctx, "RT")
	_, err3 := cfg.UserInfo(ctx, &Token{AccessToken: "AT", OpenID: "O"}, LangZhCN)
	err4 := cfg.CheckToken(ctx, "AT", "O")
	for i, err := range []error{err1, err2, err3, err4} {
		if err == nil {
			t.Fatalf("call %d: err = nil, want a transport error", i)
		}
		assertNoSecrets(t, err)
		if !strings.Contains(err.Error(), "sns/") {
			t.Errorf("call %d: error %q does not name the call", i, err)
		}
	}
}

func TestContextErrorStaysVisible(t *testing.T) {
	t.Parallel()
	cfg, mux := setup(t)
	mux.HandleFunc(apiPrefix+"sns/oauth2/access_token", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := cfg.Exchange(ctx, "CODE")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Exchange(canceled ctx) = %v, want context.Canceled", err)
	}
	assertNoSecrets(t, err)
}

func TestNonJSONAndStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"html 502", 502, "<html>bad gateway</html>", "HTTP 502"},
		{"html 200", 200, "<html>oops</html>", "decode reply"},
		{"no token", 200, `{"expires_in":7200}`, "no access_token"},
		{"no lifetime", 200, `{"access_token":"x","expires_in":0}`, "expires_in 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, mux := setup(t)
			mux.HandleFunc(apiPrefix+"sns/oauth2/access_token", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			_, err := cfg.Exchange(t.Context(), "CODE")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Exchange = %v, want error containing %q", err, tt.want)
			}
			if _, ok := errors.AsType[*wxkit.APIError](err); ok {
				t.Errorf("Exchange = %#v, want a non-APIError", err)
			}
			assertNoSecrets(t, err)
		})
	}
}

func TestMissingInputs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	full := Config{AppID: testAppID, AppSecret: testSecret, APIBase: "http://127.0.0.1:1/"}
	noID, noSecret := full, full
	noID.AppID, noSecret.AppSecret = "", ""
	tests := []struct {
		name     string
		call     func() error
		sentinel error
	}{
		{"Exchange no AppID", func() error { _, err := noID.Exchange(ctx, "c"); return err }, ErrMissingConfig},
		{"Exchange no AppSecret", func() error { _, err := noSecret.Exchange(ctx, "c"); return err }, ErrMissingConfig},
		{"Refresh no AppID", func() error { _, err := noID.Refresh(ctx, "r"); return err }, ErrMissingConfig},
		{"Exchange empty code", func() error { _, err := full.Exchange(ctx, ""); return err }, nil},
		{"Refresh empty token", func() error { _, err := full.Refresh(ctx, ""); return err }, nil},
		{"UserInfo nil token", func() error { _, err := full.UserInfo(ctx, nil, ""); return err }, nil},
		{"CheckToken empty", func() error { return full.CheckToken(ctx, "", "o") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("err = nil, want an error before any request")
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.sentinel)
			}
			if strings.Contains(err.Error(), "connect") {
				t.Errorf("err = %v: a request was sent", err)
			}
		})
	}
}

func TestTokenJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Token
	}{
		{"wire snapshot 1", `{"access_token":"A","expires_in":7200,"refresh_token":"R","openid":"O","scope":"snsapi_base","is_snapshotuser":1}`,
			Token{AccessToken: "A", ExpiresIn: 7200, RefreshToken: "R", OpenID: "O", Scope: ScopeBase, IsSnapshotUser: true}},
		{"wire snapshot absent, unionid", `{"access_token":"A","expires_in":7200,"openid":"O","scope":"snsapi_userinfo","unionid":"U"}`,
			Token{AccessToken: "A", ExpiresIn: 7200, OpenID: "O", Scope: ScopeUserInfo, UnionID: "U"}},
		{"own form", `{"access_token":"A","expires_in":7200,"expiry":"2024-05-06T09:08:09Z","is_snapshotuser":true}`,
			Token{AccessToken: "A", ExpiresIn: 7200, Expiry: testNow.Add(2 * time.Hour), IsSnapshotUser: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Token
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Unmarshal mismatch (-want +got):\n%s", diff)
			}
			// Round trip through our own form.
			b, err := json.Marshal(&got)
			if err != nil {
				t.Fatal(err)
			}
			var again Token
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatalf("Unmarshal(Marshal) = %v", err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
	var bad Token
	if err := json.Unmarshal([]byte(`{"is_snapshotuser":"yes"}`), &bad); err == nil {
		t.Error(`Unmarshal(is_snapshotuser "yes") = nil, want an error`)
	}
}

func TestTokenRedaction(t *testing.T) {
	t.Parallel()
	tok := &Token{AccessToken: "86_secretaccesstokenvalue", RefreshToken: "86_secretrefreshtokenvalue", OpenID: "oOPEN", Expiry: testNow}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("got", "tok", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v", tok), buf.String()} {
		if strings.Contains(s, "secretaccess") || strings.Contains(s, "secretrefresh") {
			t.Errorf("printed token %q shows a secret", s)
		}
		if !strings.Contains(s, "oOPEN") {
			t.Errorf("printed token %q lacks the openid", s)
		}
	}
}

func TestTokenValid(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name string
		tok  *Token
		want bool
	}{
		{"nil", nil, false},
		{"empty", &Token{Expiry: now.Add(time.Hour)}, false},
		{"fresh", &Token{AccessToken: "a", Expiry: now.Add(time.Hour)}, true},
		{"in the last seconds", &Token{AccessToken: "a", Expiry: now.Add(5 * time.Second)}, false},
		{"expired", &Token{AccessToken: "a", Expiry: now.Add(-time.Second)}, false},
		{"no expiry", &Token{AccessToken: "a"}, true},
	}
	for _, tt := range tests {
		if got := tt.tok.Valid(); got != tt.want {
			t.Errorf("%s: Valid() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSexUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Sex
		wantErr bool
	}{
		{`1`, SexMale, false}, {`"2"`, SexFemale, false}, {`""`, SexUnknown, false},
		{`null`, SexUnknown, false}, {`0`, SexUnknown, false}, {`"x"`, 0, true}, {`true`, 0, true},
	}
	for _, tt := range tests {
		var got Sex
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
