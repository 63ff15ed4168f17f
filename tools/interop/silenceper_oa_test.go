package interop

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/basic"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/customerservice"
	"github.com/silenceper/wechat/v2/officialaccount/material"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/officialaccount/user"
	"github.com/silenceper/wechat/v2/util"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// newOfficialAccount returns the SDK's client of the emulator's demo app,
// configured as for the real platform, with a fresh token cache.
func newOfficialAccount(stable bool) *officialaccount.OfficialAccount {
	return wechat.NewWechat().GetOfficialAccount(&offConfig.Config{
		AppID:          emulator.DemoAppID,
		AppSecret:      emulator.DemoSecret,
		Token:          emulator.DemoToken,
		EncodingAESKey: emulator.DemoEncodingAESKey,
		Cache:          cache.NewMemory(),
		UseStableAK:    stable,
	})
}

// errcodeRE finds the platform's errcode in an SDK error: the SDK reports
// it as "errcode=N" (in util.CommonError and in its own fmt.Errorf texts).
var errcodeRE = regexp.MustCompile(`errcode=(-?\d+)`)

// errcode returns the platform errcode an SDK error reports, or 0.
func errcode(err error) int {
	if err == nil {
		return 0
	}
	m := errcodeRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestSilenceperAccessToken(t *testing.T) {
	tests := []struct {
		name   string
		stable bool
		want   emulator.TokenFetches
	}{
		{"cgi-bin/token", false, emulator.TokenFetches{Total: 1, CGIBinToken: 1}},
		{"stable_token", true, emulator.TokenFetches{Total: 1, StableToken: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := newEmulator(t)
			oa := newOfficialAccount(tt.stable)
			tok, err := oa.GetAccessTokenContext(t.Context())
			if err != nil {
				t.Fatalf("GetAccessToken: %v", err)
			}
			// The SDK caches the token: a second call fetches none.
			again, err := oa.GetAccessTokenContext(t.Context())
			if err != nil || again != tok {
				t.Fatalf("second GetAccessToken = %q, %v; want the cached token", again, err)
			}
			if diff := cmp.Diff(tt.want, emu.Stats().TokenFetches[emulator.DemoAppID]); diff != "" {
				t.Errorf("tokens issued by the emulator (-want +got):\n%s", diff)
			}
			// The token works: an API call with it succeeds.
			if _, err := oa.GetUser().ListUserOpenIDs(); err != nil {
				t.Errorf("ListUserOpenIDs with the token: %v", err)
			}
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		newEmulator(t)
		oa := wechat.NewWechat().GetOfficialAccount(&offConfig.Config{
			AppID: emulator.DemoAppID, AppSecret: strings.Repeat("0", 32), Cache: cache.NewMemory(),
		})
		if _, err := oa.GetAccessTokenContext(t.Context()); errcode(err) != 40125 {
			t.Errorf("GetAccessToken with a wrong secret: err = %v, want errcode 40125", err)
		}
	})
}

func TestSilenceperMenu(t *testing.T) {
	emu := newEmulator(t)
	m := newOfficialAccount(false).GetMenu()

	if _, err := m.GetMenu(); errcode(err) != 46003 {
		t.Errorf("GetMenu before any menu: err = %v, want errcode 46003", err)
	}
	buttons := []*menu.Button{
		menu.NewClickButton("今日歌曲", "V1001_TODAY_MUSIC"),
		menu.NewSubButton("菜单", []*menu.Button{
			menu.NewViewButton("搜索", "http://www.soso.com/"),
			menu.NewClickButton("赞一下我们", "V1001_GOOD"),
		}),
	}
	if err := m.SetMenu(buttons); err != nil {
		t.Fatalf("SetMenu: %v", err)
	}
	got, err := m.GetMenu()
	if err != nil {
		t.Fatalf("GetMenu: %v", err)
	}
	want := []menu.Button{
		{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
		{Name: "菜单", SubButtons: []*menu.Button{
			{Type: "view", Name: "搜索", URL: "http://www.soso.com/"},
			{Type: "click", Name: "赞一下我们", Key: "V1001_GOOD"},
		}},
	}
	if diff := cmp.Diff(want, got.Menu.Button, emptySubButtons); diff != "" {
		t.Errorf("GetMenu (-want +got):\n%s", diff)
	}
	seen, err := emu.MenuFor(emulator.DemoAppID, userZhang)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen.Buttons) != 2 || seen.Buttons[0].Key != "V1001_TODAY_MUSIC" || len(seen.Buttons[1].SubButtons) != 2 {
		t.Errorf("menu the user sees = %+v, want the menu the SDK set", seen.Buttons)
	}

	self, err := m.GetCurrentSelfMenuInfo()
	if err != nil {
		t.Fatalf("GetCurrentSelfMenuInfo: %v", err)
	}
	if self.IsMenuOpen != 1 || len(self.SelfMenuInfo.Button) != 2 || len(self.SelfMenuInfo.Button[1].SubButton.List) != 2 ||
		self.SelfMenuInfo.Button[1].SubButton.List[0].URL != "http://www.soso.com/" {
		t.Errorf("GetCurrentSelfMenuInfo = %+v, want the menu open with its 2 buttons", self)
	}

	// A conditional menu for women: 李四 gets it, 张三 the default one.
	if err := m.AddConditional([]*menu.Button{menu.NewClickButton("女士专享", "WOMEN")}, &menu.MatchRule{Sex: "2"}); err != nil {
		t.Fatalf("AddConditional: %v", err)
	}
	for _, c := range []struct {
		user, wantKey string
	}{{userLi, "WOMEN"}, {userZhang, "V1001_TODAY_MUSIC"}} {
		btns, err := m.MenuTryMatch(c.user)
		if err != nil {
			t.Fatalf("MenuTryMatch(%s): %v", c.user, err)
		}
		if len(btns) == 0 || btns[0].Key != c.wantKey {
			t.Errorf("MenuTryMatch(%s) = %+v, want first key %s", c.user, btns, c.wantKey)
		}
	}
	got, err = m.GetMenu()
	if err != nil {
		t.Fatalf("GetMenu: %v", err)
	}
	if len(got.Conditionalmenu) != 1 || got.Conditionalmenu[0].MatchRule.Sex != "2" || got.Conditionalmenu[0].MenuID == 0 {
		t.Fatalf("GetMenu's conditionalmenu = %+v, want the one added", got.Conditionalmenu)
	}
	if err := m.DeleteConditional(got.Conditionalmenu[0].MenuID); err != nil {
		t.Errorf("DeleteConditional: %v", err)
	}

	if err := m.DeleteMenu(); err != nil {
		t.Fatalf("DeleteMenu: %v", err)
	}
	if _, err := m.GetMenu(); errcode(err) != 46003 {
		t.Errorf("GetMenu after DeleteMenu: err = %v, want errcode 46003", err)
	}
}

// emptySubButtons treats a nil and an empty sub_button list alike (the
// platform answers [] where the SDK sent none).
var emptySubButtons = cmp.Comparer(func(a, b []*menu.Button) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b, cmp.Comparer(func(x, y *menu.Button) bool {
		return x.Type == y.Type && x.Name == y.Name && x.Key == y.Key && x.URL == y.URL && len(x.SubButtons) == 0 && len(y.SubButtons) == 0
	}))
})

