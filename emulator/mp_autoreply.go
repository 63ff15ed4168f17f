package emulator

import (
	"fmt"
	"net/http"
	"time"
)

// AutoReplyConfig is what the account's admin set up on the platform's
// website as automatic replies (自动回复), as get_current_autoreply_info
// reports it. The zero value has every automatic reply off (the default).
// The emulator only reports these settings: it does not answer users with
// them (a server with a push URL answers them, as on the platform, where
// enabling the server configuration switches the website's replies off).
type AutoReplyConfig struct {
	// AddFriend is the reply to a new follower (被关注回复); nil: off.
	AddFriend *AutoReplyMessage `yaml:"add_friend" json:"add_friend,omitempty"`
	// Default is the reply to any other message (收到消息回复); nil: off.
	Default *AutoReplyMessage `yaml:"default" json:"default,omitempty"`
	// Keywords are the keyword rules (关键词回复).
	Keywords []AutoReplyRule `yaml:"keywords" json:"keywords,omitempty"`
}

// AutoReplyMessage is one automatic reply. Type is text (Content is the
// text), img, voice or video (Content is a media_id, or a URL for a
// video), or, in keyword rules only, news (News holds the articles).
type AutoReplyMessage struct {
	Type    string              `yaml:"type" json:"type"`
	Content string              `yaml:"content" json:"content,omitempty"`
	News    []AutoReplyNewsItem `yaml:"news" json:"news,omitempty"`
}

// AutoReplyNewsItem is one article of a news reply.
type AutoReplyNewsItem struct {
	Title      string `yaml:"title" json:"title"`
	Author     string `yaml:"author" json:"author"`
	Digest     string `yaml:"digest" json:"digest"`
	ShowCover  int    `yaml:"show_cover" json:"show_cover"`
	CoverURL   string `yaml:"cover_url" json:"cover_url"`
	ContentURL string `yaml:"content_url" json:"content_url"`
	SourceURL  string `yaml:"source_url" json:"source_url"`
}

// AutoReplyRule is a keyword rule: when a message matches one of
// Keywords, the account answers with every reply (ReplyMode reply_all) or
// one at random (random_one, the default).
type AutoReplyRule struct {
	Name string `yaml:"name" json:"name"`
	// CreateTime is when the rule was made (Unix seconds); when zero, the
	// time of the account's first get_current_autoreply_info call.
	CreateTime int64              `yaml:"create_time" json:"create_time,omitempty"`
	ReplyMode  string             `yaml:"reply_mode" json:"reply_mode,omitempty"`
	Keywords   []AutoReplyMatch   `yaml:"keywords" json:"keywords"`
	Replies    []AutoReplyMessage `yaml:"replies" json:"replies"`
}

// AutoReplyMatch is a keyword of a rule: Match is contain (the default) or
// equal.
type AutoReplyMatch struct {
	Match   string `yaml:"match" json:"match,omitempty"`
	Content string `yaml:"content" json:"content"`
}

func init() {
	handle("/cgi-bin/get_current_autoreply_info", (*Emulator).serveAutoReplyInfo)
}

// autoReplyState is the auto-reply settings of an app at run time (guarded
// by app.mu).
type autoReplyState struct {
	cfg     AutoReplyConfig
	set     bool      // cfg replaced by SetAutoReply
	created time.Time // default create_time of rules
}

