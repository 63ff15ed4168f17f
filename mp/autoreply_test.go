package mp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
)

// raw calls the emulator with the client's access_token and returns the
// answer body as is.
func (env *emuEnv) raw(t *testing.T, method, path, body string) []byte {
	t.Helper()
	tok, err := env.c.AccessToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, env.srv.URL+path+"?access_token="+url.QueryEscape(tok.Value), rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := env.srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeStrict decodes b into v, refusing fields v does not have, and
// checks that v encodes back to the same JSON: the Go type and the wire
// agree field for field.
func decodeStrict(t *testing.T, what string, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, b)
	}
	back, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(b, &want)
	_ = json.Unmarshal(back, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: the Go type loses or adds fields (-wire +re-encoded):\n%s", what, diff)
	}
}

func TestAutoReplyGet(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	info, err := env.c.AutoReply().Get(ctx)
	if err != nil {
		t.Fatalf("AutoReply.Get = %v", err)
	}
	if diff := cmp.Diff(&AutoReplyInfo{}, info); diff != "" || info.AutoReplyOpen() || info.AddFriendReplyOpen() {
		t.Errorf("AutoReply.Get(nothing set up) (-want +got):\n%s", diff)
	}

	created := time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC)
	err = env.srv.SetAutoReply(emuAppID, emulator.AutoReplyConfig{
		AddFriend: &emulator.AutoReplyMessage{Type: "text", Content: "欢迎"},
		Keywords: []emulator.AutoReplyRule{{
			Name: "价格", CreateTime: created.Unix(), ReplyMode: "reply_all",
			Keywords: []emulator.AutoReplyMatch{{Match: "equal", Content: "价格"}},
			Replies: []emulator.AutoReplyMessage{
				{Type: "voice", Content: "MEDIA1"},
				{Type: "news", News: []emulator.AutoReplyNewsItem{{Title: "价目表", ShowCover: 1, ContentURL: "http://mp.weixin.qq.com/s?x=1"}}},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err = env.c.AutoReply().Get(ctx)
	if err != nil {
		t.Fatalf("AutoReply.Get = %v", err)
	}
	want := &AutoReplyInfo{
		IsAddFriendReplyOpen: 1, IsAutoReplyOpen: 1,
		AddFriendReply: &AutoReply{Type: AutoReplyTypeText, Content: "欢迎"},
		KeywordReplies: &KeywordAutoReplyList{List: []KeywordAutoReplyRule{{
			RuleName: "价格", CreateTime: wxkit.Timestamp{Time: created.Local()}, ReplyMode: "reply_all",
			Keywords: []AutoReplyKeyword{{Type: AutoReplyTypeText, MatchMode: "equal", Content: "价格"}},
			Replies: []AutoReply{
				{Type: AutoReplyTypeVoice, Content: "MEDIA1"},
				{Type: AutoReplyTypeNews, NewsInfo: &SelfMenuNewsList{List: []SelfMenuNews{{Title: "价目表", ShowCover: 1, ContentURL: "http://mp.weixin.qq.com/s?x=1"}}}},
			},
		}}},
	}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("AutoReply.Get (-want +got):\n%s", diff)
	}
	decodeStrict(t, "get_current_autoreply_info", env.raw(t, "GET", "/cgi-bin/get_current_autoreply_info", ""), new(AutoReplyInfo))
}

// TestAutoReplyDocSample decodes a body in the shape of the documented
// sample (every field the documentation lists).
func TestAutoReplyDocSample(t *testing.T) {
	t.Parallel()
	sample := `{"is_add_friend_reply_open":1,"is_autoreply_open":1,
		"add_friend_autoreply_info":{"type":"text","content":"Thanks for your attention!"},
		"message_default_autoreply_info":{"type":"text","content":"Hello, this is autoreply!"},
		"keyword_autoreply_info":{"list":[{"rule_name":"autoreply-news","create_time":1423028166,"reply_mode":"reply_all",
			"keyword_list_info":[{"type":"text","match_mode":"contain","content":"news测试"}],
			"reply_list_info":[{"type":"news","news_info":{"list":[{"title":"it's news","author":"jim","digest":"it's digest",
				"show_cover":1,"cover_url":"http://mmbiz.qpic.cn/mmbiz/x/0","content_url":"http://mp.weixin.qq.com/s?__biz=x#rd","source_url":"http://www.url.com"}]}},
				{"type":"video","content":"http://example.com/v.mp4"}]}]}}`
	var info AutoReplyInfo
	decodeStrict(t, "documented sample", []byte(sample), &info)
	if !info.AutoReplyOpen() || !info.AddFriendReplyOpen() || info.KeywordReplies.List[0].CreateTime.Unix() != 1423028166 {
		t.Errorf("decoded sample = %+v", info)
	}
}
