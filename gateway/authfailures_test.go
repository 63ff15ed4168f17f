package gateway

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// textAttr matches one key=value of a slog text line.
var textAttr = regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`)

// failureLines returns the "failed authentications" lines of a text log as
// "client failures throttled".
func failureLines(log string) []string {
	var out []string
	for line := range strings.SplitSeq(log, "\n") {
		if !strings.Contains(line, `msg="token service: failed authentications"`) {
			continue
		}
		attrs := map[string]string{}
		for _, m := range textAttr.FindAllStringSubmatch(line, -1) {
			attrs[m[1]] = strings.Trim(m[2], `"`)
		}
		out = append(out, attrs["client"]+" "+attrs["failures"]+" "+attrs["throttled"])
	}
	return out
}

// TestTokenServiceAuthFailureBrake: 200 wrong bearer secrets from one
// client: the first auth_failures_burst are answered 401, the rest 429 with
// Retry-After, and the log has one line for them. The brake then refuses
// that client's right secret and its invalidation reports too (also through
// a trusted proxy), while another client's right secret still gets its
// token, and another client's wrong secret its own 401.
func TestTokenServiceAuthFailureBrake(t *testing.T) {
	t.Parallel()
	const secret = "brake-bearer-secret"
	emu := emulatortest.New(t, emulator.DefaultConfig())
	cfg := &Config{
		Store:        "sqlite://" + filepath.Join(t.TempDir(), "gw.db"),
		WeChat:       WeChatConfig{APIBase: emu.URL, OpenBase: emu.URL, PayBase: emu.URL},
		TokenService: TokenServiceConfig{Secret: secret},
		OpsConfig: OpsConfig{Limits: LimitsConfig{AuthFailuresPerMinute: 1, AuthFailuresBurst: 5,
			TrustedProxies: []string{"10.0.0.0/8"}}},
		Apps: []AppConfig{{AppID: emulator.DemoAppID, Secret: emulator.DemoSecret, Token: emulator.DemoToken}},
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	call := func(method, path, remote, xff, auth string) *httptest.ResponseRecorder {
		var r *http.Request
		if method == "POST" {
			r = httptest.NewRequest(method, path, strings.NewReader(`{"access_token":"x"}`))
		} else {
			r = httptest.NewRequest(method, path, nil)
		}
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		r.Header.Set("Authorization", auth)
		return serveGateway(g, r)
	}
	tokenPath := "/token/" + emulator.DemoAppID

	statuses := map[int]int{}
	firstRefusal := 0
	for i := range 200 {
		w := call("GET", tokenPath, "203.0.113.7:4000", "", fmt.Sprintf("Bearer guess-%d", i))
		statuses[w.Code]++
		if w.Code == http.StatusTooManyRequests && firstRefusal == 0 {
			firstRefusal = i + 1
			secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
			if err != nil || secs < 1 || secs > 60 {
				t.Errorf("Retry-After = %q, want 1 to 60 seconds", w.Header().Get("Retry-After"))
			}
			var te tokenError
			if err := json.Unmarshal(w.Body.Bytes(), &te); err != nil || te.ErrCode == 0 {
				t.Errorf("429 body %q, want errcode/errmsg JSON", w.Body)
			}
		}
	}
	if diff := cmp.Diff(map[int]int{401: 5, 429: 195}, statuses); diff != "" {
		t.Errorf("statuses of 200 wrong secrets (-want +got):\n%s", diff)
	}
	if firstRefusal != 6 {
		t.Errorf("first 429 at attempt %d, want 6 (after a burst of 5)", firstRefusal)
	}

	for _, tc := range []struct {
		name                         string
		method, path, remote, xff, a string
		want                         int
	}{
		{"the braked client's right secret", "GET", tokenPath, "203.0.113.7:4001", "", "Bearer " + secret, 429},
		{"the braked client's report", "POST", tokenPath + "/invalidate", "203.0.113.7:4002", "", "Bearer " + secret, 429},
		{"the braked client through the proxy", "GET", tokenPath, "10.0.0.5:4003", "203.0.113.7", "Bearer " + secret, 429},
		{"another client's right secret", "GET", tokenPath, "198.51.100.9:4004", "", "Bearer " + secret, 200},
		{"another client's wrong secret, through the proxy", "GET", tokenPath, "10.0.0.5:4005", "198.51.100.10", "Bearer nope", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := call(tc.method, tc.path, tc.remote, tc.xff, tc.a)
			if w.Code != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, w.Code, w.Body, tc.want)
			}
		})
	}

	if diff := cmp.Diff([]string{"203.0.113.7 1 0", "198.51.100.10 1 0"}, failureLines(logs.String())); diff != "" {
		t.Errorf("failed-authentication log lines [client failures throttled] (-want +got):\n%s\n%s", diff, logs)
	}
	if n := strings.Count(logs.String(), "\n"); n > 10 {
		t.Errorf("%d log lines for 205 failed or refused requests, want a handful:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "guess-") || strings.Contains(logs.String(), secret) {
		t.Errorf("a presented secret is in the log:\n%s", logs)
	}
}

