package mp

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
)

// TestMenuCorpusRequestsRoundTrip decodes every menu request body of the
// corpus into Menu and re-encodes it: the JSON must be the same document.
func TestMenuCorpusRequestsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range corpus.Glob(t, "api/cgi-bin_menu_*.request.json") {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			raw := corpus.ReadFile(t, "api", filepath.Base(p))
			var m Menu
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("Unmarshal = %v", err)
			}
			out, err := json.Marshal(&m)
			if err != nil {
				t.Fatalf("Marshal = %v", err)
			}
			var want, got map[string]any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("re-encoded menu mismatch (-corpus +ours):\n%s", diff)
			}
			if err := DefaultMenuLimits().Validate(&m); err != nil {
				t.Errorf("Validate(corpus menu) = %v, want nil", err)
			}
		})
	}
}

func TestMenuCorpusGetDecodes(t *testing.T) {
	t.Parallel()
	var plain MenuConfig
	corpus.DecodeJSON(t, &plain, "api", "cgi-bin_menu_get.json")
	want := MenuConfig{Menu: Menu{Buttons: []Button{{Type: ButtonTypeClick, Name: "test", Key: "test", SubButtons: []Button{}}}}}
	if diff := cmp.Diff(want, plain); diff != "" {
		t.Errorf("menu/get mismatch (-want +got):\n%s", diff)
	}

	var cond MenuConfig
	corpus.DecodeJSON(t, &cond, "api", "cgi-bin_menu_get_conditional.json")
	if cond.Menu.MenuID != 449778320 || len(cond.Menu.Buttons) != 3 || cond.Menu.Buttons[1].Name != "💕秦枫💕" {
		t.Errorf("default menu = %+v, want menuid 449778320 and 3 buttons", cond.Menu)
	}
	if got := len(cond.Menu.Buttons[2].SubButtons); got != 4 {
		t.Errorf("sub buttons of button[2] = %d, want 4", got)
	}
	var ids []MenuID
	var rules []MatchRule
	for _, m := range cond.ConditionalMenus {
		ids = append(ids, m.MenuID)
		rules = append(rules, *m.MatchRule)
	}
	if diff := cmp.Diff([]MenuID{449778326, 449778324}, ids); diff != "" {
		t.Errorf("conditional menuids mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]MatchRule{{ClientPlatformType: "1"}, {ClientPlatformType: "2"}}, rules); diff != "" {
		t.Errorf("match rules mismatch (-want +got):\n%s", diff)
	}
}

func TestMenuIDUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    MenuID
		wantErr bool
	}{
		{`208379533`, 208379533, false},
		{`"208379533"`, 208379533, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`"abc"`, 0, true},
		{`1.5`, 0, true},
	}
	for _, tc := range tests {
		var id MenuID
		err := json.Unmarshal([]byte(tc.in), &id)
		if (err != nil) != tc.wantErr || id != tc.want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d, error %v", tc.in, id, err, tc.want, tc.wantErr)
		}
	}
}

func corpusMenu(t *testing.T, name string) *Menu {
	t.Helper()
	m := new(Menu)
	corpus.DecodeJSON(t, m, "api", name)
	return m
}

