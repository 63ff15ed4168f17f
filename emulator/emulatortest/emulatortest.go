// Package emulatortest starts an in-process WeChat emulator for tests.
//
//	srv := emulatortest.New(t, emulator.DefaultConfig())
//	client, _ := mp.NewClient(emulator.DemoAppID, emulator.DemoSecret, mp.WithBaseURL(srv.URL+"/"))
package emulatortest

import (
	"net/http/httptest"
	"testing"

	"github.com/wxkit/wxkit/emulator"
)

// Server is an Emulator listening on a loopback httptest server.
type Server struct {
	*emulator.Emulator
	// URL is the base URL of the emulator ("http://127.0.0.1:port", no
	// trailing slash); it serves the API, open and pay hosts and /_emulator/.
	URL string
	// HTTP is the underlying test server.
	HTTP *httptest.Server
}

// New starts an emulator for cfg on a loopback listener and closes it when
// the test ends. It fails the test when cfg is invalid.
func New(tb testing.TB, cfg emulator.Config, opts ...emulator.Option) *Server {
	tb.Helper()
	e, err := emulator.New(cfg, opts...)
	if err != nil {
		tb.Fatalf("emulatortest.New: %v", err)
	}
	hs := httptest.NewServer(e)
	tb.Cleanup(func() {
		hs.Close()
		e.Close() // stops the timers of scheduled pushes (tickets, notifies)
	})
	return &Server{Emulator: e, URL: hs.URL, HTTP: hs}
}
