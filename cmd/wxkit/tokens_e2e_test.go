package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/internal/testenv"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/token"
)

// Multi-process tests of the central token service: four `wxkit serve`
// processes built from this package share one Redis (or one SQLite file)
// and serve /token/{appid} to 50 concurrent callers.
//
// The processes cannot share the in-process emulator's clock, so after
// POST /_emulator/clock {"advance":"2h"} they still hold the old token and
// believe it valid. The callers find out when they use it (42001) and, as
// every service using the token service should, report it through POST
// /token/{appid}/invalidate (token.Remote does so for mp.Client before its
// single retry). Expiry driven by the clock itself is covered in-process by
// gateway's TestTokenServiceOneFetchPerLifetime, where the gateways share
// the emulator's clock.

// wxkitBinary is the wxkit binary built once for the tests that need real
// processes.
var wxkitBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if wxkitBinary.dir != "" {
		os.RemoveAll(wxkitBinary.dir)
	}
	os.Exit(code)
}

// buildWxkit builds this package into a temporary directory, once per test
// binary, and returns the executable's path.
func buildWxkit(t *testing.T) string {
	t.Helper()
	wxkitBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "wxkit-e2e-bin-")
		if err != nil {
			wxkitBinary.err = err
			return
		}
		wxkitBinary.dir = dir
		wxkitBinary.path = filepath.Join(dir, "wxkit")
		out, err := exec.Command("go", "build", "-o", wxkitBinary.path, ".").CombinedOutput()
		if err != nil {
			wxkitBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if wxkitBinary.err != nil {
		t.Fatalf("building wxkit: %v", wxkitBinary.err)
	}
	return wxkitBinary.path
}

// e2eRedisURL returns the test Redis URL (testenv.RedisURL) with a key
// prefix unique to one run. testenv skips t when Redis is unreachable, or
// fails it under CI=true.
func e2eRedisURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("test Redis URL: %v", err)
	}
	q := u.Query()
	q.Set("prefix", "wxkit-e2e-procs-"+randomHex(6)+":")
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serveProc is one running `wxkit serve` process.
type serveProc struct {
	url    string
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe starts `wxkit serve --config cfg` on a free port and waits
// until /healthz answers 200. The process is interrupted (as by Ctrl-C)
// when the test ends, and killed if it does not exit within 10 s.
func startServe(t *testing.T, bin, cfg string) *serveProc {
	t.Helper()
	var last string
	for range 3 { // a port picked free may be taken before the process binds it
		p := &serveProc{output: new(syncBuffer), exited: make(chan struct{})}
		addr := freeAddr(t)
		p.url = "http://" + addr
		p.cmd = exec.Command(bin, "serve", "--config", cfg, "--listen", addr)
		p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("starting wxkit serve: %v", err)
		}
		go func() { p.cmd.Wait(); close(p.exited) }()
		t.Cleanup(func() {
			p.cmd.Process.Signal(os.Interrupt)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
				<-p.exited
				t.Errorf("wxkit serve at %s did not exit on interrupt; output:\n%s", addr, p.output)
			}
		})
		if p.waitHealthy(t) {
			return p
		}
		last = p.output.String()
		if !strings.Contains(last, "address already in use") {
			break
		}
	}
	t.Fatalf("wxkit serve exited before it was healthy; output:\n%s", last)
	return nil
}

// waitHealthy polls /healthz until it answers 200 (true) or the process
// exits (false); it fails the test after 30 s.
func (p *serveProc) waitHealthy(t *testing.T) bool {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", p.url+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-p.exited:
			return false
		case <-deadline.C:
			t.Fatalf("wxkit serve at %s not healthy after 30 s (last error %v); output:\n%s", p.url, err, p.output)
		case <-tick.C:
		}
	}
}

const (
	procBearer    = "multi-process-bearer"
	procAppSecret = "multi-process-app-secret-0123456"
)

// callersGetToken has n callers ask for appID's access_token at once
// through token.Remote, caller i at procs[i%len(procs)], and returns the
// single value they all got (failing the test if they differ).
func callersGetToken(t *testing.T, procs []*serveProc, appID string, n int) string {
	t.Helper()
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := token.NewRemote(procs[i%len(procs)].url, appID, token.KindAccessToken, procBearer).Token(t.Context())
			if err != nil {
				errs[i] = fmt.Errorf("caller %d: %w", i, err)
				return
			}
			got[i] = tok.Value
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Remote.Token: %v", err)
	}
	for i, v := range got {
		if v != got[0] {
			t.Fatalf("caller %d got a different token than caller 0 (%d callers)", i, n)
		}
	}
	return got[0]
}