func TestMenuServiceLifecycle(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	menu := env.c.Menu()

	if _, err := menu.Get(ctx); !errors.Is(err, wxkit.ErrMenuNotFound) {
		t.Fatalf("Menu.Get(no menu) = %v, want 46003", err)
	}
	if info, err := menu.GetCurrentSelfMenuInfo(ctx); err != nil || info.IsMenuOpen != 0 {
		t.Fatalf("Menu.GetCurrentSelfMenuInfo(no menu) = %+v, %v; want is_menu_open 0", info, err)
	}
	// A conditional menu needs a default menu.
	cond := corpusMenu(t, "cgi-bin_menu_addconditional_tagid.request.json")
	cond.MatchRule = &MatchRule{TagID: "2"}
	if _, err := menu.AddConditional(ctx, cond); !errors.Is(err, &wxkit.APIError{ErrCode: 65303}) {
		t.Fatalf("Menu.AddConditional(no default menu) = %v, want 65303", err)
	}

	def := corpusMenu(t, "cgi-bin_menu_create.request.json")
	if err := menu.Create(ctx, def); err != nil {
		t.Fatalf("Menu.Create = %v", err)
	}
	got, err := menu.Get(ctx)
	if err != nil {
		t.Fatalf("Menu.Get = %v", err)
	}
	if got.Menu.MenuID == 0 {
		t.Errorf("Menu.Get: menuid = 0, want one")
	}
	// menu/get answers sub_button [] on every button, as WeChat does.
	norm := func(bs []Button) []Button {
		for i := range bs {
			if bs[i].SubButtons == nil {
				bs[i].SubButtons = []Button{}
			}
			for j := range bs[i].SubButtons {
				bs[i].SubButtons[j].SubButtons = []Button{}
			}
		}
		return bs
	}
	if diff := cmp.Diff(norm(corpusMenu(t, "cgi-bin_menu_create.request.json").Buttons), got.Menu.Buttons); diff != "" {
		t.Errorf("Menu.Get buttons mismatch (-created +got):\n%s", diff)
	}

	// Conditional menu for tag 2 (星标组): 李四 gets it, 张三 does not.
	id, err := menu.AddConditional(ctx, cond)
	if err != nil || id == 0 {
		t.Fatalf("Menu.AddConditional = %d, %v", id, err)
	}
	if err := env.c.Tag().TagUsers(ctx, 2, []string{env.users[1]}); err != nil {
		t.Fatalf("Tag.TagUsers = %v", err)
	}
	got, err = menu.Get(ctx)
	if err != nil || len(got.ConditionalMenus) != 1 || got.ConditionalMenus[0].MenuID != id ||
		got.ConditionalMenus[0].MatchRule == nil || got.ConditionalMenus[0].MatchRule.TagID != "2" {
		t.Fatalf("Menu.Get = %+v, %v; want one conditional menu %d for tag 2", got, err, id)
	}
	m, err := menu.TryMatch(ctx, env.users[1])
	if err != nil || len(m.Buttons) != 2 || m.Buttons[1].Name != "菜单" {
		t.Errorf("Menu.TryMatch(tagged) = %+v, %v; want the conditional menu", m, err)
	}
	m, err = menu.TryMatch(ctx, env.users[0])
	if err != nil || len(m.Buttons) != 3 {
		t.Errorf("Menu.TryMatch(untagged) = %+v, %v; want the default menu", m, err)
	}
	if _, err := menu.TryMatch(ctx, "nobody"); !errors.Is(err, &wxkit.APIError{ErrCode: 65302}) {
		t.Errorf("Menu.TryMatch(unknown) = %v, want 65302", err)
	}

	info, err := menu.GetCurrentSelfMenuInfo(ctx)
	if err != nil || info.IsMenuOpen != 1 || len(info.Menu.Buttons) != 3 ||
		info.Menu.Buttons[2].SubButtons == nil || len(info.Menu.Buttons[2].SubButtons.List) != 3 ||
		info.Menu.Buttons[2].SubButtons.List[0].URL != "http://www.soso.com/" {
		t.Errorf("Menu.GetCurrentSelfMenuInfo = %+v, %v", info, err)
	}

	if err := menu.DeleteConditional(ctx, id); err != nil {
		t.Fatalf("Menu.DeleteConditional = %v", err)
	}
	if err := menu.DeleteConditional(ctx, id); !errors.Is(err, wxkit.ErrConditionalMenuMissing) {
		t.Errorf("Menu.DeleteConditional(again) = %v, want 65301", err)
	}
	if err := menu.Delete(ctx); err != nil {
		t.Fatalf("Menu.Delete = %v", err)
	}
	if _, err := menu.Get(ctx); !errors.Is(err, wxkit.ErrMenuNotFound) {
		t.Errorf("Menu.Get(after delete) = %v, want 46003", err)
	}
}

func TestMenuAddConditionalNeedsRule(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	m := &Menu{Buttons: []Button{click("一")}, MatchRule: &MatchRule{}}
	if _, err := env.c.Menu().AddConditional(ctx, m); !errors.As(err, new(*MenuError)) {
		t.Errorf("AddConditional(empty rule) = %v, want *MenuError", err)
	}
	if err := env.c.Menu().Create(ctx, &Menu{Buttons: []Button{click("一")}}); err != nil {
		t.Fatal(err)
	}
	_, err := env.c.Menu().AddConditional(ctx, m, SkipMenuValidation())
	var ae *wxkit.APIError
	if !errors.As(err, &ae) || ae.ErrCode != 65304 {
		t.Errorf("AddConditional(empty rule, unvalidated) = %v, want *wxkit.APIError 65304", err)
	}
	if err := env.c.Menu().Create(ctx, m); err == nil {
		t.Errorf("Create(menu with matchrule) = nil, want an error")
	}
}

// TestMenuLimitsEmulatorAgrees sends every menu of the validation table to
// the emulator, once through the client's validation and once without: the
// client and the emulator must accept and reject the same menus with the
// same errcodes, and a menu the client rejects never reaches the wire.
func TestMenuLimitsEmulatorAgrees(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	menu := env.c.Menu()
	for _, tc := range menuCases() {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			before := env.srv.Stats().Count("/cgi-bin/menu/create", emuAppID).Calls
			local := menu.Create(ctx, &tc.menu)
			calls := env.srv.Stats().Count("/cgi-bin/menu/create", emuAppID).Calls - before
			remote := menu.Create(ctx, &tc.menu, SkipMenuValidation())
			if tc.code == 0 {
				if local != nil || remote != nil {
					t.Fatalf("Menu.Create = %v (validated), %v (unvalidated); want nil, nil", local, remote)
				}
				return
			}
			if _, ok := errors.AsType[*MenuError](local); !ok {
				t.Errorf("Menu.Create(validated) = %v, want *MenuError", local)
			}
			if calls != 0 {
				t.Errorf("Menu.Create(validated) made %d calls, want 0", calls)
			}
			wantCode(t, "Menu.Create(validated)", local, tc.code)
			ae, ok := errors.AsType[*wxkit.APIError](remote)
			if !ok || ae.ErrCode != tc.code {
				t.Errorf("Menu.Create(unvalidated) = %v, want *wxkit.APIError %d from the emulator", remote, tc.code)
			}
		})
	}
}

