package emulatortest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/wxkit/wxkit/emulator"
)

func TestNewServesOverHTTP(t *testing.T) {
	t.Parallel()
	srv := New(t, emulator.DefaultConfig())
	q := url.Values{"grant_type": {"client_credential"}, "appid": {emulator.DemoAppID}, "secret": {emulator.DemoSecret}}
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/cgi-bin/token?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn != 7200 {
		t.Fatalf("GET /cgi-bin/token = %s (%v)", b, err)
	}
	if got := srv.Stats().TokenFetches[emulator.DemoAppID].CGIBinToken; got != 1 {
		t.Errorf("token fetches = %d, want 1", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		New(ft, emulator.Config{Apps: []emulator.AppConfig{{AppID: "wx1"}}})
	}()
	if !ft.failed {
		t.Error("New accepted an app without a secret")
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}

func (f *fatalRecorder) Helper() {}
