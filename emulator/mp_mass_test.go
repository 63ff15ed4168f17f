package emulator

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// uploadTestImage adds a permanent image to the test app and returns its media_id.
func uploadTestImage(t *testing.T, e *Emulator, tok string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("media", "a.jpg")
	_, _ = fw.Write([]byte("\xff\xd8\xff jpeg"))
	_ = mw.Close()
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/cgi-bin/material/add_material?type=image&access_token="+url.QueryEscape(tok), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var m struct {
		MediaID string `json:"media_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.MediaID == "" {
		t.Fatalf("add_material = %s", w.Body.String())
	}
	return m.MediaID
}

// pushedEvent returns the decrypted XML of the first delivery of event ev.
func pushedEvent(t *testing.T, fs *fakeServer, ev string) string {
	t.Helper()
	for _, d := range fs.deliveries() {
		if d.Msg.Event == ev {
			var outer inboundXML
			_ = xml.Unmarshal([]byte(d.Body), &outer)
			plain, _, err := testDecrypt(t, outer.Encrypt)
			if err != nil {
				t.Fatal(err)
			}
			return string(plain)
		}
	}
	t.Fatalf("no %s pushed; deliveries: %+v", ev, fs.deliveries())
	return ""
}

// TestMassJobFinishMatchesCorpus runs a mass send of mpnews in safe mode
// and checks the MASSSENDJOBFINISH push: the elements of the corpus
// sample, in order, and the counts of the users (one does not follow,
// one is blacklisted).
func TestMassJobFinishMatchesCorpus(t *testing.T) {
	t.Parallel()
	e, fs := pushSetup(t, ModeSafe, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
		_, _ = io.WriteString(w, "success")
	})
	tok := fetchToken(t, e)
	users := e.Apps()[0].Users
	// users[1] unfollows; users[2] is blacklisted.
	if _, err := e.Push(t.Context(), testAppID, PushRequest{User: users[1].OpenID, Event: EventTypeUnsubscribe}); err != nil {
		t.Fatal(err)
	}
	if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/tags/members/batchblacklist", `{"openid_list":["`+users[2].OpenID+`"]}`); code != 0 {
		t.Fatalf("batchblacklist = %d %v", code, m["errmsg"])
	}
	cover := uploadTestImage(t, e, tok)
	code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/draft/add", `{"articles":[
		{"title":"春季新品","content":"<p>上新</p>","thumb_media_id":"`+cover+`"},
		{"title":"会员日","content":"<p>折扣</p>","thumb_media_id":"`+cover+`"}]}`)
	if code != 0 {
		t.Fatalf("draft/add = %d %v", code, m["errmsg"])
	}
	draft := m["media_id"].(string)
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/sendall",
		`{"filter":{"is_to_all":true},"msgtype":"mpnews","mpnews":{"media_id":"`+cover+`"}}`); code != 40007 {
		t.Errorf("mass/sendall of an image as mpnews = %d, want 40007", code)
	}
	code, m = mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/sendall",
		`{"filter":{"is_to_all":true},"msgtype":"mpnews","mpnews":{"media_id":"`+draft+`"},"send_ignore_reprint":0}`)
	if code != 0 || m["errmsg"] != "send job submission success" || m["msg_data_id"] == nil {
		t.Fatalf("mass/sendall = %d %v", code, m)
	}
	msgID := int64(m["msg_id"].(float64))
	msgDataID := int64(m["msg_data_id"].(float64))
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/draft/get", `{"media_id":"`+draft+`"}`); code != 40007 {
		t.Errorf("draft/get after the mass send = %d, want 40007 (the draft leaves the box)", code)
	}
	advance(t, e, massJobDelay)
	if err := e.WaitMassJobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := pushedEvent(t, fs, "MASSSENDJOBFINISH")
	samples := corpus.Glob(t, "messages/event_masssendjobfinish*.xml")
	if len(samples) < 2 {
		t.Fatalf("corpus has %d MASSSENDJOBFINISH samples, want 2", len(samples))
	}
	for _, path := range samples {
		sample := string(corpus.ReadFile(t, "messages", filepath.Base(path)))
		if !isSubsequence(elementNames(t, sample), elementNames(t, got)) {
			t.Errorf("%s: pushed elements %v lack some of the sample's %v, in order",
				filepath.Base(path), elementNames(t, got), elementNames(t, sample))
		}
	}
	for idx := 1; idx <= 2; idx++ {
		if want := fmt.Sprintf("<ArticleIdx>%d</ArticleIdx><ArticleUrl><![CDATA[https://mp.weixin.qq.com/s?__biz=", idx); !strings.Contains(got, want) {
			t.Errorf("MASSSENDJOBFINISH lacks article %d's URL: %s", idx, got)
		}
	}
	if !strings.Contains(got, fmt.Sprintf("&mid=%d&idx=2&", msgDataID)) || !strings.Contains(got, "<ArticleUrlResult><Count>2</Count>") {
		t.Errorf("ArticleUrlResult does not name msg_data_id %d and two articles: %s", msgDataID, got)
	}
	for _, want := range []string{
		fmt.Sprintf("<MsgID>%d</MsgID>", msgID), "<TotalCount>3</TotalCount>", "<FilterCount>1</FilterCount>",
		"<SentCount>1</SentCount>", "<ErrorCount>0</ErrorCount>", "<Status><![CDATA[send success]]></Status>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("MASSSENDJOBFINISH lacks %s: %s", want, got)
		}
	}
	// The event is in the account's log, and the message in the chat of
	// the one user who got it.
	all, _ := e.Conversation(testAppID, "")
	var events, delivered int
	for _, en := range all {
		if en.Event == "MASSSENDJOBFINISH" {
			events++
		}
		if en.Via == "mass" {
			delivered++
			if en.User != users[0].OpenID || en.Type != MsgTypeNews || en.Text != "春季新品" {
				t.Errorf("mass message to %s (%s), want only %s", en.User, en.Type, users[0].OpenID)
			}
		}
	}
	if events != 1 || delivered != 1 {
		t.Errorf("log has %d MASSSENDJOBFINISH and %d mass messages, want 1 and 1", events, delivered)
	}
	if code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/get", fmt.Sprintf(`{"msg_id":"%d"}`, msgID)); code != 0 || m["msg_status"] != "SEND_SUCCESS" {
		t.Errorf("mass/get = %d %v", code, m)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/delete", fmt.Sprintf(`{"msg_id":%d,"article_idx":3}`, msgID)); code != 40035 {
		t.Errorf("mass/delete of article 3 of 2 = %d, want 40035", code)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/delete", fmt.Sprintf(`{"msg_id":%d,"article_idx":1}`, msgID)); code != 0 {
		t.Errorf("mass/delete of article 1 = %d", code)
	}
	if _, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/get", fmt.Sprintf(`{"msg_id":%d}`, msgID)); m["msg_status"] != "SEND_SUCCESS" {
		t.Errorf("mass/get after deleting one of two articles = %v", m)
	}
	if code, _ := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/delete", fmt.Sprintf(`{"msg_id":%d,"article_idx":2}`, msgID)); code != 0 {
		t.Errorf("mass/delete of article 2 = %d", code)
	}
	if _, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/get", fmt.Sprintf(`{"msg_id":%d}`, msgID)); m["msg_status"] != "DELETE" {
		t.Errorf("mass/get after delete = %v", m)
	}
}

// TestKfSessionEventsMatchCorpus checks kf_create_session and
// kf_close_session pushes against the corpus samples.
func TestKfSessionEventsMatchCorpus(t *testing.T) {
	t.Parallel()
	e, fs := pushSetup(t, ModeSafe, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
		_, _ = io.WriteString(w, "success")
	})
	tok := fetchToken(t, e)
	user := e.Apps()[0].Users[0].OpenID
	steps := []struct{ path, body string }{
		{"/customservice/kfaccount/add", `{"kf_account":"kf1@gh_test","nickname":"客服"}`},
		{"/customservice/kfaccount/inviteworker", `{"kf_account":"kf1@gh_test","invite_wx":"worker_one"}`},
	}
	for _, s := range steps {
		if code, m := mpCallJSON(t, e, tok, "POST", s.path, s.body); code != 0 {
			t.Fatalf("%s = %d %v", s.path, code, m["errmsg"])
		}
	}
	if err := e.AcceptKfInvite(testAppID, "kf1@gh_test"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ path, body string }{
		{"/customservice/kfaccount/add", `{"kf_account":"kf2@gh_test","nickname":"客服二"}`},
		{"/customservice/kfaccount/inviteworker", `{"kf_account":"kf2@gh_test","invite_wx":"worker_two"}`},
	} {
		if code, m := mpCallJSON(t, e, tok, "POST", s.path, s.body); code != 0 {
			t.Fatalf("%s = %d %v", s.path, code, m["errmsg"])
		}
	}
	if err := e.AcceptKfInvite(testAppID, "kf2@gh_test"); err != nil {
		t.Fatal(err)
	}
	if code, m := mpCallJSON(t, e, tok, "POST", "/customservice/kfsession/create", `{"kf_account":"kf1@gh_test","openid":"`+user+`"}`); code != 0 {
		t.Fatalf("kfsession/create = %d %v", code, m["errmsg"])
	}
	if err := e.SwitchKfSession(testAppID, user, "kf2@gh_test"); err != nil {
		t.Fatal(err)
	}
	if err := e.SwitchKfSession(testAppID, user, "kf2@gh_test"); err == nil {
		t.Error("SwitchKfSession to the worker already serving = nil, want an error")
	}
	if code, m := mpCallJSON(t, e, tok, "GET", "/customservice/kfsession/getsession?openid="+user, ""); code != 0 || m["kf_account"] != "kf2@gh_test" {
		t.Errorf("getsession after the switch = %d %v", code, m)
	}
	if code, m := mpCallJSON(t, e, tok, "POST", "/customservice/kfsession/close", `{"kf_account":"kf2@gh_test","openid":"`+user+`"}`); code != 0 {
		t.Fatalf("kfsession/close = %d %v", code, m["errmsg"])
	}
	if err := e.WaitMassJobs(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Every kf session event of the corpus, pushed with the same elements.
	samples := corpus.Glob(t, "messages/event_kf_*.xml")
	if len(samples) < 3 {
		t.Fatalf("corpus has %d kf session samples, want 3", len(samples))
	}
	want := map[string]string{
		"kf_create_session": "<KfAccount><![CDATA[kf1@gh_test]]></KfAccount>",
		"kf_switch_session": "<FromKfAccount><![CDATA[kf1@gh_test]]></FromKfAccount><ToKfAccount><![CDATA[kf2@gh_test]]></ToKfAccount>",
		"kf_close_session":  "<KfAccount><![CDATA[kf2@gh_test]]></KfAccount>",
	}
	for _, path := range samples {
		ev := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "event_"), ".xml")
		got := pushedEvent(t, fs, ev)
		sample := string(corpus.ReadFile(t, "messages", filepath.Base(path)))
		if diff := cmp.Diff(elementNames(t, sample), elementNames(t, got)); diff != "" {
			t.Errorf("%s elements (-corpus +pushed):\n%s", ev, diff)
		}
		if !strings.Contains(got, want[ev]) {
			t.Errorf("%s lacks %s: %s", ev, want[ev], got)
		}
	}
	// The app is unverified in a twin emulator: 48001.
	e2 := newTest(t, func(c *Config) { c.Apps[0].Unverified = true })
	tok2 := fetchToken(t, e2)
	for _, p := range []string{"/customservice/kfaccount/add", "/cgi-bin/message/mass/sendall"} {
		if code, _ := mpCallJSON(t, e2, tok2, "POST", p, `{}`); code != 48001 {
			t.Errorf("%s (unverified) = %d, want 48001", p, code)
		}
	}
}

// isSubsequence reports whether sub occurs in s in order (not necessarily
// contiguously).
func isSubsequence(sub, s []string) bool {
	i := 0
	for _, x := range s {
		if i < len(sub) && sub[i] == x {
			i++
		}
	}
	return i == len(sub)
}

// TestMassClientMsgIDAnswers checks the answers to a repeated clientmsgid:
// 45066 with the documented errmsg within a minute of the previous
// attempt, then 45065 naming the existing job's msg_id.
func TestMassClientMsgIDAnswers(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	body := `{"filter":{"is_to_all":true},"msgtype":"text","text":{"content":"hi"},"clientmsgid":"c-1"}`
	code, first := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/sendall", body)
	if code != 0 {
		t.Fatalf("sendall = %v", first)
	}
	code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/sendall", body)
	if msg, _ := m["errmsg"].(string); code != 45066 || !strings.HasPrefix(msg, "same clientmsgid retry too fast rid: ") || m["msg_id"] != nil {
		t.Errorf("sendall repeated at once = %v, want 45066 without msg_id", m)
	}
	advance(t, e, time.Minute)
	code, m = mpCallJSON(t, e, tok, "POST", "/cgi-bin/message/mass/sendall", body)
	if code != 45065 || m["msg_id"] != first["msg_id"] {
		t.Errorf("sendall repeated a minute later = %v, want 45065 with msg_id %v", m, first["msg_id"])
	}
}