func TestMenuLimitsCustom(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	old := DefaultMenuLimits()
	old.MaxSubNameBytes = 40
	m := &Menu{Buttons: []Button{{Name: "菜单", SubButtons: []Button{click(bytesOf(41))}}}}
	wantCode(t, "Menu.Create(41-byte sub name, limit 40)", env.c.Menu().Create(t.Context(), m, UseMenuLimits(old)), 40025)
	if err := env.c.Menu().Create(t.Context(), m); err != nil {
		t.Errorf("Menu.Create(41-byte sub name, default limits) = %v, want nil", err)
	}
}

func TestMenuLimitsClientOptions(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	m := &Menu{Buttons: []Button{{Name: "菜单", SubButtons: []Button{click(bytesOf(41))}}}}
	strict := DefaultMenuLimits()
	strict.MaxSubNameBytes = 40
	base := []Option{WithBaseURL(env.srv.URL + "/"), WithHTTPClient(env.srv.HTTP.Client())}
	c, err := NewClient(emuAppID, emuSecret, append(base, WithMenuLimits(strict))...)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "Menu.Create(41-byte sub name, WithMenuLimits 40)", c.Menu().Create(t.Context(), m), 40025)
	if _, ok := errors.AsType[*MenuError](c.Menu().Create(t.Context(), m)); !ok {
		t.Errorf("WithMenuLimits: the refusal is not a local *MenuError")
	}
	// The per-call option wins over the client option.
	if err := c.Menu().Create(t.Context(), m, UseMenuLimits(DefaultMenuLimits())); err != nil {
		t.Errorf("Menu.Create(UseMenuLimits(default) over client option) = %v", err)
	}
	// Without validation, an over-long name reaches WeChat, which refuses it.
	off, err := NewClient(emuAppID, emuSecret, append(base, WithoutMenuValidation())...)
	if err != nil {
		t.Fatal(err)
	}
	tooLong := &Menu{Buttons: []Button{{Name: "菜单", SubButtons: []Button{click(bytesOf(61))}}}}
	err = off.Menu().Create(t.Context(), tooLong)
	if _, local := errors.AsType[*MenuError](err); local {
		t.Errorf("WithoutMenuValidation: still validated locally: %v", err)
	}
	wantCode(t, "Menu.Create(61-byte sub name, no validation)", err, 40025)
	// One call can turn validation back on, or off.
	before := env.srv.Stats().Count("/cgi-bin/menu/create", emuAppID).Calls
	err = off.Menu().Create(t.Context(), tooLong, UseMenuLimits(DefaultMenuLimits()))
	if _, local := errors.AsType[*MenuError](err); !local {
		t.Errorf("Menu.Create(UseMenuLimits over WithoutMenuValidation) = %v, want a local *MenuError", err)
	}
	if n := env.srv.Stats().Count("/cgi-bin/menu/create", emuAppID).Calls - before; n != 0 {
		t.Errorf("Menu.Create(UseMenuLimits over WithoutMenuValidation) made %d calls, want 0", n)
	}
	if err := c.Menu().Create(t.Context(), m, SkipMenuValidation()); err != nil {
		t.Errorf("Menu.Create(SkipMenuValidation over WithMenuLimits 40, 41-byte name) = %v, want nil from the emulator", err)
	}
}

// TestMenuClickCarriesMenuID checks that a tap on a button of a created
// menu pushes a CLICK event with the key and the menu's MenuId.
func TestMenuClickCarriesMenuID(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	if err := env.c.Menu().Create(ctx, corpusMenu(t, "cgi-bin_menu_create.request.json")); err != nil {
		t.Fatal(err)
	}
	cfg, err := env.c.Menu().Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		button   string
		event    message.EventType
		eventKey string
	}{
		{"V1001_GOOD", message.EventTypeClick, "V1001_GOOD"},
		{"视频", message.EventTypeView, "http://v.qq.com/"},
	} {
		res, err := env.srv.ClickMenu(ctx, emuAppID, env.users[0], tc.button)
		if err != nil {
			t.Fatalf("ClickMenu(%q) = %v", tc.button, err)
		}
		msg, err := message.Parse([]byte(res.Message.XML))
		if err != nil {
			t.Fatalf("message.Parse = %v", err)
		}
		if msg.Event != tc.event || msg.EventKey != tc.eventKey || msg.MenuID != cfg.Menu.MenuID.String() {
			t.Errorf("ClickMenu(%q) pushed Event %q EventKey %q MenuId %q, want %q %q %q",
				tc.button, msg.Event, msg.EventKey, msg.MenuID, tc.event, tc.eventKey, cfg.Menu.MenuID)
		}
	}
}
