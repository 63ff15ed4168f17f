package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// MenuLimits are the custom-menu limits the emulator enforces on
// menu/create and menu/addconditional. A zero maximum means no limit and a
// zero minimum no minimum. Change them with SetMenuLimits, e.g. to try the
// older documented limits (sub-button names of 40 bytes, URLs of 256).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
type MenuLimits struct {
	MinButtons      int `json:"min_buttons"`        // 1
	MaxButtons      int `json:"max_buttons"`        // 3; else 40016
	MinSubButtons   int `json:"min_sub_buttons"`    // 1
	MaxSubButtons   int `json:"max_sub_buttons"`    // 5; else 40023
	MaxNameBytes    int `json:"max_name_bytes"`     // 16; else 40018
	MaxSubNameBytes int `json:"max_sub_name_bytes"` // 60; else 40025
	MaxKeyBytes     int `json:"max_key_bytes"`      // 128; else 40019 / 40026
	MaxURLBytes     int `json:"max_url_bytes"`      // 1024; else 40020 / 40027
}

// DefaultMenuLimits returns the limits of the current documentation
// (docs/PLATFORM.md): 1–3 buttons, 1–5 sub buttons, names ≤16 bytes (top)
// and ≤60 bytes (sub), keys ≤128 bytes, URLs ≤1024 bytes.
func DefaultMenuLimits() MenuLimits {
	return MenuLimits{MinButtons: 1, MaxButtons: 3, MinSubButtons: 1, MaxSubButtons: 5,
		MaxNameBytes: 16, MaxSubNameBytes: 60, MaxKeyBytes: 128, MaxURLBytes: 1024}
}

// menuButton is one button as the platform stores it.
type menuButton struct {
	Type       string       `json:"type,omitempty"`
	Name       string       `json:"name"`
	Key        string       `json:"key,omitempty"`
	URL        string       `json:"url,omitempty"`
	MediaID    string       `json:"media_id,omitempty"`
	AppID      string       `json:"appid,omitempty"`
	PagePath   string       `json:"pagepath,omitempty"`
	ArticleID  string       `json:"article_id,omitempty"`
	SubButtons []menuButton `json:"sub_button"`
}

