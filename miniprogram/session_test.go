package miniprogram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/corpus"
)

// TestCode2SessionCorpus serves each corpus reply of sns/jscode2session and
// checks the request and the Session decoded from it.
func TestCode2SessionCorpus(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"sns_jscode2session.json", "sns_jscode2session_with_errcode.json"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			body := corpus.ReadFile(t, "api", file)
			var fields map[string]any
			corpus.DecodeJSON(t, &fields, "api", file)
			want := &Session{
				OpenID:     fields["openid"].(string),
				SessionKey: SessionKey(fields["session_key"].(string)),
			}
			if u, ok := fields["unionid"].(string); ok {
				want.UnionID = u
			}
			c, mux, _ := setup(t)
			mux.HandleFunc("GET /sns/jscode2session", func(w http.ResponseWriter, r *http.Request) {
				testQuery(t, r, map[string]string{
					"appid": testAppID, "secret": testSecret,
					"js_code": "081code+/=", "grant_type": "authorization_code",
				})
				w.Write(body)
			})
			got, err := c.Code2Session(t.Context(), "081code+/=")
			if err != nil {
				t.Fatalf("Code2Session = %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Code2Session (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCode2SessionErrors: the errcodes come back as *wxkit.APIError matching
// their sentinels, after exactly one request (never retried), and no error
// carries the secret.
func TestCode2SessionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply string
		want  error
	}{
		{"invalid code", `{"errcode":40029,"errmsg":"invalid code, rid: 6523d1a2-2b9e1f4a-4b2d3c1e"}`, wxkit.ErrInvalidCode},
		{"code been used", `{"errcode":40163,"errmsg":"code been used, rid: 1"}`, wxkit.ErrCodeBeenUsed},
		{"minute quota", `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, wxkit.ErrAPIMinuteQuota},
		{"risky user", `{"errcode":40226,"errmsg":"invalid user"}`, ErrRiskyUser},
		{"system busy", `{"errcode":-1,"errmsg":"system error"}`, wxkit.ErrSystemBusy},
		{"secret echoed", `{"errcode":40125,"errmsg":"invalid appsecret ` + testSecret + `"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, p := setup(t)
			mux.HandleFunc("GET /sns/jscode2session", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, tt.reply)
			})
			s, err := c.Code2Session(t.Context(), "code")
			if err == nil {
				t.Fatalf("Code2Session = %+v, want an error", s)
			}
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Errorf("Code2Session = %v, want %v", err, tt.want)
				}
				if _, ok := errors.AsType[*wxkit.APIError](err); !ok {
					t.Errorf("Code2Session = %T, want *wxkit.APIError", err)
				}
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("Code2Session error %q carries the secret", err)
			}
			if n := p.count("/sns/jscode2session"); n != 1 {
				t.Errorf("jscode2session calls = %d, want 1", n)
			}
		})
	}
}

func TestCode2SessionRefusals(t *testing.T) {
	t.Parallel()
	c, mux, p := setup(t)
	mux.HandleFunc("GET /sns/jscode2session", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"openid":"o1"}`)
	})
	if _, err := c.Code2Session(t.Context(), ""); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Code2Session(\"\") = %v, want ErrInvalidRequest", err)
	}
	if n := p.count("/sns/jscode2session"); n != 0 {
		t.Errorf("an empty code was sent (%d calls)", n)
	}
	if s, err := c.Code2Session(t.Context(), "code"); err == nil {
		t.Errorf("Code2Session (reply without session_key) = %+v, want an error", s)
	}

	noSecret, err := NewClient(testAppID, "", WithTokenSource(c.TokenSource()), WithBaseURL(c.BaseURL().String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noSecret.Code2Session(t.Context(), "code"); err == nil || !strings.Contains(err.Error(), "AppSecret") {
		t.Errorf("Code2Session without secret = %v, want an error naming the AppSecret", err)
	}
}

// TestSessionKeyRedacted: fmt and log/slog never show a session_key.
func TestSessionKeyRedacted(t *testing.T) {
	t.Parallel()
	const key = "tiihtNczf5v6AKRyjwEUhQ=="
	s := &Session{OpenID: "o1", SessionKey: key}
	var logged, text bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "session", s, "key", s.SessionKey)
	slog.New(slog.NewTextHandler(&text, nil)).Info("login", "session", s, "key", s.SessionKey)
	encoded, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		fmt.Sprintf("%v", s), fmt.Sprintf("%+v", *s), fmt.Sprintf("%#v", s), fmt.Sprint(s.SessionKey),
		fmt.Sprintf("%s", s.SessionKey), logged.String(), text.String(), string(encoded),
	} {
		if strings.Contains(out, key) || strings.Contains(out, key[4:]) {
			t.Errorf("output %q shows the session_key", out)
		}
	}
	if string(s.SessionKey) != key {
		t.Errorf("string(SessionKey) = %q, want the value", string(s.SessionKey))
	}
	var decoded Session
	if err := json.Unmarshal([]byte(`{"openid":"o1","session_key":"`+key+`"}`), &decoded); err != nil || string(decoded.SessionKey) != key {
		t.Errorf("decoding a session_key = %q, %v; want the value", string(decoded.SessionKey), err)
	}
}

func TestCheckSession(t *testing.T) {
	t.Parallel()
	// hex(hmac_sha256(key="tiihtNczf5v6AKRyjwEUhQ==", "")), computed with
	// Python's hmac module.
	const key, sig = "tiihtNczf5v6AKRyjwEUhQ==", "7154f9f8b4b76b92f541cbf0e37d48840fa06e5e42da92a6f80168a1516a4735"
	if got := SessionSignature(key); got != sig {
		t.Fatalf("SessionSignature = %s, want %s", got, sig)
	}
	tests := []struct {
		name    string
		replies []string
		want    error
		calls   int32
	}{
		{"valid", []string{`{"errcode":0,"errmsg":"ok"}`}, nil, 1},
		{"invalid signature", []string{`{"errcode":87009,"errmsg":"invalid signature rid: 1"}`}, ErrSessionSignature, 1},
		{"system error retried", []string{`{"errcode":-1,"errmsg":"system error"}`, `{"errcode":0,"errmsg":"ok"}`}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, p := setup(t)
			mux.HandleFunc("GET /wxa/checksession", func(w http.ResponseWriter, r *http.Request) {
				testQuery(t, r, map[string]string{
					"access_token": "tok-1", "openid": "o1", "signature": sig, "sig_method": "hmac_sha256",
				})
				n := int(p.count("/wxa/checksession")) - 1
				fmt.Fprint(w, tt.replies[min(n, len(tt.replies)-1)])
			})
			err := c.CheckSession(t.Context(), "o1", key)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("CheckSession = %v, want %v", err, tt.want)
			}
			if n := p.count("/wxa/checksession"); n != tt.calls {
				t.Errorf("checksession calls = %d, want %d", n, tt.calls)
			}
		})
	}
	c, _, p := setup(t)
	if err := c.CheckSession(t.Context(), "", key); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("CheckSession(no openid) = %v, want ErrInvalidRequest", err)
	}
	if n := p.count("/wxa/checksession"); n != 0 {
		t.Errorf("an empty openid was sent (%d calls)", n)
	}
}
