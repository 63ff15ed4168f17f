package mp

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

func TestCustomerServiceSend(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	cs := env.c.CustomerService()
	user := env.users[0]

	if err := cs.SendText(ctx, user, "hello"); !errors.Is(err, wxkit.ErrResponseOutOfTime) {
		t.Fatalf("CustomerService.SendText(no interaction) = %v, want 45015", err)
	}
	if err := cs.Typing(ctx, user, TypingCommandTyping); !errors.Is(err, wxkit.ErrResponseOutOfTime) {
		t.Fatalf("CustomerService.Typing(no interaction) = %v, want 45015", err)
	}
	env.push(t, user, "你好")

	img, err := env.c.Media().Upload(ctx, MediaTypeImage, "a.jpg", bytes.NewReader([]byte("\xff\xd8\xff jpeg")))
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := env.c.Media().Upload(ctx, MediaTypeThumb, "t.jpg", bytes.NewReader([]byte("\xff\xd8\xff thumb")))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		send func() error
	}{
		{"Typing", func() error { return cs.Typing(ctx, user, TypingCommandTyping) }},
		{"SendText", func() error { return cs.SendText(ctx, user, "您好，请问有什么可以帮您？") }},
		{"SendImage", func() error { return cs.SendImage(ctx, user, img.MediaID) }},
		{"SendNews", func() error {
			return cs.SendNews(ctx, user, CustomArticle{Title: "新品上市", Description: "点击查看", URL: "https://example.com/new"})
		}},
		{"SendMiniProgramPage", func() error {
			return cs.SendMiniProgramPage(ctx, user, CustomMiniProgramPage{Title: "小程序", AppID: "wx286b93c14bbf93aa",
				PagePath: "pages/index/index", ThumbMediaID: thumb.MediaID})
		}},
		{"Typing cancel", func() error { return cs.Typing(ctx, user, TypingCommandCancelTyping) }},
	}
	for _, s := range steps {
		if err := s.send(); err != nil {
			t.Fatalf("CustomerService.%s = %v", s.name, err)
		}
	}
	msgs, err := env.srv.CustomerServiceMessages(emuAppID, user)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Text)
	}
	want := []string{"您好，请问有什么可以帮您？", "[图片]", "[链接] 新品上市", "[小程序] 小程序"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded messages mismatch (-want +got):\n%s", diff)
	}

	if err := cs.SendImage(ctx, user, "no-such-media"); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Errorf("CustomerService.SendImage(unknown media) = %v, want 40007", err)
	}
	if err := cs.SendText(ctx, env.stranger, "x"); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("CustomerService.SendText(stranger) = %v, want 40003", err)
	}
	if err := cs.SendText(ctx, env.users[3], "x"); !errors.Is(err, wxkit.ErrResponseOutOfTime) {
		t.Errorf("CustomerService.SendText(unsubscribed) = %v, want 45015", err)
	}
	two := &CustomMessage{ToUser: user, MsgType: CustomMsgTypeNews, News: &CustomNews{Articles: []CustomArticle{{Title: "a", URL: "u"}, {Title: "b", URL: "u"}}}}
	wantCode(t, "CustomerService.Send(news with 2 articles)", cs.Send(ctx, two), 45008)
}

func TestCustomerServiceLimit20(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	cs := env.c.CustomerService()
	user := env.users[1]
	env.push(t, user, "hi")
	for i := range 20 {
		if err := cs.SendText(ctx, user, "msg"); err != nil {
			t.Fatalf("CustomerService.SendText #%d = %v", i+1, err)
		}
	}
	wantCode(t, "CustomerService.SendText #21", cs.SendText(ctx, user, "msg"), 45047)
	if err := cs.Typing(ctx, user, TypingCommandTyping); err != nil {
		t.Errorf("CustomerService.Typing after 20 messages = %v, want nil (typing is not counted)", err)
	}
	env.push(t, user, "again")
	if err := cs.SendText(ctx, user, "msg"); err != nil {
		t.Errorf("CustomerService.SendText after a new interaction = %v, want nil", err)
	}
}

func TestCustomerServiceWindow48h(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	cs := env.c.CustomerService()
	user := env.users[2]
	env.push(t, user, "hi")
	if _, err := env.srv.Advance(48 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := cs.SendText(ctx, user, "at 48h"); err != nil {
		t.Fatalf("CustomerService.SendText at 48 h = %v, want nil", err)
	}
	if _, err := env.srv.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := cs.SendText(ctx, user, "after 48h"); !errors.Is(err, wxkit.ErrResponseOutOfTime) {
		t.Errorf("CustomerService.SendText at 48 h 1 s = %v, want 45015", err)
	}
}