func TestSilenceperUsersAndTags(t *testing.T) {
	newEmulator(t)
	u := newOfficialAccount(false).GetUser()

	list, err := u.ListUserOpenIDs()
	if err != nil {
		t.Fatalf("ListUserOpenIDs: %v", err)
	}
	if diff := cmp.Diff([]string{userZhang, userLi, userAlice}, list.Data.OpenIDs, sortStrings); diff != "" || list.Total != 3 {
		t.Errorf("ListUserOpenIDs total %d (-want +got):\n%s", list.Total, diff)
	}
	all, err := u.ListAllUserOpenIDs()
	if err != nil || len(all) != 3 {
		t.Errorf("ListAllUserOpenIDs = %v, %v; want the 3 followers", all, err)
	}

	// user/info has carried no nickname, sex, place or head image since
	// 2021-12-27.
	info, err := u.GetUserInfo(userZhang)
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	if diff := cmp.Diff(
		[]any{int32(1), userZhang, "", "zh_CN", true, "ADD_SCENE_OTHERS"},
		[]any{info.Subscribe, info.OpenID, info.Nickname, info.Language, info.SubscribeTime > 0, info.SubscribeScene},
	); diff != "" {
		t.Errorf("GetUserInfo (-want +got):\n%s", diff)
	}
	if _, err := u.GetUserInfo("oWxkt1NotAFollowerOfThisApp0"); errcode(err) != 40003 {
		t.Errorf("GetUserInfo of an unknown openid: err = %v, want errcode 40003", err)
	}

	batch, err := u.BatchGetUserInfo(user.BatchGetUserInfoParams{UserList: []user.BatchGetUserListItem{
		{OpenID: userLi, Lang: "zh_CN"}, {OpenID: userAlice, Lang: "en"},
	}})
	if err != nil {
		t.Fatalf("BatchGetUserInfo: %v", err)
	}
	var got []string
	for _, i := range batch.UserInfoList {
		got = append(got, i.OpenID+" "+i.Language)
	}
	if diff := cmp.Diff([]string{userLi + " zh_CN", userAlice + " en"}, got); diff != "" {
		t.Errorf("BatchGetUserInfo openid and language (-want +got):\n%s", diff)
	}

	if err := u.UpdateRemark(userZhang, "VIP"); err != nil {
		t.Fatalf("UpdateRemark: %v", err)
	}
	if info, err := u.GetUserInfo(userZhang); err != nil || info.Remark != "VIP" {
		t.Errorf("remark after UpdateRemark = %q, %v; want VIP", info.Remark, err)
	}

	if err := u.BatchBlackList(userAlice); err != nil {
		t.Fatalf("BatchBlackList: %v", err)
	}
	black, err := u.GetAllBlackList()
	if err != nil {
		t.Fatalf("GetAllBlackList: %v", err)
	}
	if diff := cmp.Diff([]string{userAlice}, black); diff != "" {
		t.Errorf("GetAllBlackList (-want +got):\n%s", diff)
	}
	if err := u.BatchUnBlackList(userAlice); err != nil {
		t.Fatalf("BatchUnBlackList: %v", err)
	}
	if page, err := u.GetBlackList(); err != nil || page.Total != 0 || len(page.Data.OpenIDs) != 0 {
		t.Errorf("GetBlackList after BatchUnBlackList = %+v, %v; want it empty", page, err)
	}

	tag, err := u.CreateTag("interop")
	if err != nil {
		t.Fatalf("CreateTag: %v", err)
	}
	if tag.ID == 0 || tag.Name != "interop" {
		t.Fatalf("CreateTag = %+v", tag)
	}
	if err := u.BatchTag([]string{userZhang, userLi}, tag.ID); err != nil {
		t.Fatalf("BatchTag: %v", err)
	}
	ids, err := u.UserTidList(userLi)
	if err != nil || !slices.Contains(ids, tag.ID) {
		t.Errorf("UserTidList(李四) = %v, %v; want it to hold %d", ids, err, tag.ID)
	}
	members, err := u.OpenIDListByTag(tag.ID)
	if err != nil {
		t.Fatalf("OpenIDListByTag: %v", err)
	}
	if diff := cmp.Diff([]string{userZhang, userLi}, members.Data.OpenIDs, sortStrings); diff != "" {
		t.Errorf("OpenIDListByTag (-want +got):\n%s", diff)
	}
	if err := u.BatchUntag([]string{userZhang}, tag.ID); err != nil {
		t.Fatalf("BatchUntag: %v", err)
	}
	if err := u.UpdateTag(tag.ID, "interop2"); err != nil {
		t.Fatalf("UpdateTag: %v", err)
	}
	tags, err := u.GetTag()
	if err != nil {
		t.Fatalf("GetTag: %v", err)
	}
	i := slices.IndexFunc(tags, func(x *user.TagInfo) bool { return x.ID == tag.ID })
	if i < 0 || tags[i].Name != "interop2" || tags[i].Count != 1 {
		t.Errorf("GetTag = %v, want tag %d named interop2 with 1 member", tags, tag.ID)
	}
	if err := u.DeleteTag(tag.ID); err != nil {
		t.Fatalf("DeleteTag: %v", err)
	}
	if ids, err := u.UserTidList(userLi); err != nil || slices.Contains(ids, tag.ID) {
		t.Errorf("UserTidList(李四) after DeleteTag = %v, %v", ids, err)
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
})