// MarshalJSON writes sub_button as [] rather than null, as the platform does.
func (b menuButton) MarshalJSON() ([]byte, error) {
	type plain menuButton
	if b.SubButtons == nil {
		b.SubButtons = []menuButton{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plain(b)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// menuMatchRule is the matchrule of a conditional menu.
type menuMatchRule struct {
	TagID              string `json:"tag_id,omitempty"`
	GroupID            string `json:"group_id,omitempty"`
	Sex                string `json:"sex,omitempty"`
	Country            string `json:"country,omitempty"`
	Province           string `json:"province,omitempty"`
	City               string `json:"city,omitempty"`
	ClientPlatformType string `json:"client_platform_type,omitempty"`
	Language           string `json:"language,omitempty"`
}

// storedMenu is a default or conditional menu.
type storedMenu struct {
	Buttons   []menuButton   `json:"button"`
	MatchRule *menuMatchRule `json:"matchrule,omitempty"`
	MenuID    int64          `json:"menuid"`
}

// menuState is the per-app menu state (guarded by app.mu).
type menuState struct {
	limits      *MenuLimits // nil: DefaultMenuLimits
	menu        *storedMenu // the default menu
	conditional []*storedMenu
	lastID      int64
}

func init() {
	handle("/cgi-bin/menu/create", (*Emulator).serveMenuCreate)
	handle("/cgi-bin/menu/get", (*Emulator).serveMenuGet)
	handle("/cgi-bin/menu/delete", (*Emulator).serveMenuDelete)
	handle("/cgi-bin/menu/addconditional", (*Emulator).serveMenuAddConditional)
	handle("/cgi-bin/menu/delconditional", (*Emulator).serveMenuDelConditional)
	handle("/cgi-bin/menu/trymatch", (*Emulator).serveMenuTryMatch)
	handle("/cgi-bin/get_current_selfmenu_info", (*Emulator).serveSelfMenuInfo)
}

// menus returns the menu state of a.
func menus(a *app) *menuState { return appExt[menuState](a, "mp_menu") }

// SetMenuLimits sets the menu limits of every hosted app (DefaultMenuLimits
// until called).
func (e *Emulator) SetMenuLimits(l MenuLimits) {
	for _, a := range e.apps {
		st := menus(a)
		a.mu.Lock()
		lim := l
		st.limits = &lim
		a.mu.Unlock()
	}
}

// nextMenuID returns a new menuid, shaped like the platform's (9 digits,
// increasing). a.mu must be held.
func (st *menuState) nextMenuID() int64 {
	if st.lastID == 0 {
		st.lastID = int64(400000000 + randomInt(0, 99999999))
	}
	st.lastID += int64(randomInt(1, 9))
	return st.lastID
}

// menuLevel holds the errcodes of one button level.
type menuLevel struct{ typ, name, key, url int }

var (
	menuTop = menuLevel{40017, 40018, 40019, 40020}
	menuSub = menuLevel{40024, 40025, 40026, 40027}
)

// validButtonTypes are the types menu/create accepts.
var validButtonTypes = map[string]bool{
	"click": true, "view": true, "scancode_push": true, "scancode_waitmsg": true, "pic_sysphoto": true,
	"pic_photo_or_album": true, "pic_weixin": true, "location_select": true, "media_id": true,
	"view_limited": true, "article_id": true, "article_view_limited": true, "miniprogram": true,
}

// checkMenu validates buttons the way the platform does, in its order: the
// number of buttons (40016); per top-level button its name (40018), then its
// sub buttons (count 40023; each: nesting 40022, name 40025, type 40024,
// key 40026, url 40027, media_id 40007, Mini Program appid 40166 and
// pagepath 40165) or its own action (40017, 40019, 40020, ...).
// permanent reports whether a media_id is a permanent material of the app.
func checkMenu(l MenuLimits, buttons []menuButton, permanent func(string) bool) error {
	outside := func(n, min, max int) bool { return (min > 0 && n < min) || (max > 0 && n > max) }
	if outside(len(buttons), l.MinButtons, l.MaxButtons) {
		return mpErr(40016)
	}
	for i := range buttons {
		b := &buttons[i]
		if b.Name == "" || (l.MaxNameBytes > 0 && len(b.Name) > l.MaxNameBytes) {
			return mpErr(40018)
		}
		if len(b.SubButtons) == 0 {
			if err := checkAction(l, b, menuTop, permanent); err != nil {
				return err
			}
			continue
		}
		if outside(len(b.SubButtons), l.MinSubButtons, l.MaxSubButtons) {
			return mpErr(40023)
		}
		for j := range b.SubButtons {
			sb := &b.SubButtons[j]
			if len(sb.SubButtons) > 0 {
				return mpErr(40022)
			}
			if sb.Name == "" || (l.MaxSubNameBytes > 0 && len(sb.Name) > l.MaxSubNameBytes) {
				return mpErr(40025)
			}
			if err := checkAction(l, sb, menuSub, permanent); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAction validates a leaf button's type and the fields its type needs.
func checkAction(l MenuLimits, b *menuButton, codes menuLevel, permanent func(string) bool) error {
	if !validButtonTypes[b.Type] {
		return mpErr(codes.typ)
	}
	needKey, needURL := false, false
	switch b.Type {
	case "click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select":
		needKey = true
	case "view", "miniprogram":
		needURL = true
	}
	if (needKey && b.Key == "") || (l.MaxKeyBytes > 0 && len(b.Key) > l.MaxKeyBytes) {
		return mpErr(codes.key)
	}
	if (needURL && b.URL == "") || (l.MaxURLBytes > 0 && len(b.URL) > l.MaxURLBytes) {
		return mpErr(codes.url)
	}
	switch b.Type {
	case "media_id", "view_limited":
		if b.MediaID == "" || (permanent != nil && !permanent(b.MediaID)) {
			return apiErr(40007)
		}
	case "article_id", "article_view_limited":
		if b.ArticleID == "" {
			return apiErr(40007)
		}
	case "miniprogram":
		if b.AppID == "" {
			return mpErr(40166)
		}
		if b.PagePath == "" {
			return mpErr(40165)
		}
	}
	return nil
}

// menuRequest is the body of menu/create and menu/addconditional.
type menuRequest struct {
	Buttons   []menuButton   `json:"button"`
	MatchRule *menuMatchRule `json:"matchrule"`
}

// parseMenu reads and validates a menu body. It rejects \uXXXX escapes
// (40033), as the platform does.
func (e *Emulator) parseMenu(w http.ResponseWriter, r *http.Request) (*app, *menuRequest) {
	var raw json.RawMessage
	a := e.mpCall(w, r, http.MethodPost, &raw)
	if a == nil {
		return nil, nil
	}
	if bytes.Contains(raw, []byte(`\u`)) {
		e.writeErrMsg(w, 40033, `invalid charset. please check your request, if include \uxxxx will create fail!`)
		return nil, nil
	}
	var req menuRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		e.writeAPIError(w, apiErr(47001))
		return nil, nil
	}
	st := menus(a)
	a.mu.Lock()
	lim := DefaultMenuLimits()
	if st.limits != nil {
		lim = *st.limits
	}
	a.mu.Unlock()
	if err := checkMenu(lim, req.Buttons, func(id string) bool { return e.isPermanentMedia(a, id) }); err != nil {
		e.writeAPIError(w, err)
		return nil, nil
	}
	return a, &req
}

// serveMenuCreate serves POST /cgi-bin/menu/create: it validates the menu
// (see checkMenu) and replaces the default menu, which gets a new menuid.
// Conditional menus are kept.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
func (e *Emulator) serveMenuCreate(w http.ResponseWriter, r *http.Request) {
	a, req := e.parseMenu(w, r)
	if a == nil {
		return
	}
	st := menus(a)
	a.mu.Lock()
	st.menu = &storedMenu{Buttons: req.Buttons, MenuID: st.nextMenuID()}
	a.mu.Unlock()
	writeJSON(w, okBody)
}

// serveMenuGet serves GET /cgi-bin/menu/get: the default menu and the
// conditional menus with their menuids, or 46003 when there is none.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Getting_Custom_Menu_Configurations.html
func (e *Emulator) serveMenuGet(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	st := menus(a)
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.menu == nil {
		e.writeAPIError(w, apiErr(46003))
		return
	}
	out := map[string]any{"menu": st.menu}
	if len(st.conditional) > 0 {
		out["conditionalmenu"] = st.conditional
	}
	writeJSON(w, out)
}

// serveMenuDelete serves GET /cgi-bin/menu/delete: it removes the default
// menu and every conditional menu.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Deleting_Custom-Defined_Menu.html
func (e *Emulator) serveMenuDelete(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	st := menus(a)
	a.mu.Lock()
	st.menu, st.conditional = nil, nil
	a.mu.Unlock()
	writeJSON(w, okBody)
}

// serveMenuAddConditional serves POST /cgi-bin/menu/addconditional: the
// menu is validated like a default menu; then a missing or empty matchrule
// gives 65304 and a missing default menu 65303. It answers
// {"menuid":"<id>"} (a string, as the platform does).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
func (e *Emulator) serveMenuAddConditional(w http.ResponseWriter, r *http.Request) {
	a, req := e.parseMenu(w, r)
	if a == nil {
		return
	}
	if req.MatchRule == nil || *req.MatchRule == (menuMatchRule{}) {
		e.writeAPIError(w, mpErr(65304))
		return
	}
	st := menus(a)
	a.mu.Lock()
	if st.menu == nil {
		a.mu.Unlock()
		e.writeAPIError(w, mpErr(65303))
		return
	}
	m := &storedMenu{Buttons: req.Buttons, MatchRule: req.MatchRule, MenuID: st.nextMenuID()}
	st.conditional = append(st.conditional, m)
	a.mu.Unlock()
	writeJSON(w, map[string]string{"menuid": strconv.FormatInt(m.MenuID, 10)})
}

// serveMenuDelConditional serves POST /cgi-bin/menu/delconditional
// {"menuid":"..."} (string or number); an unknown menuid gives 65301.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
func (e *Emulator) serveMenuDelConditional(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MenuID json.RawMessage `json:"menuid"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	id, err := strconv.ParseInt(strings.Trim(string(req.MenuID), `"`), 10, 64)
	if err != nil {
		e.writeAPIError(w, mpErr(65301))
		return
	}
	st := menus(a)
	a.mu.Lock()
	i := slices.IndexFunc(st.conditional, func(m *storedMenu) bool { return m.MenuID == id })
	if i >= 0 {
		st.conditional = slices.Delete(st.conditional, i, i+1)
	}
	a.mu.Unlock()
	if i < 0 {
		e.writeAPIError(w, mpErr(65301))
		return
	}
	writeJSON(w, okBody)
}

// matchMenu returns the menu user u sees: the newest conditional menu whose
// rule matches, else the default menu (nil when there is none). The
// emulator's users do not tell their phone's platform, so
// client_platform_type is not used for matching. a.mu must be held.
func (st *menuState) matchMenu(u *user, tags []int) *storedMenu {
	for i := len(st.conditional) - 1; i >= 0; i-- {
		m := st.conditional[i]
		if ruleMatches(m.MatchRule, u, tags) {
			return m
		}
	}
	return st.menu
}

func ruleMatches(r *menuMatchRule, u *user, tags []int) bool {
	if r == nil {
		return false
	}
	if r.TagID != "" {
		id, err := strconv.Atoi(r.TagID)
		if err != nil || !slices.Contains(tags, id) {
			return false
		}
	}
	if r.Sex != "" && r.Sex != strconv.Itoa(u.Sex) {
		return false
	}
	for _, f := range [][2]string{{r.Country, u.Country}, {r.Province, u.Province}, {r.City, u.City}, {r.Language, u.Language}} {
		if f[0] != "" && f[0] != f[1] {
			return false
		}
	}
	return true
}

// serveMenuTryMatch serves POST /cgi-bin/menu/trymatch {"user_id":openid}:
// the buttons the user would see. An unknown user gives 65302; no menu
// 46003.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
func (e *Emulator) serveMenuTryMatch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID string `json:"user_id"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	st := menus(a)
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(req.UserID)
	if u == nil {
		e.writeAPIError(w, mpErr(65302))
		return
	}
	m := st.matchMenu(u, userState(a, u.OpenID).tags)
	if m == nil {
		e.writeAPIError(w, apiErr(46003))
		return
	}
	writeJSON(w, map[string]any{"button": m.Buttons})
}

// selfMenuButton is a button of get_current_selfmenu_info.
type selfMenuButton struct {
	Type       string           `json:"type,omitempty"`
	Name       string           `json:"name"`
	Key        string           `json:"key,omitempty"`
	URL        string           `json:"url,omitempty"`
	Value      string           `json:"value,omitempty"`
	AppID      string           `json:"appid,omitempty"`
	PagePath   string           `json:"pagepath,omitempty"`
	SubButtons *selfMenuSubList `json:"sub_button,omitempty"`
}

type selfMenuSubList struct {
	List []selfMenuButton `json:"list"`
}

func toSelfMenu(b menuButton) selfMenuButton {
	s := selfMenuButton{Type: b.Type, Name: b.Name, Key: b.Key, URL: b.URL, AppID: b.AppID, PagePath: b.PagePath}
	switch b.Type {
	case "media_id", "view_limited":
		s.Value = b.MediaID
	case "article_id", "article_view_limited":
		s.Value = b.ArticleID
	}
	if len(b.SubButtons) > 0 {
		s.Type = ""
		s.SubButtons = &selfMenuSubList{}
		for _, sb := range b.SubButtons {
			s.SubButtons.List = append(s.SubButtons.List, toSelfMenu(sb))
		}
	}
	return s
}

// serveSelfMenuInfo serves GET /cgi-bin/get_current_selfmenu_info: the
// default menu in the "selfmenu_info" shape (sub buttons as {"list":[...]})
// with is_menu_open 1, or just {"is_menu_open":0} without a menu.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Querying_Custom_Menus.html
func (e *Emulator) serveSelfMenuInfo(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	st := menus(a)
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.menu == nil {
		writeJSON(w, map[string]int{"is_menu_open": 0})
		return
	}
	btns := make([]selfMenuButton, 0, len(st.menu.Buttons))
	for _, b := range st.menu.Buttons {
		btns = append(btns, toSelfMenu(b))
	}
	writeJSON(w, map[string]any{"is_menu_open": 1, "selfmenu_info": map[string]any{"button": btns}})
}

// MenuButton is a button of the menu a user sees, for UIs and tests.
type MenuButton struct {
	Type       string       `json:"type,omitempty"`
	Name       string       `json:"name"`
	Key        string       `json:"key,omitempty"`
	URL        string       `json:"url,omitempty"`
	MediaID    string       `json:"media_id,omitempty"`
	AppID      string       `json:"appid,omitempty"`
	PagePath   string       `json:"pagepath,omitempty"`
	ArticleID  string       `json:"article_id,omitempty"`
	SubButtons []MenuButton `json:"sub_button,omitempty"`
}

// UserMenu is the menu a user sees and its menuid.
type UserMenu struct {
	MenuID  int64        `json:"menuid"`
	Buttons []MenuButton `json:"button"`
}

func exportButtons(bs []menuButton) []MenuButton {
	out := make([]MenuButton, 0, len(bs))
	for _, b := range bs {
		out = append(out, MenuButton{Type: b.Type, Name: b.Name, Key: b.Key, URL: b.URL, MediaID: b.MediaID,
			AppID: b.AppID, PagePath: b.PagePath, ArticleID: b.ArticleID, SubButtons: exportButtons(b.SubButtons)})
	}
	return out
}

// MenuFor returns the menu that user openID of appID sees (the matching
// conditional menu or the default menu), or nil when the app has no menu.
func (e *Emulator) MenuFor(appID, openID string) (*UserMenu, error) {
	a := e.app(appID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	st := menus(a)
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(openID)
	if u == nil {
		return nil, fmt.Errorf("%w: %q of app %s", ErrUnknownUser, openID, appID)
	}
	m := st.matchMenu(u, userState(a, openID).tags)
	if m == nil {
		return nil, nil
	}
	return &UserMenu{MenuID: m.MenuID, Buttons: exportButtons(m.Buttons)}, nil
}

// menuEvents maps button types to the event a tap pushes.
var menuEvents = map[string]EventType{
	"click": EventTypeClick, "view": EventTypeView, "scancode_push": "scancode_push",
	"scancode_waitmsg": "scancode_waitmsg", "pic_sysphoto": "pic_sysphoto",
	"pic_photo_or_album": "pic_photo_or_album", "pic_weixin": "pic_weixin",
	"location_select": "location_select", "miniprogram": "view_miniprogram",
}

// ClickMenu makes user openID of appID tap a button of the menu they see
// (see MenuFor), found by key (or URL) first, then by name, and pushes the
// event WeChat pushes for it: CLICK with EventKey = key, VIEW with EventKey
// = url, scancode_push, pic_sysphoto, ... with the key, view_miniprogram
// with the page path. Every such event carries the MenuId of the menu. The
// button types that push nothing (media_id, view_limited, article_id,
// article_view_limited) and buttons with sub buttons give ErrBadPushRequest.
func (e *Emulator) ClickMenu(ctx context.Context, appID, openID, button string) (*PushResult, error) {
	m, err := e.MenuFor(appID, openID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: app %s has no menu", ErrBadPushRequest, appID)
	}
	var leaves []MenuButton
	for _, b := range m.Buttons {
		if len(b.SubButtons) == 0 {
			leaves = append(leaves, b)
		}
		leaves = append(leaves, b.SubButtons...)
	}
	i := slices.IndexFunc(leaves, func(b MenuButton) bool { return button != "" && (b.Key == button || b.URL == button) })
	if i < 0 {
		i = slices.IndexFunc(leaves, func(b MenuButton) bool { return b.Name == button })
	}
	if i < 0 {
		return nil, fmt.Errorf("%w: the menu of %s has no button %q", ErrBadPushRequest, openID, button)
	}
	b := leaves[i]
	ev, ok := menuEvents[b.Type]
	if !ok {
		return nil, fmt.Errorf("%w: a %s button pushes no event", ErrBadPushRequest, b.Type)
	}
	menuID := strconv.FormatInt(m.MenuID, 10)
	req := PushRequest{User: openID, Type: MsgTypeEvent, Event: ev, EventKey: b.Key}
	switch b.Type {
	case "view":
		req.EventKey, req.MenuID = b.URL, menuID
	case "click":
		req.MenuID = menuID
	case "miniprogram":
		req.EventKey = b.PagePath
		req.Extra = map[string]string{"MenuId": menuID}
	default:
		req.Extra = map[string]string{"MenuId": menuID}
	}
	return e.Push(ctx, appID, req)
}