// validateAutoReply checks c; key is its YAML key ("apps[0].auto_reply").
func validateAutoReply(key string, c AutoReplyConfig) error {
	bad := func(k, format string, args ...any) error {
		return &ConfigError{Key: key + k, Err: fmt.Errorf(format, args...)}
	}
	msg := func(k string, m AutoReplyMessage, keyword bool) error {
		switch m.Type {
		case "text", "img", "voice", "video":
			if m.Content == "" {
				return bad(k+".content", "required for type %s", m.Type)
			}
			if len(m.News) > 0 {
				return bad(k+".news", "only for type news")
			}
		case "news":
			if !keyword {
				return bad(k+".type", "news is for keyword replies only (want text, img, voice or video)")
			}
			if len(m.News) == 0 {
				return bad(k+".news", "required for type news")
			}
		default:
			return bad(k+".type", "invalid value %q (want text, img, voice, video or news)", m.Type)
		}
		return nil
	}
	if c.AddFriend != nil {
		if err := msg(".add_friend", *c.AddFriend, false); err != nil {
			return err
		}
	}
	if c.Default != nil {
		if err := msg(".default", *c.Default, false); err != nil {
			return err
		}
	}
	for i, r := range c.Keywords {
		p := fmt.Sprintf(".keywords[%d]", i)
		if r.ReplyMode != "" && r.ReplyMode != "reply_all" && r.ReplyMode != "random_one" {
			return bad(p+".reply_mode", "invalid value %q (want reply_all or random_one)", r.ReplyMode)
		}
		if r.CreateTime < 0 {
			return bad(p+".create_time", "must not be negative")
		}
		if len(r.Keywords) == 0 {
			return bad(p+".keywords", "at least one keyword is required")
		}
		for j, k := range r.Keywords {
			if k.Match != "" && k.Match != "contain" && k.Match != "equal" {
				return bad(fmt.Sprintf("%s.keywords[%d].match", p, j), "invalid value %q (want contain or equal)", k.Match)
			}
			if k.Content == "" {
				return bad(fmt.Sprintf("%s.keywords[%d].content", p, j), "required")
			}
		}
		if len(r.Replies) == 0 {
			return bad(p+".replies", "at least one reply is required")
		}
		for j, m := range r.Replies {
			if err := msg(fmt.Sprintf("%s.replies[%d]", p, j), m, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetAutoReply replaces the auto-reply settings of appID (those of the
// configuration until then), as an admin changing them on the website.
// The settings are checked as in the configuration (a *ConfigError whose
// Key starts with "auto_reply").
func (e *Emulator) SetAutoReply(appID string, c AutoReplyConfig) error {
	a := e.app(appID)
	if a == nil {
		return fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if err := validateAutoReply("auto_reply", c); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := appExt[autoReplyState](a, "mp_autoreply")
	st.cfg, st.set = c, true
	return nil
}

// autoReplyMsg is an automatic reply on the wire.
type autoReplyMsg struct {
	Type     string `json:"type"`
	Content  string `json:"content,omitempty"`
	NewsInfo *struct {
		List []AutoReplyNewsItem `json:"list"`
	} `json:"news_info,omitempty"`
}

func toAutoReplyMsg(m AutoReplyMessage) autoReplyMsg {
	out := autoReplyMsg{Type: m.Type, Content: m.Content}
	if m.Type == "news" {
		out.Content = ""
		out.NewsInfo = &struct {
			List []AutoReplyNewsItem `json:"list"`
		}{m.News}
	}
	return out
}

// serveAutoReplyInfo serves GET /cgi-bin/get_current_autoreply_info: the
// automatic replies set up for the account (AppConfig.AutoReply, or
// SetAutoReply): is_add_friend_reply_open and is_autoreply_open (0 or 1),
// the follow and default replies when on, and the keyword rules.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Getting_Rules_for_Auto_Replies.html
func (e *Emulator) serveAutoReplyInfo(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := appExt[autoReplyState](a, "mp_autoreply")
	if st.created.IsZero() {
		st.created = now
	}
	c := a.cfg.AutoReply
	if st.set {
		c = st.cfg
	}
	type keyword struct {
		Type      string `json:"type"`
		MatchMode string `json:"match_mode"`
		Content   string `json:"content"`
	}
	type rule struct {
		RuleName        string         `json:"rule_name"`
		CreateTime      int64          `json:"create_time"`
		ReplyMode       string         `json:"reply_mode"`
		KeywordListInfo []keyword      `json:"keyword_list_info"`
		ReplyListInfo   []autoReplyMsg `json:"reply_list_info"`
	}
	out := struct {
		IsAddFriendReplyOpen int           `json:"is_add_friend_reply_open"`
		IsAutoReplyOpen      int           `json:"is_autoreply_open"`
		AddFriend            *autoReplyMsg `json:"add_friend_autoreply_info,omitempty"`
		Default              *autoReplyMsg `json:"message_default_autoreply_info,omitempty"`
		Keywords             *struct {
			List []rule `json:"list"`
		} `json:"keyword_autoreply_info,omitempty"`
	}{}
	if c.AddFriend != nil {
		m := toAutoReplyMsg(*c.AddFriend)
		out.IsAddFriendReplyOpen, out.AddFriend = 1, &m
	}
	if c.Default != nil {
		m := toAutoReplyMsg(*c.Default)
		out.IsAutoReplyOpen, out.Default = 1, &m
	}
	if len(c.Keywords) > 0 {
		out.IsAutoReplyOpen = 1
		out.Keywords = &struct {
			List []rule `json:"list"`
		}{}
		for _, kr := range c.Keywords {
			ru := rule{RuleName: kr.Name, CreateTime: kr.CreateTime, ReplyMode: kr.ReplyMode}
			if ru.CreateTime == 0 {
				ru.CreateTime = st.created.Unix()
			}
			if ru.ReplyMode == "" {
				ru.ReplyMode = "random_one"
			}
			for _, k := range kr.Keywords {
				mode := k.Match
				if mode == "" {
					mode = "contain"
				}
				ru.KeywordListInfo = append(ru.KeywordListInfo, keyword{Type: "text", MatchMode: mode, Content: k.Content})
			}
			for _, m := range kr.Replies {
				ru.ReplyListInfo = append(ru.ReplyListInfo, toAutoReplyMsg(m))
			}
			out.Keywords.List = append(out.Keywords.List, ru)
		}
	}
	writeJSON(w, out)
}