func TestSilenceperTemplateMessage(t *testing.T) {
	emu := newEmulator(t)
	tpl := newOfficialAccount(false).GetTemplate()

	list, err := tpl.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	seeded, err := emu.Templates(emulator.DemoAppID)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs, wantIDs []string
	for _, x := range list {
		gotIDs = append(gotIDs, x.TemplateID)
	}
	for _, x := range seeded {
		wantIDs = append(wantIDs, x.TemplateID)
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Fatalf("List template ids (-want +got):\n%s", diff)
	}

	msgID, err := tpl.Send(&message.TemplateMessage{
		ToUser:     userZhang,
		TemplateID: seeded[0].TemplateID,
		URL:        "http://127.0.0.1:8080/orders/1",
		Data: map[string]*message.TemplateDataItem{
			"first":    {Value: "您的订单已支付成功"},
			"keyword1": {Value: "interop001"},
			"keyword2": {Value: "0.01元"},
			"remark":   {Value: "感谢您的惠顾"},
		},
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if msgID == 0 {
		t.Error("Send returned msgid 0")
	}
	conv, err := emu.Conversation(emulator.DemoAppID, userZhang)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(conv, func(e emulator.ConversationEntry) bool { return e.Via == "template" })
	if i < 0 || !strings.Contains(conv[i].Text, "interop001") || !strings.Contains(conv[i].Text, "0.01元") {
		t.Errorf("user's conversation = %+v, want the template message with its data", conv)
	}

	if _, err := tpl.Send(&message.TemplateMessage{ToUser: userZhang, TemplateID: strings.Repeat("x", 43),
		Data: map[string]*message.TemplateDataItem{}}); errcode(err) != 40037 {
		t.Errorf("Send with an unknown template_id: err = %v, want errcode 40037", err)
	}

	if err := tpl.Delete(seeded[1].TemplateID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if list, err := tpl.List(); err != nil || len(list) != len(seeded)-1 {
		t.Errorf("List after Delete = %d templates, %v; want %d", len(list), err, len(seeded)-1)
	}
}

// messageServer is the account's server written with the SDK's message
// server: it answers text with "echo: " + the text and events with their
// name and key.
func messageServer(t *testing.T, emu *emulatortest.Server, oa *officialaccount.OfficialAccount) {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(msg *message.MixMessage) *message.Reply {
			text := "echo: " + msg.Content
			if msg.MsgType == message.MsgTypeEvent {
				text = fmt.Sprintf("event %s %s", msg.Event, msg.EventKey)
			}
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(text)}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := srv.Send(); err != nil {
			t.Errorf("message server: Send: %v", err)
		}
	}))
	t.Cleanup(hs.Close)
	if err := emu.SetPushURL(emulator.DemoAppID, hs.URL+"/wx"); err != nil {
		t.Fatal(err)
	}
}

