package mp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// MenuService handles the custom-menu endpoints (自定义菜单): the default
// menu, conditional (personalised) menus, menu matching and the read-only
// view of the menu as configured on the platform.
//
// Create and AddConditional validate the menu against DefaultMenuLimits()
// before calling WeChat and return a *MenuError, without a network call,
// when it breaks them. The client options WithMenuLimits and
// WithoutMenuValidation change that for every call, the CallOptions
// UseMenuLimits and SkipMenuValidation for one call.
type MenuService service

// Menu returns the service for the custom-menu endpoints.
func (c *Client) Menu() *MenuService { return (*MenuService)(&c.common) }

// ButtonType is the action of a menu button (the "type" field).
type ButtonType string

// The button types accepted by cgi-bin/menu/create. The events pushed on
// click use the same spelling, except CLICK and VIEW which are upper case.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
const (
	ButtonTypeClick              ButtonType = "click"                // push a CLICK event with Key
	ButtonTypeView               ButtonType = "view"                 // open URL
	ButtonTypeScanCodePush       ButtonType = "scancode_push"        // scan, push the result, open URLs
	ButtonTypeScanCodeWaitMsg    ButtonType = "scancode_waitmsg"     // scan, push the result, wait for a message
	ButtonTypePicSysPhoto        ButtonType = "pic_sysphoto"         // take a photo and send it
	ButtonTypePicPhotoOrAlbum    ButtonType = "pic_photo_or_album"   // photo or album
	ButtonTypePicWeixin          ButtonType = "pic_weixin"           // WeChat album
	ButtonTypeLocationSelect     ButtonType = "location_select"      // pick a location and send it
	ButtonTypeMediaID            ButtonType = "media_id"             // send the permanent material MediaID
	ButtonTypeViewLimited        ButtonType = "view_limited"         // open the article of MediaID
	ButtonTypeArticleID          ButtonType = "article_id"           // send the published article ArticleID
	ButtonTypeArticleViewLimited ButtonType = "article_view_limited" // open the published article ArticleID
	ButtonTypeMiniProgram        ButtonType = "miniprogram"          // open Mini Program AppID at PagePath (URL for old clients)
)

// Valid reports whether t is one of the button types of cgi-bin/menu/create.
func (t ButtonType) Valid() bool {
	switch t {
	case ButtonTypeClick, ButtonTypeView, ButtonTypeScanCodePush, ButtonTypeScanCodeWaitMsg,
		ButtonTypePicSysPhoto, ButtonTypePicPhotoOrAlbum, ButtonTypePicWeixin, ButtonTypeLocationSelect,
		ButtonTypeMediaID, ButtonTypeViewLimited, ButtonTypeArticleID, ButtonTypeArticleViewLimited,
		ButtonTypeMiniProgram:
		return true
	}
	return false
}

// Button is one menu button. A top-level button either has an action (Type
// plus the fields that type needs) or SubButtons (1–5 of them, which must
// not have SubButtons of their own). Which fields a type needs:
//
//	click, scancode_*, pic_*, location_select  Key (≤128 bytes)
//	view                                       URL (≤1024 bytes)
//	media_id, view_limited                     MediaID (a permanent material)
//	article_id, article_view_limited           ArticleID
//	miniprogram                                AppID, PagePath and URL
//
// Name is at most 16 bytes on a top-level button and 60 bytes on a sub
// button (UTF-8: a Chinese character is 3 bytes). See MenuLimits.
type Button struct {
	Type       ButtonType `json:"type,omitempty"`
	Name       string     `json:"name"`
	Key        string     `json:"key,omitempty"`
	URL        string     `json:"url,omitempty"`
	MediaID    string     `json:"media_id,omitempty"`
	AppID      string     `json:"appid,omitempty"`
	PagePath   string     `json:"pagepath,omitempty"`
	ArticleID  string     `json:"article_id,omitempty"`
	SubButtons []Button   `json:"sub_button,omitempty"`
}