// TestAuthFailuresSummary: at most one log line per client a minute; the
// first failure at once, the rest as counts (failures answered 401,
// refusals answered 429) once the minute has passed; quiet clients are
// forgotten. Clients beyond maxFailureLogKeys share one line.
func TestAuthFailuresSummary(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &logBuffer{}
		a := newAuthFailures(&LimitsConfig{AuthFailuresPerMinute: 10, AuthFailuresBurst: 3},
			slog.New(slog.NewTextHandler(logs, nil)), time.Now)
		attempt := func(remote string, n int) {
			for range n {
				r := httptest.NewRequest("GET", "/token/wx1", nil)
				r.RemoteAddr = remote
				w := httptest.NewRecorder()
				if key, refused := a.refuse(w, r); !refused {
					a.failed(r, key)
				}
			}
		}
		var want []string
		check := func(when string) {
			t.Helper()
			synctest.Wait()
			if diff := cmp.Diff(want, failureLines(logs.String())); diff != "" {
				t.Errorf("%s: lines [client failures throttled] (-want +got):\n%s", when, diff)
			}
		}

		attempt("192.0.2.1:1", 100) // 3 failures, 97 refusals
		want = append(want, "192.0.2.1 1 0")
		check("at 0 s")

		time.Sleep(30 * time.Second) // 5 tokens back, 3 kept (the burst)
		attempt("192.0.2.1:1", 50)   // 3 failures, 47 refusals
		attempt("192.0.2.2:1", 1)
		want = append(want, "192.0.2.2 1 0")
		check("at 30 s")

		time.Sleep(31 * time.Second)
		want = append(want, "192.0.2.1 5 144")
		check("at 61 s")

		time.Sleep(2 * time.Minute)
		check("at 181 s")
		a.mu.Lock()
		left := len(a.counts)
		a.mu.Unlock()
		if left != 0 {
			t.Errorf("%d clients still tracked after two quiet minutes, want 0", left)
		}

		// More clients than are tracked apart: the rest share a line.
		for i := range maxFailureLogKeys + 3 {
			attempt(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255), 1)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		lines := failureLines(logs.String())
		var others []string
		for _, l := range lines {
			if strings.HasPrefix(l, otherClients) {
				others = append(others, l)
			}
		}
		if diff := cmp.Diff([]string{otherClients + " 1 0", otherClients + " 2 0"}, others); diff != "" {
			t.Errorf("lines of untracked clients (-want +got):\n%s", diff)
		}
		if n := len(lines) - len(want) - len(others); n != maxFailureLogKeys {
			t.Errorf("%d lines for tracked clients, want %d", n, maxFailureLogKeys)
		}
	})
}