func TestSilenceperMessageServer(t *testing.T) {
	emu := newEmulator(t)
	oa := newOfficialAccount(false)
	messageServer(t, emu, oa)
	if err := oa.GetMenu().SetMenu([]*menu.Button{menu.NewClickButton("今日歌曲", "V1001_TODAY_MUSIC")}); err != nil {
		t.Fatalf("SetMenu: %v", err)
	}

	tests := []struct {
		name string
		push func() (*emulator.PushResult, error)
		want string
	}{
		{"text", func() (*emulator.PushResult, error) {
			return emu.Push(t.Context(), emulator.DemoAppID, emulator.PushRequest{User: userZhang, Content: "你好 <&>"})
		}, "echo: 你好 <&>"},
		{"subscribe event", func() (*emulator.PushResult, error) {
			return emu.Push(t.Context(), emulator.DemoAppID, emulator.PushRequest{User: userLi, Event: "subscribe"})
		}, "event subscribe "},
		{"menu click", func() (*emulator.PushResult, error) {
			return emu.ClickMenu(t.Context(), emulator.DemoAppID, userAlice, "V1001_TODAY_MUSIC")
		}, "event CLICK V1001_TODAY_MUSIC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.push()
			if err != nil {
				t.Fatalf("push: %v", err)
			}
			if !res.OK() || res.UserSees != tt.want || res.Reply == nil || !res.Reply.Encrypted {
				t.Errorf("push result: ok=%v user sees %q (want %q), reply %+v, error %q", res.OK(), res.UserSees, tt.want, res.Reply, res.Error)
			}
		})
	}
}

