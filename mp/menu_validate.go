package mp

import (
	"fmt"

	"github.com/wxkit/wxkit"
)

// MenuLimits are the size limits that MenuService checks before it sends a
// menu, so that a bad menu fails fast with a message naming the button. A
// zero maximum means "no limit" and a zero minimum "no minimum", so that
// MenuLimits{} checks only button types and required fields. Start from
// DefaultMenuLimits to loosen or tighten one limit: users report that the
// real limits differ from the documented ones now and then (older
// documentation said 40 bytes for sub-button names and 256 for URLs).
//
// Lengths are in bytes of UTF-8, as WeChat counts them: a Chinese character
// is 3 bytes, so a 16-byte top-level name holds 5 Chinese characters.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
type MenuLimits struct {
	MinButtons      int // top-level buttons, at least (1)
	MaxButtons      int // top-level buttons, at most (3); else 40016
	MinSubButtons   int // sub buttons of a top-level button with sub buttons, at least (1)
	MaxSubButtons   int // sub buttons per top-level button, at most (5); else 40023
	MaxNameBytes    int // top-level name (16); else 40018
	MaxSubNameBytes int // sub-button name (60); else 40025
	MaxKeyBytes     int // key (128); else 40019, 40026 on a sub button
	MaxURLBytes     int // url (1024); else 40020, 40027 on a sub button
}

// DefaultMenuLimits returns the limits of the current WeChat documentation:
// 1–3 top-level buttons, 1–5 sub buttons each, names of at most 16 bytes
// (top level) and 60 bytes (sub buttons), keys of at most 128 bytes and URLs
// of at most 1024 bytes.
func DefaultMenuLimits() MenuLimits {
	return MenuLimits{
		MinButtons:      1,
		MaxButtons:      3,
		MinSubButtons:   1,
		MaxSubButtons:   5,
		MaxNameBytes:    16,
		MaxSubNameBytes: 60,
		MaxKeyBytes:     128,
		MaxURLBytes:     1024,
	}
}

// MenuError reports a menu that breaks a MenuLimits rule, or a required
// field that is missing. ErrCode is the errcode WeChat answers for the same
// menu, and errors.Is(err, &wxkit.APIError{ErrCode: n}) matches it, so a
// caller can treat a local rejection and a platform rejection alike.
type MenuError struct {
	// Path names the offending element: "button" (the top-level count),
	// "button[1]", "button[1].sub_button[3]" (0-based) or "matchrule".
	Path string
	// Name is the button's name ("" for Path "button" and "matchrule").
	Name string
	// Reason says what is wrong, e.g. "name is 61 bytes, limit 60".
	Reason string
	// ErrCode is WeChat's errcode for this fault: 40016–40027, 40007
	// (media_id/article_id missing), 40165/40166 (Mini Program page/appid
	// missing) or 65304 (empty match rule).
	ErrCode int
}

// Error returns e.g. `mp: menu: button[1].sub_button[3] "今日歌曲": name is
// 61 bytes, limit 60 (errcode 40025)`.
func (e *MenuError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("mp: menu: %s: %s (errcode %d)", e.Path, e.Reason, e.ErrCode)
	}
	return fmt.Sprintf("mp: menu: %s %q: %s (errcode %d)", e.Path, e.Name, e.Reason, e.ErrCode)
}

// Is reports whether target is a *wxkit.APIError with e's ErrCode, so that
// errors.Is(err, &wxkit.APIError{ErrCode: 40018}) holds for both a local
// and a platform rejection.
func (e *MenuError) Is(target error) bool {
	t, ok := target.(*wxkit.APIError)
	return ok && t.ErrCode == e.ErrCode
}

// menuErrCodes are the errcodes of one button level: top level or sub.
type menuErrCodes struct {
	typ, name, key, url int
}

var (
	topCodes = menuErrCodes{typ: 40017, name: 40018, key: 40019, url: 40020}
	subCodes = menuErrCodes{typ: 40024, name: 40025, key: 40026, url: 40027}
)

