package emulator

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAutoReplyInfoDefaultOff(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	code, m := mpCallJSON(t, e, fetchToken(t, e), "GET", "/cgi-bin/get_current_autoreply_info", "")
	want := map[string]any{"is_add_friend_reply_open": 0.0, "is_autoreply_open": 0.0}
	if diff := cmp.Diff(want, m); code != 0 || diff != "" {
		t.Errorf("get_current_autoreply_info = %d (-want +got):\n%s", code, diff)
	}
	if code, _ := mpCallJSON(t, e, fetchToken(t, e), "POST", "/cgi-bin/get_current_autoreply_info", "{}"); code != 43001 {
		t.Errorf("POST get_current_autoreply_info = %d, want 43001", code)
	}
}

const autoReplyYAML = `
apps:
  - appid: wx1111111111111111
    secret: "11111111111111111111111111111111"
    token: testtoken123
    auto_reply:
      add_friend: { type: text, content: "欢迎关注" }
      default: { type: img, content: "MEDIA_ID_1" }
      keywords:
        - name: 价格
          create_time: 1423028166
          reply_mode: reply_all
          keywords: [ { content: "价格" }, { match: equal, content: "报价" } ]
          replies:
            - { type: text, content: "请看菜单" }
            - type: news
              news:
                - { title: 价目表, author: 店长, digest: 本周, show_cover: 1, cover_url: "http://mmbiz.qpic.cn/c/0", content_url: "http://mp.weixin.qq.com/s?x=1", source_url: "" }
`

func TestAutoReplyInfoFromConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(autoReplyYAML))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, WithClock(FixedClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	code, got := mpCallJSON(t, e, fetchToken(t, e), "GET", "/cgi-bin/get_current_autoreply_info", "")
	if code != 0 {
		t.Fatalf("get_current_autoreply_info = %d", code)
	}
	// The shape of the platform's documented sample.
	var want map[string]any
	if err := json.Unmarshal([]byte(`{
		"is_add_friend_reply_open": 1,
		"is_autoreply_open": 1,
		"add_friend_autoreply_info": {"type": "text", "content": "欢迎关注"},
		"message_default_autoreply_info": {"type": "img", "content": "MEDIA_ID_1"},
		"keyword_autoreply_info": {"list": [{
			"rule_name": "价格", "create_time": 1423028166, "reply_mode": "reply_all",
			"keyword_list_info": [
				{"type": "text", "match_mode": "contain", "content": "价格"},
				{"type": "text", "match_mode": "equal", "content": "报价"}],
			"reply_list_info": [
				{"type": "text", "content": "请看菜单"},
				{"type": "news", "news_info": {"list": [{"title": "价目表", "author": "店长", "digest": "本周", "show_cover": 1,
					"cover_url": "http://mmbiz.qpic.cn/c/0", "content_url": "http://mp.weixin.qq.com/s?x=1", "source_url": ""}]}}]
		}]}
	}`), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get_current_autoreply_info (-want +got):\n%s", diff)
	}

	// SetAutoReply replaces the settings; a rule without create_time gets
	// the time of the first call, and random_one by default.
	if err := e.SetAutoReply(testAppID, AutoReplyConfig{Keywords: []AutoReplyRule{{
		Name: "r", Keywords: []AutoReplyMatch{{Content: "hi"}}, Replies: []AutoReplyMessage{{Type: "text", Content: "hello"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	_, got = mpCallJSON(t, e, fetchToken(t, e), "GET", "/cgi-bin/get_current_autoreply_info", "")
	rule := got["keyword_autoreply_info"].(map[string]any)["list"].([]any)[0].(map[string]any)
	if got["is_add_friend_reply_open"] != 0.0 || got["is_autoreply_open"] != 1.0 || got["add_friend_autoreply_info"] != nil ||
		rule["create_time"] != float64(t0.Unix()) || rule["reply_mode"] != "random_one" {
		t.Errorf("after SetAutoReply = %v", got)
	}
	err = e.SetAutoReply(testAppID, AutoReplyConfig{Default: &AutoReplyMessage{Type: "news"}})
	if ce, ok := errors.AsType[*ConfigError](err); !ok || ce.Key != "auto_reply.default.type" {
		t.Errorf("SetAutoReply(news default) = %v, want a ConfigError for auto_reply.default.type", err)
	}
}

func TestAutoReplyConfigErrors(t *testing.T) {
	t.Parallel()
	head := "apps:\n  - appid: wx1111111111111111\n    secret: \"11111111111111111111111111111111\"\n    token: testtoken123\n    auto_reply:\n"
	tests := []struct {
		name, yaml, key string
	}{
		{"unknown type", "      add_friend: { type: music, content: x }\n", "apps[0].auto_reply.add_friend.type"},
		{"news as follow reply", "      add_friend: { type: news }\n", "apps[0].auto_reply.add_friend.type"},
		{"empty text", "      default: { type: text }\n", "apps[0].auto_reply.default.content"},
		{"bad reply mode", "      keywords: [ { reply_mode: all, keywords: [ {content: a} ], replies: [ {type: text, content: b} ] } ]\n",
			"apps[0].auto_reply.keywords[0].reply_mode"},
		{"bad match", "      keywords: [ { keywords: [ {match: regex, content: a} ], replies: [ {type: text, content: b} ] } ]\n",
			"apps[0].auto_reply.keywords[0].keywords[0].match"},
		{"no keywords", "      keywords: [ { replies: [ {type: text, content: b} ] } ]\n", "apps[0].auto_reply.keywords[0].keywords"},
		{"no replies", "      keywords: [ { keywords: [ {content: a} ] } ]\n", "apps[0].auto_reply.keywords[0].replies"},
		{"news without articles", "      keywords: [ { keywords: [ {content: a} ], replies: [ {type: news} ] } ]\n",
			"apps[0].auto_reply.keywords[0].replies[0].news"},
	}
	for _, tc := range tests {
		_, err := ParseConfig([]byte(head + tc.yaml))
		ce, ok := errors.AsType[*ConfigError](err)
		if !ok || ce.Key != tc.key {
			t.Errorf("%s: ParseConfig = %v, want a ConfigError for %s", tc.name, err, tc.key)
		}
	}
	if _, err := ParseConfig([]byte(head + "      greeting: { type: text, content: x }\n")); err == nil || !strings.Contains(err.Error(), "greeting") {
		t.Errorf("unknown auto_reply key = %v, want an error naming it", err)
	}
}
