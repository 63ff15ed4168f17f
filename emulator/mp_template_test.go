package emulator

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/message"
)

// elementPaths returns the distinct element paths of doc below <xml>
// ("SubscribeMsgPopupEvent/List/TemplateId"), in first-seen order.
func elementPaths(t *testing.T, doc string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var stack, paths []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return paths
		}
		if err != nil {
			t.Fatalf("parse %q: %v", doc, err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			stack = append(stack, v.Name.Local)
			if p := strings.Join(stack[1:], "/"); len(stack) > 1 && !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// platformEventSetup returns an emulator whose test app pushes to a plain
// server that answers "success", with a token, a follower and the
// app's seeded subscription template.
func platformEventSetup(t *testing.T) (e *Emulator, tok, user, tmpl string) {
	t.Helper()
	e, _ = pushSetup(t, ModePlain, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
		_, _ = io.WriteString(w, "success")
	})
	subs, err := e.SubscribeTemplates(testAppID)
	if err != nil {
		t.Fatal(err)
	}
	return e, fetchToken(t, e), e.Apps()[0].Users[0].OpenID, subs[0].TemplateID
}

// pushedEvents waits for the queued events of the test app and returns the
// XML of the pushes of ev in the conversation log.
func pushedEvents(t *testing.T, e *Emulator, ev EventType) []string {
	t.Helper()
	if err := e.WaitEvents(t.Context(), testAppID); err != nil {
		t.Fatal(err)
	}
	log, err := e.Conversation(testAppID, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range log {
		if en.Direction == DirectionIn && en.Event == ev {
			out = append(out, en.XML)
		}
	}
	return out
}

// TestPlatformEventsMatchCorpus: every corpus sample of the template and
// subscription-notification events is compared with what the emulator
// pushes for the same event: the same elements at the same paths, in the
// same order, and package message reads the same fields from both.
func TestPlatformEventsMatchCorpus(t *testing.T) {
	t.Parallel()
	ours := []EventType{eventTemplateSendJobFinish, eventSubscribeMsgPopup, eventSubscribeMsgChange, eventSubscribeMsgSent}
	dir := filepath.Join(corpusDir(t), "messages")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	e, tok, user, tmpl := platformEventSetup(t)
	pushed := map[EventType]string{}
	r := call(t, e, "POST", "/cgi-bin/message/template/send?access_token="+tok,
		`{"touser":"`+user+`","template_id":"`+seededTemplateID(testAppID, "order_paid")+`","data":{}}`)
	wantErr0(t, "template/send", r)
	if _, err := e.SubscribePopup(t.Context(), testAppID, SubscribePopupRequest{OpenID: user, TemplateID: tmpl, Accept: true, Scene: 2}); err != nil {
		t.Fatal(err)
	}
	r = call(t, e, "POST", "/cgi-bin/message/subscribe/bizsend?access_token="+tok,
		`{"touser":"`+user+`","template_id":"`+tmpl+`","data":{"phrase1":{"value":"通过"},"thing2":{"value":"x"},"time3":{"value":"2025-03-01"}}}`)
	wantErr0(t, "bizsend", r)
	if _, err := e.SubscribePopup(t.Context(), testAppID, SubscribePopupRequest{OpenID: user, TemplateID: tmpl, Settings: true}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range ours {
		got := pushedEvents(t, e, ev)
		if len(got) != 1 {
			t.Fatalf("%s pushed %d times, want 1", ev, len(got))
		}
		pushed[ev] = got[0]
	}

	seen := map[EventType]int{}
	for _, f := range files {
		var side struct {
			Event *string `json:"event"`
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &side); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if side.Event == nil || !slices.Contains(ours, EventType(*side.Event)) {
			continue
		}
		ev := EventType(*side.Event)
		seen[ev]++
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			sample, err := os.ReadFile(filepath.Join(dir, name+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			ourXML := pushed[ev]
			if diff := cmp.Diff(elementPaths(t, string(sample)), elementPaths(t, ourXML)); diff != "" {
				t.Errorf("element paths (-corpus +emulator):\n%s\nemulator: %s", diff, ourXML)
			}
			want, err := message.Parse(sample)
			if err != nil {
				t.Fatalf("corpus sample does not parse: %v", err)
			}
			got, err := message.Parse([]byte(ourXML))
			if err != nil {
				t.Fatalf("emulator push does not parse: %v", err)
			}
			if got.Event != want.Event || (want.Status != "") != (got.Status != "") || (want.MsgID != 0) != (got.MsgID != 0) ||
				len(got.SubscribeMsgPopupEvent) == 0 && len(want.SubscribeMsgPopupEvent) > 0 ||
				len(got.SubscribeMsgChangeEvent) == 0 && len(want.SubscribeMsgChangeEvent) > 0 ||
				len(got.SubscribeMsgSentEvent) == 0 && len(want.SubscribeMsgSentEvent) > 0 {
				t.Errorf("emulator push parses to %+v, the corpus sample to %+v", got, want)
			}
		})
	}
	for _, ev := range ours {
		if seen[ev] == 0 {
			t.Errorf("no corpus sample of %s", ev)
		}
	}
}

// wantErr0 fails unless r is a success.
func wantErr0(t *testing.T, what string, r apiReply) {
	t.Helper()
	if r.ErrCode != 0 {
		t.Fatalf("%s: errcode %d %q, want 0", what, r.ErrCode, r.ErrMsg)
	}
}

// TestTemplateRoutesBadInput: every POST route of the area answers 44002
// to an empty body and 47001 to one that is not JSON, and the Official
// Account routes answer 48001 to a Mini Program.
func TestTemplateRoutesBadInput(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tok := fetchToken(t, e)
	mpTok := appToken(t, e, mpAppID, mpSecret)
	posts := []string{
		"/cgi-bin/message/template/send", "/cgi-bin/template/api_set_industry", "/cgi-bin/template/api_add_template",
		"/cgi-bin/template/del_private_template", "/cgi-bin/message/subscribe/bizsend",
		"/wxaapi/newtmpl/addtemplate", "/wxaapi/newtmpl/deltemplate",
	}
	for _, p := range posts {
		wantErr(t, p+" (empty)", call(t, e, "POST", p+"?access_token="+tok, ""), 44002)
		wantErr(t, p+" (not JSON)", call(t, e, "POST", p+"?access_token="+tok, "{"), 47001)
	}
	oaOnly := map[string]string{
		"/cgi-bin/message/template/send":         `{"touser":"x","template_id":"y"}`,
		"/cgi-bin/template/api_set_industry":     `{"industry_id1":"1","industry_id2":"2"}`,
		"/cgi-bin/template/api_add_template":     `{"template_id_short":"TM00015"}`,
		"/cgi-bin/message/subscribe/bizsend":     `{"touser":"x","template_id":"y"}`,
		"/cgi-bin/template/del_private_template": `{"template_id":"x"}`,
	}
	for p, body := range oaOnly {
		wantErr(t, p+" (Mini Program)", call(t, e, "POST", p+"?access_token="+mpTok, body), 48001)
	}
	for _, p := range []string{"/cgi-bin/template/get_industry", "/cgi-bin/template/get_all_private_template"} {
		wantErr(t, p+" (Mini Program)", call(t, e, "GET", p+"?access_token="+mpTok, ""), 48001)
	}
	// The subscription-template APIs serve Mini Programs too.
	if r := call(t, e, "GET", "/wxaapi/newtmpl/gettemplate?access_token="+mpTok, ""); r.ErrCode != 0 {
		t.Errorf("newtmpl/gettemplate (Mini Program): errcode %d %q", r.ErrCode, r.ErrMsg)
	}
	subs, _ := e.SubscribeTemplates(mpAppID)
	if _, err := e.SubscribePopup(t.Context(), mpAppID, SubscribePopupRequest{TemplateID: subs[0].TemplateID, Accept: true}); !errors.Is(err, ErrNotOfficialAccount) {
		t.Errorf("SubscribePopup(Mini Program) = %v, want ErrNotOfficialAccount", err)
	}
	if st, _ := serveRaw(t, e, "POST", "/_emulator/apps/"+mpAppID+"/subscribe-popup", `{"template_id":"`+subs[0].TemplateID+`","accept":true}`); st != http.StatusConflict {
		t.Errorf("subscribe-popup (Mini Program) = %d, want 409", st)
	}
	// A bad industry id and a bad touser change nothing.
	wantErr(t, "api_set_industry (unknown id)", call(t, e, "POST", "/cgi-bin/template/api_set_industry?access_token="+tok, `{"industry_id1":"99","industry_id2":"1"}`), 40102)
	wantErr(t, "template/send (no touser)", call(t, e, "POST", "/cgi-bin/message/template/send?access_token="+tok, `{"template_id":"x"}`), 40003)
	wantErr(t, "bizsend (no touser)", call(t, e, "POST", "/cgi-bin/message/subscribe/bizsend?access_token="+tok, `{"template_id":"x"}`), 40003)
	if err := e.WaitEvents(t.Context(), testAppID); err != nil {
		t.Fatal(err)
	}
	log, _ := e.Conversation(testAppID, "")
	if len(log) != 0 {
		t.Errorf("conversation after bad calls = %+v, want none", log)
	}
}

// TestTemplateSendQuota: message/template/send counts against its daily
// quota (Limits.Daily), 45009 beyond, and the next day resets it.
func TestTemplateSendQuota(t *testing.T) {
	t.Parallel()
	e := newTest(t, func(c *Config) {
		c.Limits.Daily = map[string]int{"/cgi-bin/message/template/send": 2}
	})
	tok := fetchToken(t, e)
	user := e.Apps()[0].Users[0].OpenID
	body := `{"touser":"` + user + `","template_id":"` + seededTemplateID(testAppID, "order_paid") + `","data":{}}`
	for i := range 2 {
		wantErr0(t, fmt.Sprintf("template/send #%d", i+1), call(t, e, "POST", "/cgi-bin/message/template/send?access_token="+tok, body))
	}
	wantErr(t, "template/send #3", call(t, e, "POST", "/cgi-bin/message/template/send?access_token="+tok, body), 45009)
	advance(t, e, 24*time.Hour)
	tok = fetchToken(t, e)
	wantErr0(t, "template/send next day", call(t, e, "POST", "/cgi-bin/message/template/send?access_token="+tok, body))
}

// TestTemplatesControl: the control API lists an app's templates (the
// browser page's subscription picker reads it); an unknown app is 404.
func TestTemplatesControl(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	if _, err := e.AddTemplate(testAppID, TemplateInfo{Title: "x", Content: "{{thing1.DATA}}"}, true); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Templates []TemplateInfo `json:"templates"`
		Subscribe []TemplateInfo `json:"subscribe_templates"`
	}
	if st := serveJSON(t, e, "GET", "/_emulator/apps/"+testAppID+"/templates", "", &out); st != http.StatusOK {
		t.Fatalf("GET templates = %d", st)
	}
	tpls, _ := e.Templates(testAppID)
	subs, _ := e.SubscribeTemplates(testAppID)
	if diff := cmp.Diff(tpls, out.Templates); diff != "" {
		t.Errorf("templates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(subs, out.Subscribe); diff != "" || len(subs) != 2 {
		t.Errorf("subscribe_templates (-want +got):\n%s", diff)
	}
	if st, _ := serveRaw(t, e, "GET", "/_emulator/apps/wxnope/templates", ""); st != http.StatusNotFound {
		t.Errorf("GET templates of an unknown app = %d, want 404", st)
	}
}

// TestTemplateDeliveryFault: a fail_delivery fault set through the control
// API lets the next template send that passes its checks answer its msgid
// and report "failed: system failed" (space after the colon, unlike
// failed:user block); a refused send does not use it up, and the send
// after it succeeds again.
func TestTemplateDeliveryFault(t *testing.T) {
	t.Parallel()
	e, tok, user, _ := platformEventSetup(t)
	var got struct{ Faults []Fault }
	if code := control(t, e, "POST", "/_emulator/faults", `{"path":"/cgi-bin/message/template/send","appid":"`+testAppID+`","fail_delivery":true}`, &got); code != 200 {
		t.Fatalf("POST faults: status %d", code)
	}
	if want := []Fault{{Path: "/cgi-bin/message/template/send", AppID: testAppID, Count: 1, FailDelivery: true}}; !cmp.Equal(want, got.Faults) {
		t.Fatalf("faults = %+v, want %+v", got.Faults, want)
	}
	send := func(to string) apiReply {
		return call(t, e, "POST", "/cgi-bin/message/template/send?access_token="+tok,
			`{"touser":"`+to+`","template_id":"`+seededTemplateID(testAppID, "order_paid")+`","data":{}}`)
	}
	wantErr(t, "template/send to nobody", send("nobody"), 40003)
	wantErr0(t, "template/send with the fault", send(user))
	wantErr0(t, "template/send after it", send(user))
	evs := pushedEvents(t, e, eventTemplateSendJobFinish)
	var statuses []string
	for _, x := range evs {
		var ev struct{ Status string }
		if err := xml.Unmarshal([]byte(x), &ev); err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, ev.Status)
	}
	if want := []string{"failed: system failed", "success"}; !cmp.Equal(want, statuses) {
		t.Errorf("TEMPLATESENDJOBFINISH statuses = %q, want %q", statuses, want)
	}
	if left := e.Faults(); len(left) != 0 {
		t.Errorf("faults left = %+v, want none", left)
	}
	log, _ := e.Conversation(testAppID, user)
	var errs []string
	for _, en := range log {
		if en.Via == "template" {
			errs = append(errs, en.Error)
		}
	}
	if want := []string{"not delivered: failed: system failed", ""}; !cmp.Equal(want, errs) {
		t.Errorf("template entries' errors = %q, want %q", errs, want)
	}
}