// Validate checks m against l and returns a *MenuError for the first fault
// found, in the order WeChat checks (and the emulator follows): the number
// of top-level buttons; then each top-level button in turn: its name, then
// either its sub buttons (their number, then for each: nesting, name, type,
// key, url, and the other fields its type needs) or its own type and
// fields. A conditional menu (m.MatchRule not nil) must have at least one
// rule set (65304). A nil m is a fault of the button count.
func (l MenuLimits) Validate(m *Menu) error {
	var buttons []Button
	if m != nil {
		buttons = m.Buttons
	}
	if n := len(buttons); (l.MinButtons > 0 && n < l.MinButtons) || (l.MaxButtons > 0 && n > l.MaxButtons) {
		return &MenuError{Path: "button", ErrCode: 40016,
			Reason: fmt.Sprintf("%d buttons, want %s", n, rangeText(l.MinButtons, l.MaxButtons))}
	}
	for i := range buttons {
		b := &buttons[i]
		path := fmt.Sprintf("button[%d]", i)
		if err := l.checkName(path, b.Name, l.MaxNameBytes, topCodes.name); err != nil {
			return err
		}
		if len(b.SubButtons) == 0 {
			if err := l.checkAction(path, b, topCodes); err != nil {
				return err
			}
			continue
		}
		if n := len(b.SubButtons); (l.MinSubButtons > 0 && n < l.MinSubButtons) || (l.MaxSubButtons > 0 && n > l.MaxSubButtons) {
			return &MenuError{Path: path, Name: b.Name, ErrCode: 40023,
				Reason: fmt.Sprintf("%d sub buttons, want %s", n, rangeText(l.MinSubButtons, l.MaxSubButtons))}
		}
		for j := range b.SubButtons {
			sb := &b.SubButtons[j]
			sp := fmt.Sprintf("%s.sub_button[%d]", path, j)
			if len(sb.SubButtons) > 0 {
				return &MenuError{Path: sp, Name: sb.Name, ErrCode: 40022,
					Reason: "sub buttons cannot have sub buttons (menus have two levels)"}
			}
			if err := l.checkName(sp, sb.Name, l.MaxSubNameBytes, subCodes.name); err != nil {
				return err
			}
			if err := l.checkAction(sp, sb, subCodes); err != nil {
				return err
			}
		}
	}
	if m != nil && m.MatchRule != nil && m.MatchRule.empty() {
		return &MenuError{Path: "matchrule", ErrCode: 65304, Reason: "match rule has no field set"}
	}
	return nil
}

// checkName checks a button name: required, at most max bytes.
func (l MenuLimits) checkName(path, name string, max, code int) error {
	if name == "" {
		return &MenuError{Path: path, ErrCode: code, Reason: "name is empty"}
	}
	if max > 0 && len(name) > max {
		return &MenuError{Path: path, Name: name, ErrCode: code,
			Reason: fmt.Sprintf("name is %d bytes, limit %d", len(name), max)}
	}
	return nil
}

// checkAction checks a leaf button's type and the fields its type needs.
func (l MenuLimits) checkAction(path string, b *Button, codes menuErrCodes) error {
	fail := func(code int, format string, args ...any) error {
		return &MenuError{Path: path, Name: b.Name, ErrCode: code, Reason: fmt.Sprintf(format, args...)}
	}
	if !b.Type.Valid() {
		if b.Type == "" {
			return fail(codes.typ, "type is empty and there are no sub buttons")
		}
		return fail(codes.typ, "invalid type %q", b.Type)
	}
	needKey, needURL := false, false
	switch b.Type {
	case ButtonTypeClick, ButtonTypeScanCodePush, ButtonTypeScanCodeWaitMsg, ButtonTypePicSysPhoto,
		ButtonTypePicPhotoOrAlbum, ButtonTypePicWeixin, ButtonTypeLocationSelect:
		needKey = true
	case ButtonTypeView, ButtonTypeMiniProgram:
		needURL = true
	}
	if needKey && b.Key == "" {
		return fail(codes.key, "%s button needs a key", b.Type)
	}
	if l.MaxKeyBytes > 0 && len(b.Key) > l.MaxKeyBytes {
		return fail(codes.key, "key is %d bytes, limit %d", len(b.Key), l.MaxKeyBytes)
	}
	if needURL && b.URL == "" {
		return fail(codes.url, "%s button needs a url", b.Type)
	}
	if l.MaxURLBytes > 0 && len(b.URL) > l.MaxURLBytes {
		return fail(codes.url, "url is %d bytes, limit %d", len(b.URL), l.MaxURLBytes)
	}
	switch b.Type {
	case ButtonTypeMediaID, ButtonTypeViewLimited:
		if b.MediaID == "" {
			return fail(40007, "%s button needs a media_id", b.Type)
		}
	case ButtonTypeArticleID, ButtonTypeArticleViewLimited:
		if b.ArticleID == "" {
			return fail(40007, "%s button needs an article_id", b.Type)
		}
	case ButtonTypeMiniProgram:
		if b.AppID == "" {
			return fail(40166, "miniprogram button needs an appid")
		}
		if b.PagePath == "" {
			return fail(40165, "miniprogram button needs a pagepath")
		}
	}
	return nil
}

// rangeText renders "1..3", "at least 1" or "at most 3".
func rangeText(min, max int) string {
	switch {
	case min > 0 && max > 0:
		return fmt.Sprintf("%d..%d", min, max)
	case max > 0:
		return fmt.Sprintf("at most %d", max)
	default:
		return fmt.Sprintf("at least %d", min)
	}
}

// menuLimitsValue is the menu validation that an Option or a CallOption
// selects; off disables it.
type menuLimitsValue struct {
	limits MenuLimits
	off    bool
}

// validate checks m against the limits in effect for a call: the call's
// (UseMenuLimits, SkipMenuValidation), else the client's (WithMenuLimits,
// WithoutMenuValidation), else DefaultMenuLimits().
func (s *MenuService) validate(cc callConfig, m *Menu) error {
	v := cc.menu
	if v == nil {
		v = s.client.menu
	}
	switch {
	case v == nil:
		return DefaultMenuLimits().Validate(m)
	case v.off:
		return nil
	}
	return v.limits.Validate(m)
}
