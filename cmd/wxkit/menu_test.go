package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/gateway"
)

const menuYAML = `button:
  - { type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC }
  - name: 菜单
    sub_button:
      - { type: view, name: 搜索, url: "https://www.soso.com/" }
      - { type: click, name: 赞一下我们, key: V1001_GOOD }
`

// menuCLI runs `wxkit menu ...` in-process against emu with a config file
// naming it, and returns stdout, stderr and the error.
type menuCLI struct {
	dir, config string
}

func newMenuCLI(t *testing.T, emu *emulatortest.Server) *menuCLI {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`store: sqlite://%s
wechat: { api_base: %q, open_base: %q }
apps:
  - { appid: %s, secret: %s, token: %s }
`, filepath.Join(dir, "wxkit.db"), emu.URL, emu.URL, emulator.DemoAppID, emulator.DemoSecret, emulator.DemoToken)
	path := filepath.Join(dir, "wxkit.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &menuCLI{dir: dir, config: path}
}

func (c *menuCLI) run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := m.Run(t.Context(), append(append([]string{"menu"}, args...), "--config", c.config))
	return out.String(), errOut.String(), err
}

func (c *menuCLI) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestMenuCommands(t *testing.T) {
	emu := emulatortest.New(t, emulator.DefaultConfig())
	cli := newMenuCLI(t, emu)
	file := cli.file(t, "menu.yaml", menuYAML)
	creates := func() int { return emu.Stats().Count("/cgi-bin/menu/create", emulator.DemoAppID).Calls }

	// No menu yet: get says so, diff shows everything as new.
	if _, stderr, err := cli.run(t, "get"); exitCode(err) != 1 || !strings.Contains(stderr, "has no menu") {
		t.Errorf("menu get without a menu = %v, stderr %q; want exit 1, \"has no menu\"", err, stderr)
	}
	out, _, err := cli.run(t, "diff", "--file", file)
	if exitCode(err) != 1 || !strings.Contains(out, "- (no menu)") || !strings.Contains(out, `+ "今日歌曲" click key=V1001_TODAY_MUSIC`) {
		t.Errorf("menu diff before push = %v:\n%s", err, out)
	}

	out, _, err = cli.run(t, "push", "--file", file, "--app", emulator.DemoAppID)
	if err != nil || !strings.Contains(out, "created (2 buttons)") || creates() != 1 {
		t.Fatalf("menu push = %v, %q, %d creates", err, out, creates())
	}

	// get prints a menu file that round-trips.
	out, _, err = cli.run(t, "get")
	if err != nil {
		t.Fatalf("menu get = %v", err)
	}
	printed, err := gateway.ParseMenuFile([]byte(out))
	if err != nil {
		t.Fatalf("menu get printed an invalid menu file: %v\n%s", err, out)
	}
	pushed, _ := gateway.ParseMenuFile([]byte(menuYAML))
	if d := cmp.Diff(pushed, printed); d != "" {
		t.Errorf("menu get (-pushed +printed):\n%s", d)
	}
	out, _, err = cli.run(t, "diff", "--file", cli.file(t, "got.yaml", out))
	if err != nil || !strings.Contains(out, "up to date") {
		t.Errorf("menu diff of get's output = %v, %q; want up to date", err, out)
	}

	// A local change shows as -/+ lines, exit status 1.
	changed := strings.Replace(menuYAML, "https://www.soso.com/", "https://www.example.com/", 1)
	out, _, err = cli.run(t, "diff", "--file", cli.file(t, "changed.yaml", changed))
	want := `--- WeChat
+++ local
  "今日歌曲" click key=V1001_TODAY_MUSIC
  "菜单"
-     "搜索" view url=https://www.soso.com/
+     "搜索" view url=https://www.example.com/
      "赞一下我们" click key=V1001_GOOD
`
	if exitCode(err) != 1 {
		t.Errorf("menu diff of a change: exit %d, want 1", exitCode(err))
	}
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("menu diff (-want +got):\n%s", d)
	}

	// An invalid file fails before any call, naming the button.
	bad := cli.file(t, "bad.yaml", "button:\n  - { type: click, name: 这个名字实在是太长了, key: k }\n")
	_, _, err = cli.run(t, "push", "--file", bad)
	if err == nil || !strings.Contains(err.Error(), "button[0]") || creates() != 1 {
		t.Errorf("menu push of an invalid menu = %v (%d creates), want an error naming button[0] and no call", err, creates())
	}

	out, _, err = cli.run(t, "delete")
	if err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("menu delete = %v, %q", err, out)
	}
	if m, _ := emu.MenuFor(emulator.DemoAppID, emulator.DefaultConfig().Apps[0].Users[0].OpenID); m != nil {
		t.Errorf("emulator still has a menu after delete: %+v", m)
	}

	if _, _, err := cli.run(t, "push"); err == nil || !strings.Contains(err.Error(), "--file is required") {
		t.Errorf("menu push without a file = %v", err)
	}
	if _, _, err := cli.run(t, "get", "--app", "wx00000000000000ff"); err == nil || !strings.Contains(err.Error(), "not in the configuration") {
		t.Errorf("menu get --app unknown = %v", err)
	}
}
