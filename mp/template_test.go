package mp

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wxkit/wxkit"
)

func TestTemplateSendListDelete(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	tpls := env.c.Template()

	list, err := tpls.ListPrivate(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Template.ListPrivate = %+v, %v; want the 2 seeded templates", list, err)
	}
	paid := list[0]
	if paid.Title == "" || !strings.Contains(paid.Content, "{{keyword1.DATA}}") {
		t.Errorf("Template.ListPrivate[0] = %+v, want a titled template with keyword1", paid)
	}

	msg := &TemplateSendRequest{
		ToUser: env.users[0], TemplateID: paid.TemplateID, URL: "https://example.com/order/1",
		Data: map[string]TemplateValue{
			"first":    {Value: "您的订单已支付"},
			"keyword1": {Value: "ORDER-1", Color: "#173177"},
			"keyword2": {Value: "99.00元"},
		},
	}
	id1, err := tpls.Send(ctx, msg)
	if err != nil || id1 == 0 {
		t.Fatalf("Template.Send = %d, %v", id1, err)
	}
	id2, err := tpls.Send(ctx, msg)
	if err != nil || id2 <= id1 {
		t.Errorf("Template.Send(again) = %d, %v; want a msgid above %d", id2, err, id1)
	}
	log, err := env.srv.Conversation(emuAppID, env.users[0])
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(e emulatorEntry) bool { return e.Via == "template" })
	if i < 0 || !strings.Contains(log[i].Text, "订单号：ORDER-1") || !strings.Contains(log[i].Text, "99.00元") {
		t.Errorf("conversation = %+v, want the rendered template message", log)
	}

	bad := *msg
	bad.TemplateID = "no-such-template"
	if _, err := tpls.Send(ctx, &bad); !errors.Is(err, &wxkit.APIError{ErrCode: 40037}) {
		t.Errorf("Template.Send(unknown template) = %v, want 40037", err)
	}
	bad = *msg
	bad.ToUser = env.stranger
	if _, err := tpls.Send(ctx, &bad); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("Template.Send(stranger) = %v, want 40003", err)
	}
	bad.ToUser = env.users[3]
	if _, err := tpls.Send(ctx, &bad); !errors.Is(err, wxkit.ErrRequireSubscribe) {
		t.Errorf("Template.Send(unsubscribed) = %v, want 43004", err)
	}

	if err := tpls.Delete(ctx, paid.TemplateID); err != nil {
		t.Fatalf("Template.Delete = %v", err)
	}
	if err := tpls.Delete(ctx, paid.TemplateID); !errors.Is(err, &wxkit.APIError{ErrCode: 40037}) {
		t.Errorf("Template.Delete(again) = %v, want 40037", err)
	}
	if list, _ := tpls.ListPrivate(ctx); len(list) != 1 {
		t.Errorf("Template.ListPrivate after Delete = %+v, want 1 template", list)
	}
}
