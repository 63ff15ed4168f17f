package mp

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
)

func TestSubscribeSend(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	tpls, err := env.srv.SubscribeTemplates(emuAppID)
	if err != nil || len(tpls) == 0 {
		t.Fatalf("SubscribeTemplates = %v, %v", tpls, err)
	}
	msg := &SubscribeSendRequest{
		ToUser: env.users[0], TemplateID: tpls[0].TemplateID, Page: "https://example.com/review",
		Data: map[string]SubscribeValue{
			"phrase1": {Value: "通过"},
			"thing2":  {Value: "会员认证"},
			"time3":   {Value: "2025-03-01 10:00"},
		},
	}
	if _, err := env.srv.SubscribePopup(ctx, emuAppID, emulator.SubscribePopupRequest{OpenID: env.users[0], TemplateID: tpls[0].TemplateID, Accept: true}); err != nil {
		t.Fatalf("SubscribePopup = %v", err)
	}
	if err := env.c.Subscribe().Send(ctx, msg); err != nil {
		t.Fatalf("Subscribe.Send = %v", err)
	}
	log, _ := env.srv.Conversation(emuAppID, env.users[0])
	if i := slices.IndexFunc(log, func(e emulatorEntry) bool { return e.Via == "subscribe" }); i < 0 || !strings.Contains(log[i].Text, "会员认证") {
		t.Errorf("conversation = %+v, want the notification", log)
	}

	long := *msg
	long.Data = map[string]SubscribeValue{"phrase1": {Value: "通过"}, "thing2": {Value: zh(21)}, "time3": {Value: "x"}}
	err = env.c.Subscribe().Send(ctx, &long)
	if !errors.Is(err, &wxkit.APIError{ErrCode: 47003}) || !strings.Contains(err.Error(), "thing2") {
		t.Errorf("Subscribe.Send(thing of 21 characters) = %v, want 47003 naming thing2", err)
	}
	bad := *msg
	bad.TemplateID = "nope"
	if err := env.c.Subscribe().Send(ctx, &bad); !errors.Is(err, &wxkit.APIError{ErrCode: 40037}) {
		t.Errorf("Subscribe.Send(unknown template) = %v, want 40037", err)
	}
	bad = *msg
	bad.ToUser = env.stranger
	if err := env.c.Subscribe().Send(ctx, &bad); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("Subscribe.Send(stranger) = %v, want 40003", err)
	}
}