func TestSilenceperQRCode(t *testing.T) {
	emu := newEmulator(t)
	oa := newOfficialAccount(false)
	messageServer(t, emu, oa)

	tk, err := oa.GetBasic().GetQRTicket(basic.NewTmpQrRequest(time.Hour, 1234))
	if err != nil {
		t.Fatalf("GetQRTicket: %v", err)
	}
	if tk.Ticket == "" || tk.ExpireSeconds != 3600 || tk.URL == "" {
		t.Fatalf("GetQRTicket = %+v, want a ticket for 3600 s with its url", tk)
	}
	// The image link the SDK builds (mp.weixin.qq.com/cgi-bin/showqrcode).
	img, err := util.HTTPGetContext(t.Context(), basic.ShowQRCode(tk))
	if err != nil {
		t.Fatalf("GET %s: %v", basic.ShowQRCode(tk), err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		// Not every showqrcode answer needs to be a PNG; a JPEG is what the
		// platform serves.
		if _, _, err2 := image.DecodeConfig(bytes.NewReader(img)); err2 != nil {
			t.Errorf("showqrcode answered %d bytes that are no image: %v", len(img), err)
		}
	}
	// A follower scans it: the SDK's server gets SCAN with the scene.
	res, err := emu.ScanQRCode(t.Context(), emulator.DemoAppID, userZhang, tk.Ticket)
	if err != nil {
		t.Fatalf("ScanQRCode: %v", err)
	}
	if res.UserSees != "event SCAN 1234" {
		t.Errorf("after the scan the user sees %q, want %q (error %q)", res.UserSees, "event SCAN 1234", res.Error)
	}

	limit, err := oa.GetBasic().GetQRTicket(basic.NewLimitQrRequest("interop_scene"))
	if err != nil {
		t.Fatalf("GetQRTicket (QR_LIMIT_STR_SCENE): %v", err)
	}
	if limit.Ticket == "" || limit.ExpireSeconds != 0 {
		t.Errorf("permanent GetQRTicket = %+v, want a ticket without expiry", limit)
	}
}

func TestSilenceperCustomerService(t *testing.T) {
	emu := newEmulator(t)
	oa := newOfficialAccount(false)
	messageServer(t, emu, oa)
	mgr := oa.GetCustomerMessageManager()

	// No interaction in the last 48 hours yet: 45015.
	if err := mgr.Send(message.NewCustomerTextMessage(userZhang, "hi")); errcode(err) != 45015 {
		t.Errorf("Send before the user wrote: err = %v, want errcode 45015", err)
	}
	if _, err := emu.Push(t.Context(), emulator.DemoAppID, emulator.PushRequest{User: userZhang, Content: "在吗"}); err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := oa.GetCustomerServiceManager().SendTypingStatus(userZhang, customerservice.Typing); err != nil {
		t.Errorf("SendTypingStatus: %v", err)
	}
	if err := mgr.Send(message.NewCustomerTextMessage(userZhang, "您好，有什么可以帮您？")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := emu.CustomerServiceMessages(emulator.DemoAppID, userZhang)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != "text" || got[0].Text != "您好，有什么可以帮您？" {
		t.Errorf("customer-service messages the user got = %+v, want the one text", got)
	}
}

func TestSilenceperJSSDK(t *testing.T) {
	newEmulator(t)
	oa := newOfficialAccount(false)
	const page = "http://127.0.0.1:8080/pay?order=1"

	cfg, err := oa.GetJs().GetConfigContext(t.Context(), page)
	if err != nil {
		t.Fatalf("GetConfig: %v", err)
	}
	// The ticket the emulator holds for the token (it answers the same
	// jsapi_ticket while it is valid) signs the page as the SDK did.
	tok, err := oa.GetAccessTokenContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := credential.GetTicketFromServerContext(t.Context(), tok)
	if err != nil {
		t.Fatalf("getticket: %v", err)
	}
	want := util.Signature(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket.Ticket, cfg.NonceStr, cfg.Timestamp, page))
	if cfg.AppID != emulator.DemoAppID || cfg.Signature != want {
		t.Errorf("GetConfig = %+v, want appid %s and signature %s", cfg, emulator.DemoAppID, want)
	}
}

func TestSilenceperMedia(t *testing.T) {
	newEmulator(t)
	mat := newOfficialAccount(false).GetMaterial()
	img := testPNG(t)

	media, err := mat.MediaUploadFromReader(material.MediaTypeImage, "interop.png", bytes.NewReader(img))
	if err != nil {
		t.Fatalf("MediaUploadFromReader: %v", err)
	}
	if media.MediaID == "" || media.Type != material.MediaTypeImage || media.CreatedAt == 0 {
		t.Fatalf("MediaUploadFromReader = %+v", media)
	}
	link, err := mat.GetMediaURL(media.MediaID)
	if err != nil {
		t.Fatalf("GetMediaURL: %v", err)
	}
	back, err := util.HTTPGetContext(t.Context(), link)
	if err != nil {
		t.Fatalf("GET the media URL: %v", err)
	}
	if !bytes.Equal(back, img) {
		t.Errorf("media/get answered %d bytes, want the %d uploaded", len(back), len(img))
	}

	id, imgURL, err := mat.AddMaterialFromReader(material.MediaTypeImage, "interop.png", bytes.NewReader(img))
	if err != nil {
		t.Fatalf("AddMaterialFromReader: %v", err)
	}
	if id == "" || imgURL == "" {
		t.Errorf("AddMaterialFromReader = %q, %q; want a media_id and url", id, imgURL)
	}
	count, err := mat.GetMaterialCount()
	if err != nil {
		t.Fatalf("GetMaterialCount: %v", err)
	}
	if count.ImageCount != 1 {
		t.Errorf("GetMaterialCount = %+v, want 1 image", count)
	}
	if err := mat.DeleteMaterial(id); err != nil {
		t.Fatalf("DeleteMaterial: %v", err)
	}
	if count, err := mat.GetMaterialCount(); err != nil || count.ImageCount != 0 {
		t.Errorf("GetMaterialCount after DeleteMaterial = %+v, %v; want 0 images", count, err)
	}
}

// testPNG returns a small PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		m.Set(i, i, color.RGBA{R: 7, G: 193, B: 96, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSilenceperOAuth(t *testing.T) {
	emu := newEmulator(t)
	oauth := newOfficialAccount(false).GetOauth()
	if err := emu.SetOAuthAutoApprove(emulator.DemoAppID, userLi); err != nil {
		t.Fatal(err)
	}

	// The browser opens the SDK's authorize URL; the emulator's page (auto
	// approving as 李四) redirects to redirect_uri with a code.
	const callback = "http://127.0.0.1:8080/oauth/callback"
	authURL, err := oauth.GetRedirectURL(callback, "snsapi_userinfo", "xyz")
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, authURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := util.DefaultHTTPClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("authorize page answered %d Location %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), callback)
	}
	code, state := loc.Query().Get("code"), loc.Query().Get("state")
	if code == "" || state != "xyz" {
		t.Fatalf("redirect %s: want a code and state xyz", loc)
	}

	tok, err := oauth.GetUserAccessTokenContext(t.Context(), code)
	if err != nil {
		t.Fatalf("GetUserAccessToken: %v", err)
	}
	if tok.OpenID != userLi || tok.Scope != "snsapi_userinfo" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 7200 {
		t.Errorf("GetUserAccessToken = %+v", tok)
	}
	if _, err := oauth.GetUserAccessTokenContext(t.Context(), code); errcode(err) != 40163 {
		t.Errorf("second use of the code: err = %v, want errcode 40163", err)
	}

	info, err := oauth.GetUserInfoContext(t.Context(), tok.AccessToken, tok.OpenID, "zh_CN")
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	if info.OpenID != userLi || info.Nickname != "李四" || info.Sex != 2 || info.City != "杭州" {
		t.Errorf("GetUserInfo = %+v, want 李四", info)
	}

	ok, err := oauth.CheckAccessTokenContext(t.Context(), tok.AccessToken, tok.OpenID)
	if err != nil || !ok {
		t.Errorf("CheckAccessToken = %v, %v; want true", ok, err)
	}
	refreshed, err := oauth.RefreshAccessTokenContext(t.Context(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("RefreshAccessToken: %v", err)
	}
	if refreshed.AccessToken == "" || refreshed.OpenID != userLi {
		t.Errorf("RefreshAccessToken = %+v", refreshed)
	}
	if ok, err := oauth.CheckAccessTokenContext(t.Context(), refreshed.AccessToken, userLi); err != nil || !ok {
		t.Errorf("CheckAccessToken of the refreshed token = %v, %v; want true", ok, err)
	}

	// snsapi_base: an openid, and no user info (48001).
	base, err := emu.IssueOAuthCode(emulator.DemoAppID, userAlice, "snsapi_base")
	if err != nil {
		t.Fatal(err)
	}
	btok, err := oauth.GetUserAccessTokenContext(t.Context(), base)
	if err != nil || btok.OpenID != userAlice || btok.Scope != "snsapi_base" {
		t.Fatalf("GetUserAccessToken (snsapi_base) = %+v, %v", btok, err)
	}
	if _, err := oauth.GetUserInfoContext(t.Context(), btok.AccessToken, btok.OpenID, "zh_CN"); errcode(err) != 48001 {
		t.Errorf("GetUserInfo with an snsapi_base token: err = %v, want errcode 48001", err)
	}
}

func TestSilenceperSubscribeNotification(t *testing.T) {
	emu := newEmulator(t)
	sub := newOfficialAccount(false).GetSubscribe()
	tpls, err := emu.SubscribeTemplates(emulator.DemoAppID)
	if err != nil || len(tpls) == 0 {
		t.Fatalf("SubscribeTemplates = %v, %v", tpls, err)
	}
	data := map[string]*message.SubscribeDataItem{
		"phrase1": {Value: "通过"}, "thing2": {Value: "会员认证"}, "time3": {Value: "2025-03-01 10:00"},
	}
	if err := sub.Send(&message.SubscribeMessage{ToUser: userZhang, TemplateID: tpls[0].TemplateID, Data: data}); errcode(err) != 43101 {
		t.Errorf("Send before the user accepted: err = %v, want errcode 43101", err)
	}
	accept := emulator.SubscribePopupRequest{OpenID: userZhang, TemplateID: tpls[0].TemplateID, Accept: true}
	if _, err := emu.SubscribePopup(t.Context(), emulator.DemoAppID, accept); err != nil {
		t.Fatalf("SubscribePopup: %v", err)
	}
	if err := sub.Send(&message.SubscribeMessage{ToUser: userZhang, TemplateID: tpls[0].TemplateID, Data: data}); err != nil {
		t.Fatalf("Send (bizsend): %v", err)
	}
	conv, err := emu.Conversation(emulator.DemoAppID, userZhang)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(conv, func(e emulator.ConversationEntry) bool { return e.Via == "subscribe" })
	if i < 0 || !strings.Contains(conv[i].Text, "会员认证") {
		t.Errorf("user's conversation = %+v, want the notification", conv)
	}
	delete(data, "thing2")
	if err := sub.Send(&message.SubscribeMessage{ToUser: userZhang, TemplateID: tpls[0].TemplateID, Data: data}); errcode(err) != 47003 {
		t.Errorf("Send without a keyword: err = %v, want errcode 47003", err)
	}
}