// TestServeProcessesShareOneToken: four `wxkit serve` processes sharing a
// store make exactly one stable_token fetch for 50 concurrent callers of
// /token/{appid}; after the emulator's clock passes the token's expiry,
// the callers using the old token get 42001 from the platform, report it
// through /token/{appid}/invalidate, retry once and all succeed, with
// exactly one more fetch in all four processes.
func TestServeProcessesShareOneToken(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts 4 wxkit serve processes per store (-short)")
	}
	bin := buildWxkit(t)
	for _, backend := range []string{"redis", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			redis := ""
			if backend == "redis" {
				redis = e2eRedisURL(t)
			}
			appID := "wx" + randomHex(8)
			emu := emulatortest.New(t, emulator.Config{Apps: []emulator.AppConfig{{
				AppID: appID, Secret: procAppSecret, Token: "proctoken", Users: []emulator.UserConfig{{Nickname: "u"}},
			}}})
			dir := t.TempDir()
			procs := make([]*serveProc, 4)
			for i := range procs {
				// With Redis each process has a database of its own, so that
				// Redis alone is what they share.
				db := filepath.Join(dir, "shared.db")
				if redis != "" {
					db = filepath.Join(dir, fmt.Sprintf("gw%d.db", i))
				}
				cfg := filepath.Join(dir, fmt.Sprintf("gw%d.yaml", i))
				y := fmt.Sprintf(`store: sqlite://%s
redis: %q
wechat: { api_base: %s, open_base: %s, pay_base: %s }
token_service: { secret: %s }
oauth: { secret: e2e-oauth-state-signing-key }
log: { level: warn }
apps:
  - { appid: %s, secret: %s, token: proctoken }
`, db, redis, emu.URL, emu.URL, emu.URL, procBearer, appID, procAppSecret)
				if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
					t.Fatal(err)
				}
				procs[i] = startServe(t, bin, cfg)
			}
			const callers = 50
			fetches := func() int { return emu.Stats().TokenFetches[appID].Total }

			first := callersGetToken(t, procs, appID, callers)
			if n := fetches(); n != 1 {
				t.Fatalf("emulator token fetches after %d callers of 4 processes = %d, want 1", callers, n)
			}

			advanceClock(t, emu.URL, "2h")
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					src := token.NewRemote(procs[i%len(procs)].url, appID, token.KindAccessToken, procBearer)
					c, err := mp.NewClient(appID, "", mp.WithTokenSource(src), mp.WithBaseURL(emu.URL))
					if err == nil {
						_, err = c.Tag().List(t.Context())
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("caller %d: Tag().List after expiry = %v, want success after one retry", i, err)
				}
			}
			st := emu.Stats()
			if got := st.Count("/cgi-bin/tags/get", appID); got.Calls-got.Errors != callers || got.Errors < 1 || got.Errors > callers {
				t.Errorf("tags/get = %+v, want %d successes after 1..%d rejections (42001)", got, callers, callers)
			}
			if n := fetches(); n != 2 {
				t.Errorf("emulator token fetches after expiry = %d, want 2", n)
			}
			second := callersGetToken(t, procs, appID, callers)
			if second == first {
				t.Errorf("after expiry the processes still serve the expired token")
			}
			if n := fetches(); n != 2 {
				t.Errorf("emulator token fetches at the end = %d, want 2", n)
			}
			t.Logf("%s: %d callers, 4 processes: %d fetches in 2 token lifetimes; tags/get %+v", backend, callers, fetches(), st.Count("/cgi-bin/tags/get", appID))
		})
	}
}

// advanceClock moves the emulator's clock through its control API.
func advanceClock(t *testing.T, emuURL, d string) {
	t.Helper()
	resp, err := http.Post(emuURL+"/_emulator/clock", "application/json", strings.NewReader(`{"advance":"`+d+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_emulator/clock = %d", resp.StatusCode)
	}
}
