package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/token"
)

// TestComponentCLI: an account authorizes the component served by a
// gateway; `wxkit component list` shows it without any token, and `wxkit
// menu push --component --authorizer` sets its menu with its authorizer
// token, from the same store.
func TestComponentCLI(t *testing.T) {
	ecfg := emulator.DefaultConfig()
	ecfg.Components = []emulator.ComponentConfig{devEmulatorComponent()}
	emu := emulatortest.New(t, ecfg)
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`store: sqlite://%s
wechat: { api_base: %q, open_base: %q, mp_base: %q }
components:
  - appid: %s
    secret: %s
    token: %s
    encoding_aes_key: %s
    authorizer_replies: { default: { echo: true } }
`, filepath.Join(dir, "wxkit.db"), emu.URL, emu.URL, emu.URL, DevComponentAppID, DevComponentSecret, DevComponentToken, DevComponentAESKey)
	path := filepath.Join(dir, "wxkit.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := gateway.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	if err := startDevComponent(t.Context(), emu.Emulator, srv.URL, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	p, err := emu.PushComponentTicket(t.Context(), DevComponentAppID)
	if err != nil || !p.Acknowledged {
		t.Fatalf("ticket push = %+v, %v", p, err)
	}
	comp, err := g.Component(DevComponentAppID)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := comp.PreAuthCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	res, err := emu.AuthorizeComponent(t.Context(), DevComponentAppID, emulator.DemoAppID, pre.Code, srv.URL+"/component/"+DevComponentAppID+"/callback")
	if err != nil || !res.Event.Acknowledged {
		t.Fatalf("authorize = %+v, %v", res, err)
	}

	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
		err := m.Run(t.Context(), append(args, "--config", path))
		return out.String() + errOut.String(), err
	}
	out, err := run("component", "list")
	if err != nil {
		t.Fatalf("component list = %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], emulator.DemoAppID) || !strings.Contains(lines[1], "wxkit 演示号") ||
		!strings.Contains(lines[1], " authorized ") || !strings.HasPrefix(lines[1], DevComponentAppID) {
		t.Fatalf("component list =\n%s\nwant one authorized row for the demo app", out)
	}
	at, err := g.Stores().Tokens.Get(t.Context(), token.AuthorizerTokenKey(DevComponentAppID, emulator.DemoAppID))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, at.Value) || strings.Contains(out, "refreshtoken@@@") {
		t.Errorf("component list printed a token:\n%s", out)
	}

	menu := filepath.Join(dir, "menu.yaml")
	if err := os.WriteFile(menu, []byte(menuYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("menu", "push", "--component", DevComponentAppID, "--file", menu); err == nil || !strings.Contains(err.Error(), "--authorizer") {
		t.Errorf("menu push --component without --authorizer = %v, %s; want an error naming --authorizer", err, out)
	}
	out, err = run("menu", "push", "--component", DevComponentAppID, "--authorizer", emulator.DemoAppID, "--file", menu)
	if err != nil || !strings.Contains(out, "menu of "+emulator.DemoAppID+" created (2 buttons)") {
		t.Fatalf("menu push for the authorizer = %v: %s", err, out)
	}
	um, err := emu.MenuFor(emulator.DemoAppID, ecfg.Apps[0].Users[0].OpenID)
	if err != nil {
		t.Fatal(err)
	}
	if len(um.Buttons) != 2 || um.Buttons[0].Name != "今日歌曲" {
		t.Errorf("the account's menu in the emulator = %+v, want the pushed menu", um.Buttons)
	}
}
