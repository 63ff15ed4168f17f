package interop

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/wxkit/wxkit/emulator"
)

// TestSilenceperTemplateLibrary: the SDK adds a template-message template
// from the library (api_add_template) and builds a subscription template
// from the public library (wxaapi/newtmpl/*), then lists and deletes it.
func TestSilenceperTemplateLibrary(t *testing.T) {
	emu := newEmulator(t)
	oa := newOfficialAccount(false)

	tpl := oa.GetTemplate()
	id, err := tpl.Add("TM00015", nil)
	if err != nil || id == "" {
		t.Fatalf("Template.Add(TM00015) = %q, %v", id, err)
	}
	list, err := tpl.List()
	if err != nil || !slices.ContainsFunc(list, func(x *message.TemplateItem) bool { return x.TemplateID == id && x.Title == "订单支付成功" }) {
		t.Errorf("Template.List = %v, %v; want the added template", list, err)
	}
	if _, err := tpl.Add("bad", nil); errcode(err) != 40037 {
		t.Errorf("Template.Add(bad) = %v, want errcode 40037", err)
	}

	sub := oa.GetSubscribe()
	cats, err := sub.GetCategory()
	if err != nil || len(cats) == 0 {
		t.Fatalf("GetCategory = %v, %v", cats, err)
	}
	var ids []string
	for _, c := range cats {
		ids = append(ids, fmt.Sprint(c.ID))
	}
	count, titles, err := sub.GetPublicTemplateTitleList(strings.Join(ids, ","), 0, 30)
	if err != nil || count == 0 || len(titles) != count {
		t.Fatalf("GetPublicTemplateTitleList = %d, %v, %v", count, titles, err)
	}
	kws, err := sub.GetPubTplKeyWordsByID(fmt.Sprint(titles[0].TitleID))
	if err != nil || len(kws) < 2 {
		t.Fatalf("GetPubTplKeyWordsByID = %v, %v", kws, err)
	}
	pri, err := sub.Add(fmt.Sprint(titles[0].TitleID), []int{kws[0].KeyWordsID, kws[1].KeyWordsID}, "互通测试")
	if err != nil || pri == "" {
		t.Fatalf("Subscribe.Add = %q, %v", pri, err)
	}
	mine, err := sub.List()
	if err != nil || !slices.ContainsFunc(mine, func(x *message.PrivateSubscribeItem) bool { return x.PriTmplID == pri && x.Title == titles[0].Title }) {
		t.Errorf("Subscribe.List = %v, %v; want the added template", mine, err)
	}
	subs, _ := emu.SubscribeTemplates(emulator.DemoAppID)
	if !slices.ContainsFunc(subs, func(x emulator.TemplateInfo) bool { return x.TemplateID == pri }) {
		t.Errorf("emulator's subscription templates = %v, want %s", subs, pri)
	}
	if _, err := sub.Add("999999", []int{1, 2}, ""); errcode(err) != 200014 {
		t.Errorf("Subscribe.Add(unknown tid) = %v, want errcode 200014", err)
	}
	if err := sub.Delete(pri); err != nil {
		t.Fatalf("Subscribe.Delete = %v", err)
	}
	if err := sub.Delete(pri); errcode(err) != 40037 {
		t.Errorf("Subscribe.Delete(again) = %v, want errcode 40037", err)
	}
}
