package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/mp"
)

var testMenu = &MenuConfig{Button: []MenuButton{
	{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
	{Name: "菜单", SubButton: []MenuButton{
		{Type: "view", Name: "搜索", URL: "https://www.soso.com/"},
		{Type: "click", Name: "赞一下我们", Key: "V1001_GOOD"},
	}},
}}

// menuGateway is a gateway for the emulator's demo app, run with Run.
func menuGatewayConfig(t *testing.T, emu *emulatortest.Server, dbPath string, menu *MenuConfig) *Config {
	t.Helper()
	cfg := &Config{
		Listen: "127.0.0.1:0",
		Store:  "sqlite://" + dbPath,
		WeChat: WeChatConfig{APIBase: emu.URL, OpenBase: emu.URL, PayBase: emu.URL},
		OAuth:  OAuthConfig{Secret: testOAuthSecret},
		Apps: []AppConfig{{AppID: emulator.DemoAppID, Secret: emulator.DemoSecret, Token: emulator.DemoToken,
			EncodingAESKey: emulator.DemoEncodingAESKey, Menu: menu}},
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatalf("Normalize = %v", err)
	}
	return cfg
}

// runUntilSynced runs a gateway for cfg until its start-up menu sync has
// ended, then stops it, and returns the sync results and the log.
func runUntilSynced(t *testing.T, cfg *Config, whileRunning func(g *Gateway)) ([]MenuSyncResult, string) {
	t.Helper()
	logs := &logBuffer{}
	g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	defer g.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	select {
	case <-g.MenuSyncDone():
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before the menu sync ended: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("menu sync did not end")
	}
	if whileRunning != nil {
		whileRunning(g)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	return g.MenuSyncResults(), logs.String()
}

// emulatorMenu returns the menu the emulator shows the demo app's first
// user, as a MenuConfig.
func emulatorMenu(t *testing.T, emu *emulatortest.Server) *MenuConfig {
	t.Helper()
	um, err := emu.MenuFor(emulator.DemoAppID, emulator.DefaultConfig().Apps[0].Users[0].OpenID)
	if err != nil {
		t.Fatal(err)
	}
	if um == nil {
		return nil
	}
	b, _ := json.Marshal(um)
	var mc MenuConfig
	if err := json.Unmarshal(b, &mc); err != nil {
		t.Fatal(err)
	}
	return &mc
}

func TestMenuSyncAtStart(t *testing.T) {
	t.Parallel()
	emu := emulatortest.New(t, emulator.DefaultConfig())
	db := filepath.Join(t.TempDir(), "gw.db")
	creates := func() int { return emu.Stats().Count("/cgi-bin/menu/create", emulator.DemoAppID).Calls }
	gets := func() int { return emu.Stats().Count("/cgi-bin/menu/get", emulator.DemoAppID).Calls }

	// First start: no menu on WeChat → created.
	res, logs := runUntilSynced(t, menuGatewayConfig(t, emu, db, testMenu), nil)
	if d := cmp.Diff([]MenuSyncResult{{AppID: emulator.DemoAppID, Created: true}}, res); d != "" {
		t.Errorf("first start: results (-want +got):\n%s", d)
	}
	if !strings.Contains(logs, "menu sync: menu created") {
		t.Errorf("first start: outcome not logged:\n%s", logs)
	}
	if d := cmp.Diff(testMenu, emulatorMenu(t, emu)); d != "" {
		t.Errorf("emulator menu after sync (-want +got):\n%s", d)
	}
	if creates() != 1 {
		t.Errorf("menu/create calls = %d, want 1", creates())
	}

	// Second start, same menu: get, compare, no create.
	res, logs = runUntilSynced(t, menuGatewayConfig(t, emu, db, testMenu), nil)
	if d := cmp.Diff([]MenuSyncResult{{AppID: emulator.DemoAppID}}, res); d != "" {
		t.Errorf("second start: results (-want +got):\n%s", d)
	}
	if !strings.Contains(logs, "already matches") {
		t.Errorf("second start: outcome not logged:\n%s", logs)
	}
	if creates() != 1 || gets() != 2 {
		t.Errorf("after the second start: menu/create %d, menu/get %d calls; want 1 and 2", creates(), gets())
	}

	// Third start with a changed menu: created again.
	changed := &MenuConfig{Button: append([]MenuButton{}, testMenu.Button...)}
	changed.Button[0] = MenuButton{Type: "view", Name: "官网", URL: "https://example.com/"}
	res, _ = runUntilSynced(t, menuGatewayConfig(t, emu, db, changed), nil)
	if len(res) != 1 || !res[0].Created || res[0].Err != nil {
		t.Errorf("third start: results = %+v, want created", res)
	}
	if d := cmp.Diff(changed, emulatorMenu(t, emu)); d != "" {
		t.Errorf("emulator menu after the change (-want +got):\n%s", d)
	}
	if creates() != 2 {
		t.Errorf("menu/create calls = %d, want 2", creates())
	}
}

func TestMenuSyncFailureDoesNotStopTheGateway(t *testing.T) {
	t.Parallel()
	emu := emulatortest.New(t, emulator.DefaultConfig())
	if err := emu.InjectFault(emulator.Fault{Path: "/cgi-bin/menu/get", ErrCode: -1, Count: -1}); err != nil {
		t.Fatal(err)
	}
	cfg := menuGatewayConfig(t, emu, filepath.Join(t.TempDir(), "gw.db"), testMenu)
	res, logs := runUntilSynced(t, cfg, func(g *Gateway) {
		resp, err := http.Get(g.URL() + "/healthz")
		if err != nil {
			t.Fatalf("gateway not serving after a failed sync: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz = %d, want 200", resp.StatusCode)
		}
	})
	if len(res) != 1 || res[0].Err == nil || res[0].Created {
		t.Errorf("results = %+v, want one failure", res)
	}
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "menu sync: failed") {
		t.Errorf("failure not logged as an error:\n%s", logs)
	}
	if strings.Contains(logs, emulator.DemoSecret) {
		t.Errorf("log carries the secret:\n%s", logs)
	}
	if m := emulatorMenu(t, emu); m != nil {
		t.Errorf("menu created despite the failed get: %+v", m)
	}
}

func TestMenuSyncNoMenuConfigured(t *testing.T) {
	t.Parallel()
	emu := emulatortest.New(t, emulator.DefaultConfig())
	res, _ := runUntilSynced(t, menuGatewayConfig(t, emu, filepath.Join(t.TempDir(), "gw.db"), nil), nil)
	if len(res) != 0 {
		t.Errorf("results = %+v, want none", res)
	}
	if n := emu.Stats().Count("/cgi-bin/menu/get", emulator.DemoAppID).Calls; n != 0 {
		t.Errorf("menu/get calls = %d, want 0", n)
	}
}

func TestParseMenuFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     *MenuConfig
		wantErr  string
	}{
		{"yaml", `
button:
  - { type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC }
  - name: 菜单
    sub_button:
      - { type: view, name: 搜索, url: "https://www.soso.com/" }
      - { type: click, name: 赞一下我们, key: V1001_GOOD }
`, testMenu, ""},
		{"WeChat's JSON", `{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"},
			{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"https://www.soso.com/"},
			{"type":"click","name":"赞一下我们","key":"V1001_GOOD"}]}]}`, testMenu, ""},
		{"unknown key", "button:\n  - { type: click, name: a, key: k, color: red }\n", nil, "color"},
		{"name too long", "button:\n  - { type: click, name: 一二三四五六, key: k }\n", nil, `button[0] ("一二三四五六"): name is 18 bytes`},
		{"four buttons", "button:\n" + strings.Repeat("  - { type: click, name: a, key: k }\n", 4), nil, "button: 4 buttons"},
		{"empty", "", nil, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMenuFile([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseMenuFile = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMenuFile = %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseMenuFile (-want +got):\n%s", d)
			}
		})
	}
}