// MatchRule selects the users a conditional menu is shown to. Every field is
// optional, but at least one must be set (else WeChat answers 65304). All
// values are strings on the wire.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
type MatchRule struct {
	// TagID is a user tag id (see TagService).
	TagID string `json:"tag_id,omitempty"`
	// GroupID is the deprecated user-group id that TagID replaced; WeChat
	// still returns it for old menus.
	GroupID string `json:"group_id,omitempty"`
	// Sex is "1" (male) or "2" (female).
	Sex string `json:"sex,omitempty"`
	// Country, Province and City are in the language of Language; a
	// Province needs a Country and a City needs a Province.
	Country  string `json:"country,omitempty"`
	Province string `json:"province,omitempty"`
	City     string `json:"city,omitempty"`
	// ClientPlatformType is "1" (iOS), "2" (Android) or "3" (others).
	ClientPlatformType string `json:"client_platform_type,omitempty"`
	// Language is a client language such as "zh_CN", "zh_TW" or "en".
	Language string `json:"language,omitempty"`
}

// empty reports whether no field of r is set.
func (r *MatchRule) empty() bool { return r == nil || *r == MatchRule{} }

// MenuID identifies a menu. WeChat sends it as a JSON number in menu/get and
// as a JSON string in menu/addconditional; both decode. It encodes as a
// number.
type MenuID int64

// String returns the decimal form, as in the MenuId of click events.
func (id MenuID) String() string { return strconv.FormatInt(int64(id), 10) }

// UnmarshalJSON accepts 449778320 and "449778320" (and "" or null as 0).
func (id *MenuID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*id = 0
			return nil
		}
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("mp: invalid menuid %s", b)
	}
	*id = MenuID(n)
	return nil
}

// Menu is a custom menu: the default menu (MatchRule nil) or a conditional
// menu. MenuID is set by WeChat and returned by Get; it is ignored by Create.
type Menu struct {
	Buttons   []Button   `json:"button"`
	MatchRule *MatchRule `json:"matchrule,omitempty"`
	MenuID    MenuID     `json:"menuid,omitempty"`
}

// MenuConfig is the answer of Get: the default menu and the conditional
// menus, each with its MenuID.
type MenuConfig struct {
	Menu             Menu   `json:"menu"`
	ConditionalMenus []Menu `json:"conditionalmenu,omitempty"`
}

// Create replaces the account's default menu. The menu is validated first
// (see MenuLimits); a menu that breaks the limits gives a *MenuError and is
// not sent. menu.MatchRule must be nil (use AddConditional). opts may hold
// UseMenuLimits, SkipMenuValidation and RetryUnsafe.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
func (s *MenuService) Create(ctx context.Context, menu *Menu, opts ...CallOption) error {
	if menu == nil {
		return fmt.Errorf("mp: Menu.Create: nil menu")
	}
	if menu.MatchRule != nil {
		return fmt.Errorf("mp: Menu.Create: menu has a MatchRule; use AddConditional")
	}
	cc := newCallConfig(opts)
	if err := s.validate(cc, menu); err != nil {
		return err
	}
	body := Menu{Buttons: menu.Buttons}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/menu/create", &body)
	if err != nil {
		return err
	}
	return s.client.api.Do(req, nil, cc.wx()...)
}

