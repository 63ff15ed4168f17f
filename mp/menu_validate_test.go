package mp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

// zh repeats a 3-byte Chinese character n times.
func zh(n int) string { return strings.Repeat("歌", n) }

// bytesOf returns a string of exactly n bytes made of Chinese characters
// (3 bytes each) padded with ASCII.
func bytesOf(n int) string { return zh(n/3) + strings.Repeat("a", n%3) }

func click(name string) Button { return Button{Type: ButtonTypeClick, Name: name, Key: "K"} }

func subs(n int) []Button {
	out := make([]Button, n)
	for i := range out {
		out[i] = click("子菜单")
	}
	return out
}

// menuCase is one menu and the errcode WeChat answers for it (0: accepted).
// The table is shared with the emulator test in emulator_test.go, which
// sends each menu to the emulator without local validation.
type menuCase struct {
	name string
	menu Menu
	code int
	path string // MenuError.Path when code != 0
}

func menuCases() []menuCase {
	top := func(bs ...Button) Menu { return Menu{Buttons: bs} }
	withSub := func(name string, sb ...Button) Button { return Button{Name: name, SubButtons: sb} }
	return []menuCase{
		// Top-level button count: 1..3.
		{name: "0 buttons", menu: top(), code: 40016, path: "button"},
		{name: "1 button", menu: top(click("一"))},
		{name: "3 buttons", menu: top(click("一"), click("二"), click("三"))},
		{name: "4 buttons", menu: top(click("一"), click("二"), click("三"), click("四")), code: 40016, path: "button"},
		// Sub-button count: 1..5.
		{name: "1 sub button", menu: top(withSub("菜单", subs(1)...))},
		{name: "5 sub buttons", menu: top(withSub("菜单", subs(5)...))},
		{name: "6 sub buttons", menu: top(click("一"), withSub("菜单", subs(6)...)), code: 40023, path: "button[1]"},
		// Top-level name: 16 bytes.
		{name: "top name 15 bytes (5 zh)", menu: top(click(zh(5)))},
		{name: "top name 16 bytes", menu: top(click(bytesOf(16)))},
		{name: "top name 17 bytes", menu: top(click(bytesOf(17))), code: 40018, path: "button[0]"},
		{name: "top name 18 bytes (6 zh)", menu: top(click(zh(6))), code: 40018, path: "button[0]"},
		{name: "top name empty", menu: top(click("")), code: 40018, path: "button[0]"},
		{name: "container name 17 bytes", menu: top(withSub(bytesOf(17), subs(1)...)), code: 40018, path: "button[0]"},
		// Sub-button name: 60 bytes.
		{name: "sub name 60 bytes (20 zh)", menu: top(withSub("菜单", click(zh(20))))},
		{name: "sub name 61 bytes", menu: top(click("一"), withSub("菜单", click("a"), click("b"), click("c"), click(bytesOf(61)))),
			code: 40025, path: "button[1].sub_button[3]"},
		{name: "sub name empty", menu: top(withSub("菜单", click(""))), code: 40025, path: "button[0].sub_button[0]"},
		// Key: 128 bytes.
		{name: "key 128 bytes", menu: top(Button{Type: ButtonTypeClick, Name: "一", Key: bytesOf(128)})},
		{name: "key 129 bytes", menu: top(Button{Type: ButtonTypeClick, Name: "一", Key: bytesOf(129)}), code: 40019, path: "button[0]"},
		{name: "sub key 128 bytes", menu: top(withSub("菜单", Button{Type: ButtonTypeScanCodePush, Name: "扫", Key: bytesOf(128)}))},
		{name: "sub key 129 bytes", menu: top(withSub("菜单", Button{Type: ButtonTypeScanCodePush, Name: "扫", Key: bytesOf(129)})),
			code: 40026, path: "button[0].sub_button[0]"},
		{name: "click without key", menu: top(Button{Type: ButtonTypeClick, Name: "一"}), code: 40019, path: "button[0]"},
		{name: "sub pic_weixin without key", menu: top(withSub("菜单", Button{Type: ButtonTypePicWeixin, Name: "图"})),
			code: 40026, path: "button[0].sub_button[0]"},
		{name: "location_select without key", menu: top(Button{Type: ButtonTypeLocationSelect, Name: "位置"}), code: 40019, path: "button[0]"},
		// URL: 1024 bytes.
		{name: "url 1024 bytes", menu: top(Button{Type: ButtonTypeView, Name: "网", URL: "https://a.cn/" + bytesOf(1024-13)})},
		{name: "url 1025 bytes", menu: top(Button{Type: ButtonTypeView, Name: "网", URL: "https://a.cn/" + bytesOf(1025-13)}), code: 40020, path: "button[0]"},
		{name: "sub url 1024 bytes", menu: top(withSub("菜单", Button{Type: ButtonTypeView, Name: "网", URL: "https://a.cn/" + bytesOf(1024-13)}))},
		{name: "sub url 1025 bytes", menu: top(withSub("菜单", Button{Type: ButtonTypeView, Name: "网", URL: "https://a.cn/" + bytesOf(1025-13)})),
			code: 40027, path: "button[0].sub_button[0]"},
		{name: "view without url", menu: top(Button{Type: ButtonTypeView, Name: "网"}), code: 40020, path: "button[0]"},
		// Types.
		{name: "invalid type", menu: top(Button{Type: "tap", Name: "一", Key: "K"}), code: 40017, path: "button[0]"},
		{name: "no type, no sub buttons", menu: top(Button{Name: "一"}), code: 40017, path: "button[0]"},
		{name: "invalid sub type", menu: top(withSub("菜单", Button{Type: "CLICK", Name: "一", Key: "K"})), code: 40024, path: "button[0].sub_button[0]"},
		{name: "three levels", menu: top(withSub("菜单", withSub("子", click("孙")))), code: 40022, path: "button[0].sub_button[0]"},
		// Other required fields.
		{name: "media_id without media_id", menu: top(Button{Type: ButtonTypeMediaID, Name: "图"}), code: 40007, path: "button[0]"},
		{name: "view_limited without media_id", menu: top(withSub("菜单", Button{Type: ButtonTypeViewLimited, Name: "文"})), code: 40007, path: "button[0].sub_button[0]"},
		{name: "article_id without article_id", menu: top(Button{Type: ButtonTypeArticleID, Name: "文"}), code: 40007, path: "button[0]"},
		{name: "miniprogram without url", menu: top(Button{Type: ButtonTypeMiniProgram, Name: "小", AppID: "wx1", PagePath: "p"}), code: 40020, path: "button[0]"},
		{name: "miniprogram without appid", menu: top(Button{Type: ButtonTypeMiniProgram, Name: "小", URL: "http://a.cn", PagePath: "p"}), code: 40166, path: "button[0]"},
		{name: "miniprogram without pagepath", menu: top(Button{Type: ButtonTypeMiniProgram, Name: "小", URL: "http://a.cn", AppID: "wx1"}), code: 40165, path: "button[0]"},
		{name: "miniprogram complete", menu: top(Button{Type: ButtonTypeMiniProgram, Name: "小", URL: "http://a.cn", AppID: "wx1", PagePath: "p"})},
		{name: "article_view_limited complete", menu: top(Button{Type: ButtonTypeArticleViewLimited, Name: "文", ArticleID: "ART1"})},
		// The first fault wins, in WeChat's order.
		{name: "name checked before count of sub buttons", menu: top(withSub(bytesOf(17), subs(6)...)), code: 40018, path: "button[0]"},
		{name: "earlier button first", menu: top(click(bytesOf(17)), withSub("菜单", click(bytesOf(61)))), code: 40018, path: "button[0]"},
	}
}

func TestMenuLimitsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range menuCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := DefaultMenuLimits().Validate(&tc.menu)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			me, ok := errors.AsType[*MenuError](err)
			if !ok {
				t.Fatalf("Validate() = %v, want *MenuError", err)
			}
			if me.ErrCode != tc.code || me.Path != tc.path {
				t.Errorf("Validate() = errcode %d at %q, want %d at %q (%v)", me.ErrCode, me.Path, tc.code, tc.path, err)
			}
			if !errors.Is(err, &wxkit.APIError{ErrCode: tc.code}) {
				t.Errorf("errors.Is(%v, APIError{%d}) = false, want true", err, tc.code)
			}
		})
	}
}

func TestMenuErrorMessage(t *testing.T) {
	t.Parallel()
	name := zh(20) + "a"
	m := Menu{Buttons: []Button{click("一"), {Name: "菜单", SubButtons: []Button{click("a"), click("b"), click("c"), click(name)}}}}
	err := DefaultMenuLimits().Validate(&m)
	want := `mp: menu: button[1].sub_button[3] "` + name + `": name is 61 bytes, limit 60 (errcode 40025)`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
	if errors.Is(err, &wxkit.APIError{ErrCode: 40018}) {
		t.Errorf("errors.Is(err, 40018) = true, want false")
	}
}

func TestMenuLimitsConfigurable(t *testing.T) {
	t.Parallel()
	old := DefaultMenuLimits()
	old.MaxSubNameBytes, old.MaxURLBytes = 40, 256
	tests := []struct {
		name   string
		limits MenuLimits
		menu   Menu
		code   int
	}{
		{"old sub name 40 ok", old, Menu{Buttons: []Button{{Name: "菜单", SubButtons: []Button{click(bytesOf(40))}}}}, 0},
		{"old sub name 41", old, Menu{Buttons: []Button{{Name: "菜单", SubButtons: []Button{click(bytesOf(41))}}}}, 40025},
		{"old url 257", old, Menu{Buttons: []Button{{Type: ButtonTypeView, Name: "网", URL: "h" + bytesOf(256)}}}, 40020},
		{"zero limits skip sizes", MenuLimits{}, Menu{Buttons: []Button{click(zh(30)), click("b"), click("c"), click("d")}}, 0},
		{"zero limits still check types", MenuLimits{}, Menu{Buttons: []Button{{Name: "a", Type: "x"}}}, 40017},
		{"four buttons allowed", MenuLimits{MaxButtons: 4}, Menu{Buttons: []Button{click("a"), click("b"), click("c"), click("d")}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.limits.Validate(&tc.menu)
			got := 0
			if me, ok := errors.AsType[*MenuError](err); ok {
				got = me.ErrCode
			} else if err != nil {
				t.Fatalf("Validate() = %v, want a *MenuError or nil", err)
			}
			if got != tc.code {
				t.Errorf("Validate() errcode = %d (%v), want %d", got, err, tc.code)
			}
		})
	}
}

func TestMenuValidateMatchRule(t *testing.T) {
	t.Parallel()
	m := Menu{Buttons: []Button{click("一")}, MatchRule: &MatchRule{}}
	me, _ := errors.AsType[*MenuError](DefaultMenuLimits().Validate(&m))
	if diff := cmp.Diff(&MenuError{Path: "matchrule", ErrCode: 65304, Reason: "match rule has no field set"}, me); diff != "" {
		t.Errorf("Validate(empty matchrule) mismatch (-want +got):\n%s", diff)
	}
	m.MatchRule.Sex = "1"
	if err := DefaultMenuLimits().Validate(&m); err != nil {
		t.Errorf("Validate(sex rule) = %v, want nil", err)
	}
	if err := DefaultMenuLimits().Validate(nil); err == nil {
		t.Errorf("Validate(nil) = nil, want 40016")
	}
}