func TestMenuDiff(t *testing.T) {
	t.Parallel()
	local := testMenu.Menu()
	if d := MenuDiff(local, testMenu.Menu()); d != "" {
		t.Errorf("MenuDiff(equal) = %q, want empty", d)
	}
	// WeChat answers empty sub_button lists; they are not a difference.
	remote := testMenu.Menu()
	remote.Buttons[0].SubButtons = []mp.Button{}
	remote.MenuID = 42
	if !MenusEqual(remote, local) {
		t.Errorf("MenusEqual ignores neither empty sub_button nor menuid")
	}
	remote.Buttons[1].SubButtons[0].URL = "https://old.example/"
	want := `--- WeChat
+++ local
  "今日歌曲" click key=V1001_TODAY_MUSIC
  "菜单"
-     "搜索" view url=https://old.example/
+     "搜索" view url=https://www.soso.com/
      "赞一下我们" click key=V1001_GOOD
`
	if d := cmp.Diff(want, MenuDiff(remote, local)); d != "" {
		t.Errorf("MenuDiff (-want +got):\n%s", d)
	}
	if got := MenuDiff(nil, local); !strings.HasPrefix(got, "--- WeChat\n+++ local\n- (no menu)\n+ ") {
		t.Errorf("MenuDiff(no remote menu) = %q", got)
	}
}