// Get returns the menus created through the API: the default menu and the
// conditional menus, with their MenuIDs. It fails with
// wxkit.ErrMenuNotFound (46003) when there is no menu.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Getting_Custom_Menu_Configurations.html
func (s *MenuService) Get(ctx context.Context) (*MenuConfig, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/menu/get", nil)
	if err != nil {
		return nil, err
	}
	cfg := new(MenuConfig)
	if err := s.client.Do(req, cfg, Idempotent()); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Delete removes the default menu and every conditional menu.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Deleting_Custom-Defined_Menu.html
func (s *MenuService) Delete(ctx context.Context, opts ...CallOption) error {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/menu/delete", nil) // a GET that is not a read
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// AddConditional creates a conditional menu shown to the users that
// menu.MatchRule selects, and returns its MenuID. The menu is validated
// first (see MenuLimits). A default menu must exist (else 65303). opts may
// hold UseMenuLimits, SkipMenuValidation and RetryUnsafe (a retry after a -1
// can create the menu twice).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
func (s *MenuService) AddConditional(ctx context.Context, menu *Menu, opts ...CallOption) (MenuID, error) {
	if menu == nil {
		return 0, fmt.Errorf("mp: Menu.AddConditional: nil menu")
	}
	cc := newCallConfig(opts)
	if err := s.validate(cc, menu); err != nil {
		return 0, err
	}
	body := Menu{Buttons: menu.Buttons, MatchRule: menu.MatchRule}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/menu/addconditional", &body)
	if err != nil {
		return 0, err
	}
	var res struct {
		MenuID MenuID `json:"menuid"`
	}
	if err := s.client.api.Do(req, &res, cc.wx()...); err != nil {
		return 0, err
	}
	return res.MenuID, nil
}

// DeleteConditional deletes the conditional menu id. An unknown id gives
// wxkit.ErrConditionalMenuMissing (65301).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
func (s *MenuService) DeleteConditional(ctx context.Context, id MenuID, opts ...CallOption) error {
	body := struct {
		MenuID string `json:"menuid"`
	}{id.String()}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/menu/delconditional", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// TryMatch returns the menu that the user userID (an OpenID or a WeChat ID)
// would see. An unknown user gives 65302 (no such user).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Personalized_menu_interface.html
func (s *MenuService) TryMatch(ctx context.Context, userID string) (*Menu, error) {
	body := struct {
		UserID string `json:"user_id"`
	}{userID}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/menu/trymatch", &body)
	if err != nil {
		return nil, err
	}
	m := new(Menu)
	if err := s.client.Do(req, m, Idempotent()); err != nil { // a POST that only reads
		return nil, err
	}
	return m, nil
}

// SelfMenuInfo is the menu as configured on the platform, whether through
// the API or the mp.weixin.qq.com website (get_current_selfmenu_info).
type SelfMenuInfo struct {
	// IsMenuOpen is 1 when the menu is switched on, else 0.
	IsMenuOpen int      `json:"is_menu_open"`
	Menu       SelfMenu `json:"selfmenu_info"`
}

// SelfMenu holds the buttons of SelfMenuInfo.
type SelfMenu struct {
	Buttons []SelfMenuButton `json:"button"`
}

// SelfMenuButton is one button of SelfMenuInfo. Website-configured buttons
// use the types text, img, photo, video, voice and news (with Value or
// NewsInfo); API-configured ones use the ButtonType values.
type SelfMenuButton struct {
	Type     ButtonType `json:"type,omitempty"`
	Name     string     `json:"name"`
	Key      string     `json:"key,omitempty"`
	URL      string     `json:"url,omitempty"`
	Value    string     `json:"value,omitempty"`
	AppID    string     `json:"appid,omitempty"`
	PagePath string     `json:"pagepath,omitempty"`
	// SubButtons is {"list":[...]} on the wire; nil on a leaf button.
	SubButtons *SelfMenuButtonList `json:"sub_button,omitempty"`
	// NewsInfo is set on website-configured "news" buttons.
	NewsInfo *SelfMenuNewsList `json:"news_info,omitempty"`
}

// SelfMenuButtonList is the {"list":[...]} wrapper of sub buttons.
type SelfMenuButtonList struct {
	List []SelfMenuButton `json:"list"`
}

// SelfMenuNewsList is the {"list":[...]} wrapper of news articles.
type SelfMenuNewsList struct {
	List []SelfMenuNews `json:"list"`
}

// SelfMenuNews is one article of a news button of SelfMenuInfo.
type SelfMenuNews struct {
	Title      string `json:"title"`
	Author     string `json:"author"`
	Digest     string `json:"digest"`
	ShowCover  int    `json:"show_cover"`
	CoverURL   string `json:"cover_url"`
	ContentURL string `json:"content_url"`
	SourceURL  string `json:"source_url"`
}

// GetCurrentSelfMenuInfo returns the menu currently in use, however it was
// configured.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Querying_Custom_Menus.html
func (s *MenuService) GetCurrentSelfMenuInfo(ctx context.Context) (*SelfMenuInfo, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/get_current_selfmenu_info", nil)
	if err != nil {
		return nil, err
	}
	info := new(SelfMenuInfo)
	if err := s.client.Do(req, info, Idempotent()); err != nil {
		return nil, err
	}
	return info, nil
}
