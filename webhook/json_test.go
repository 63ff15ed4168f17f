package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// capture is a Handler keeping the messages it is given and answering
// reply.
type capture struct {
	mu    sync.Mutex
	msgs  []*message.Message
	reply message.Reply
}

func (c *capture) ServeMessage(_ context.Context, m *message.Message) (message.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return c.reply, nil
}

func (c *capture) got(t *testing.T) []*message.Message {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// mpPushes is webhook/testdata/miniprogram_push.json.
type mpPushes struct {
	Source         string `json:"source"`
	Token          string `json:"token"`
	EncodingAESKey string `json:"encoding_aes_key"`
	AppID          string `json:"appid"`
	Pushes         []struct {
		ID        string            `json:"id"`
		Mode      webhook.Mode      `json:"mode"`
		Query     string            `json:"query"`
		Body      string            `json:"body"`
		Plaintext string            `json:"plaintext"`
		Expect    map[string]string `json:"expect"`
	} `json:"pushes"`
}

func loadMPPushes(t testing.TB) mpPushes {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "miniprogram_push.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f mpPushes
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Pushes) == 0 {
		t.Fatal("testdata/miniprogram_push.json has no pushes")
	}
	return f
}

// TestJSONPushDocVectors replays the documented JSON pushes (plaintext and
// safe mode) through a Server: each is accepted, answered "success", and
// handled with the documented fields.
func TestJSONPushDocVectors(t *testing.T) {
	t.Parallel()
	f := loadMPPushes(t)
	for _, p := range f.Pushes {
		for _, format := range []webhook.Format{webhook.FormatJSON, webhook.FormatAuto, webhook.FormatXML} {
			t.Run(p.ID+"/"+string(format), func(t *testing.T) {
				t.Parallel()
				h := &capture{}
				srv := &webhook.Server{Token: f.Token, Mode: p.Mode, Format: format, Handler: h, TimestampWindow: webhook.NoTimestampCheck}
				if p.Mode != webhook.ModePlain {
					srv.EncodingAESKey, srv.AppID = f.EncodingAESKey, f.AppID
				}
				w := serve(srv, httptest.NewRequest(http.MethodPost, "/wx?"+p.Query, strings.NewReader(p.Body)))
				if format == webhook.FormatXML {
					if w.Code != http.StatusBadRequest || len(h.got(t)) != 0 {
						t.Errorf("JSON push to an XML server = %d, handled %d; want 400, none", w.Code, len(h.got(t)))
					}
					return
				}
				if w.Code != http.StatusOK || w.Body.String() != "success" {
					t.Fatalf("POST = %d %q, want 200 success", w.Code, w.Body)
				}
				msgs := h.got(t)
				if len(msgs) != 1 {
					t.Fatalf("handled %d messages, want 1", len(msgs))
				}
				for path, want := range p.Expect {
					if got, ok := msgs[0].Get(path); !ok || got != want {
						t.Errorf("Get(%q) = %q, %v; want %q", path, got, ok, want)
					}
				}
				if p.Plaintext != "" {
					// The documented plaintext parses to the same message.
					m, err := webhook.ParseJSON([]byte(p.Plaintext))
					if err != nil {
						t.Fatalf("ParseJSON(plaintext) = %v", err)
					}
					if diff := cmp.Diff(m, msgs[0]); diff != "" {
						t.Errorf("server message differs from ParseJSON(plaintext) (-want +got):\n%s", diff)
					}
				}
			})
		}
	}
}

// cmpMessage compares Messages without Raw (the XML a JSON push was turned
// into differs from WeChat's own in layout) and with nested Extra elements
// compared by their parsed content.
var cmpMessage = []cmp.Option{
	cmpopts.IgnoreFields(message.Message{}, "Raw"),
	cmp.Transformer("nested", func(e message.Element) message.Element {
		if e.Nested {
			e.Value = normalizeXML(e.Value)
		}
		return e
	}),
}

// normalizeXML drops the white space between elements and unwraps CDATA,
// so that two renderings of one fragment compare equal.
func normalizeXML(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "<![CDATA[")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "]]>")
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		text := s[i+len("<![CDATA[") : i+j]
		text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
		b.WriteString(text)
		s = s[i+j+len("]]>"):]
	}
	b.WriteString(s)
	var out strings.Builder
	for part := range strings.SplitSeq(b.String(), ">") {
		out.WriteString(strings.TrimSpace(part))
		out.WriteString(">")
	}
	return strings.TrimSuffix(out.String(), ">")
}

// corpusJSON returns the "fields" of a corpus message sidecar: the push as
// a JSON object, member order kept.
func corpusJSON(t testing.TB, name string) []byte {
	t.Helper()
	var side struct {
		Fields json.RawMessage `json:"fields"`
	}
	corpus.DecodeJSON(t, &side, "messages", name+".json")
	if len(side.Fields) == 0 {
		t.Fatalf("messages/%s.json has no fields", name)
	}
	return side.Fields
}

// TestJSONPushMatchesXMLCorpus sends every corpus message in JSON format
// (its sidecar's fields, the same push as a JSON object), plaintext and
// encrypted, and checks that the Handler gets the Message that
// message.Parse gives for the XML.
func TestJSONPushMatchesXMLCorpus(t *testing.T) {
	t.Parallel()
	msgs := corpusMessages(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range msgs {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := mustParse(t, msgs[name])
			body := corpusJSON(t, name)
			for _, mode := range []webhook.Mode{webhook.ModePlain, webhook.ModeSafe, webhook.ModeCompat} {
				h := &capture{}
				srv := &webhook.Server{Token: testToken, Mode: mode, Format: webhook.FormatJSON, Handler: h}
				if mode != webhook.ModePlain {
					srv.EncodingAESKey, srv.AppID = testAESKey, testAppID
				}
				w := serve(srv, webhooktest.NewEncryptedJSONRequest(testToken, testAESKey, testAppID, body, mode, nil))
				if w.Code != http.StatusOK || w.Body.String() != "success" {
					t.Fatalf("%s: POST = %d %q, want 200 success", mode, w.Code, w.Body)
				}
				got := h.got(t)
				if len(got) != 1 {
					t.Fatalf("%s: handled %d messages, want 1", mode, len(got))
				}
				if diff := cmp.Diff(want, got[0], cmpMessage...); diff != "" {
					t.Errorf("%s: JSON push differs from the XML push (-xml +json):\n%s", mode, diff)
				}
			}
		})
	}
}

// Mini Program pushes in both formats, as the customer-service and
// subscribe-message documentation gives them (JSON with the quirks of the
// live platform: CreateTime as a string, List at the top level, one item
// as an object).
var mpPairs = []struct {
	name      string
	xml, json string
}{
	{"text",
		`<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>`,
		`{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"text","Content":"this is a test","MsgId":1234567890123456}`},
	{"image",
		`<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[this is a url]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123456</MsgId></xml>`,
		`{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"image","PicUrl":"this is a url","MediaId":"media_id","MsgId":1234567890123456}`},
	{"miniprogrampage",
		`<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>1234567890123456</MsgId><Title><![CDATA[Title]]></Title><AppId><![CDATA[AppId]]></AppId><PagePath><![CDATA[PagePath]]></PagePath><ThumbUrl><![CDATA[ThumbUrl]]></ThumbUrl><ThumbMediaId><![CDATA[ThumbMediaId]]></ThumbMediaId></xml>`,
		`{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"miniprogrampage","MsgId":1234567890123456,"Title":"Title","AppId":"AppId","PagePath":"PagePath","ThumbUrl":"ThumbUrl","ThumbMediaId":"ThumbMediaId"}`},
	{"user_enter_tempsession",
		`<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_enter_tempsession]]></Event><SessionFrom><![CDATA[sessionFrom]]></SessionFrom></xml>`,
		`{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"sessionFrom"}`},
	{"subscribe_msg_popup_event one",
		`<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[o7esq5OI1Uej6Xixw1lA2H7XDVbc]]></FromUserName><CreateTime>1620736559</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List><TemplateId><![CDATA[hD-ixGOhYmUfjOnI8MCzQMPshzGVeux_2vBgRyF1b2w]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>`,
		`{"ToUserName":"gh_123456789abc","FromUserName":"o7esq5OI1Uej6Xixw1lA2H7XDVbc","CreateTime":"1620736559","MsgType":"event","Event":"subscribe_msg_popup_event","List":{"TemplateId":"hD-ixGOhYmUfjOnI8MCzQMPshzGVeux_2vBgRyF1b2w","SubscribeStatusString":"accept","PopupScene":"0"}}`},
	{"subscribe_msg_popup_event two, List before Event",
		`<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[o7esq5OI1Uej6Xixw1lA2H7XDVbc]]></FromUserName><CreateTime>1620736559</CreateTime><MsgType><![CDATA[event]]></MsgType><SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>0</PopupScene></List><List><TemplateId><![CDATA[T2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent><Event><![CDATA[subscribe_msg_popup_event]]></Event></xml>`,
		`{"ToUserName":"gh_123456789abc","FromUserName":"o7esq5OI1Uej6Xixw1lA2H7XDVbc","CreateTime":"1620736559","MsgType":"event","List":[{"TemplateId":"T1","SubscribeStatusString":"accept","PopupScene":"0"},{"TemplateId":"T2","SubscribeStatusString":"reject","PopupScene":"0"}],"Event":"subscribe_msg_popup_event"}`},
	{"subscribe_msg_change_event as wrapper array",
		`<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[o7esq5OI1Uej6Xixw1lA2H7XDVbc]]></FromUserName><CreateTime>1610968440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_change_event]]></Event><SubscribeMsgChangeEvent><List><TemplateId><![CDATA[BEwX0BOT3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgChangeEvent></xml>`,
		`{"ToUserName":"gh_123456789abc","FromUserName":"o7esq5OI1Uej6Xixw1lA2H7XDVbc","CreateTime":"1610968440","MsgType":"event","Event":"subscribe_msg_change_event","SubscribeMsgChangeEvent":[{"TemplateId":"BEwX0BOT3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8","SubscribeStatusString":"reject"}]}`},
	{"subscribe_msg_sent_event",
		`<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[o7esq5OI1Uej6Xixw1lA2H7XDVbc]]></FromUserName><CreateTime>1620963428</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List><TemplateId><![CDATA[BEwX0BOT3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8]]></TemplateId><MsgID>1864323726461255680</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent></xml>`,
		`{"ToUserName":"gh_123456789abc","FromUserName":"o7esq5OI1Uej6Xixw1lA2H7XDVbc","CreateTime":"1620963428","MsgType":"event","Event":"subscribe_msg_sent_event","List":{"TemplateId":"BEwX0BOT3MqK3Uc5oTU3CGBqzjpndk2jzUf7VfExd8","MsgID":"1864323726461255680","ErrorCode":"0","ErrorStatus":"success"}}`},
	{"escaping and null",
		`<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[<a href="x">&amp; ]]]]><![CDATA[> 你好 ` + "\t\n" + `]]></Content><MsgId>1</MsgId><Flag>true</Flag></xml>`,
		`{"ToUserName":"toUser","FromUserName":"fromUser","CreateTime":1482048670,"MsgType":"text","Content":"<a href=\"x\">&amp; ]]> 你好 \t\n","MsgId":1,"Nothing":null,"Flag":true}`},
}

// TestJSONPushMatchesXML: each Mini Program push gives the same Message in
// JSON as in XML, through ParseJSON and through an auto-format Server.
func TestJSONPushMatchesXML(t *testing.T) {
	t.Parallel()
	for _, p := range mpPairs {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			want := mustParse(t, []byte(p.xml))
			got, err := webhook.ParseJSON([]byte(p.json))
			if err != nil {
				t.Fatalf("ParseJSON = %v", err)
			}
			if diff := cmp.Diff(want, got, cmpMessage...); diff != "" {
				t.Errorf("ParseJSON differs from message.Parse (-xml +json):\n%s", diff)
			}
			// One auto-format Server takes both.
			h := &capture{}
			srv := &webhook.Server{Token: testToken, EncodingAESKey: testAESKey, AppID: testAppID, Format: webhook.FormatAuto, Handler: h}
			for _, r := range []*http.Request{
				webhooktest.NewEncryptedJSONRequest(testToken, testAESKey, testAppID, []byte(p.json), webhook.ModeSafe, nil),
				webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, []byte(p.xml), webhook.ModeSafe, nil),
			} {
				if w := serve(srv, r); w.Code != http.StatusOK {
					t.Fatalf("POST = %d %q, want 200", w.Code, w.Body)
				}
			}
			msgs := h.got(t)
			if len(msgs) != 2 {
				t.Fatalf("handled %d messages, want 2", len(msgs))
			}
			if diff := cmp.Diff(msgs[1], msgs[0], cmpMessage...); diff != "" {
				t.Errorf("auto server: JSON push differs from XML push (-xml +json):\n%s", diff)
			}
		})
	}
}

// TestJSONPushRefused: JSON pushes are held to the checks of XML pushes,
// and malformed JSON is a 400 naming the reason; the Handler never runs.
func TestJSONPushRefused(t *testing.T) {
	t.Parallel()
	const text = `{"ToUserName":"gh_1","FromUserName":"oUser","CreateTime":1700000000,"MsgType":"text","Content":"hi","MsgId":1}`
	signed := func(body string) func() *http.Request {
		return func() *http.Request { return webhooktest.NewSignedJSONRequest(testToken, []byte(body), nil) }
	}
	safe := func(body string) func() *http.Request {
		return func() *http.Request {
			return webhooktest.NewEncryptedJSONRequest(testToken, testAESKey, testAppID, []byte(body), webhook.ModeSafe, nil)
		}
	}
	withBody := func(mk func() *http.Request, body string) func() *http.Request {
		return func() *http.Request {
			r := mk()
			return httptest.NewRequest(http.MethodPost, r.URL.String(), strings.NewReader(body))
		}
	}
	foreign := func() *http.Request {
		return webhooktest.NewEncryptedJSONRequest(testToken, testAESKey, "wxforeign0000000", []byte(text), webhook.ModeSafe, nil)
	}
	old := func() *http.Request {
		return webhooktest.NewSignedJSONRequest(testToken, []byte(text), &webhooktest.RequestOptions{Timestamp: time.Now().Add(-time.Hour).Unix()})
	}
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	huge := `{"ToUserName":"gh_1","FromUserName":"oUser","CreateTime":1,"MsgType":"text","` + strings.Repeat("k", 200) + `":[` + strings.Repeat("1,", 100000) + `1]}`
	tests := []struct {
		name   string
		mode   webhook.Mode
		format webhook.Format
		req    func() *http.Request
		status int
		reason string
	}{
		{"bad signature", webhook.ModePlain, webhook.FormatJSON, func() *http.Request {
			return webhooktest.NewSignedJSONRequest("another-token", []byte(text), nil)
		}, http.StatusForbidden, "bad signature"},
		{"stale", webhook.ModePlain, webhook.FormatJSON, old, http.StatusForbidden, "timestamp outside window"},
		{"plaintext to safe mode", webhook.ModeSafe, webhook.FormatJSON, signed(text), http.StatusForbidden, "unencrypted push refused in safe mode"},
		{"foreign appid", webhook.ModeSafe, webhook.FormatJSON, foreign, http.StatusForbidden, "AppID in ciphertext does not match"},
		{"msg_signature over another Encrypt", webhook.ModeSafe, webhook.FormatJSON, withBody(safe(text), `{"ToUserName":"gh_1","Encrypt":"AAAA"}`), http.StatusForbidden, "bad msg_signature"},
		{"envelope without Encrypt", webhook.ModeSafe, webhook.FormatJSON, withBody(safe(text), `{"ToUserName":"gh_1"}`), http.StatusBadRequest, "missing Encrypt element"},
		{"envelope not JSON", webhook.ModeSafe, webhook.FormatJSON, withBody(safe(text), `<xml><Encrypt>x</Encrypt></xml>`), http.StatusBadRequest, "malformed message JSON"},
		{"not JSON", webhook.ModePlain, webhook.FormatJSON, signed(`ToUserName=gh_1`), http.StatusBadRequest, "malformed message JSON"},
		{"truncated", webhook.ModePlain, webhook.FormatJSON, signed(text[:40]), http.StatusBadRequest, "malformed message JSON"},
		{"array", webhook.ModePlain, webhook.FormatJSON, signed(`[` + text + `]`), http.StatusBadRequest, "malformed message JSON"},
		{"trailing data", webhook.ModePlain, webhook.FormatJSON, signed(text + `{}`), http.StatusBadRequest, "malformed message JSON"},
		{"missing FromUserName", webhook.ModePlain, webhook.FormatJSON, signed(`{"ToUserName":"gh_1","CreateTime":1,"MsgType":"text"}`), http.StatusBadRequest, "malformed message JSON: missing field FromUserName"},
		{"CreateTime not a number", webhook.ModePlain, webhook.FormatJSON, signed(`{"ToUserName":"gh_1","FromUserName":"o","CreateTime":"soon","MsgType":"text"}`), http.StatusBadRequest, "malformed message JSON: missing field CreateTime"},
		{"too deep", webhook.ModePlain, webhook.FormatJSON, signed(`{"ToUserName":"gh_1","FromUserName":"o","CreateTime":1,"MsgType":"text","x":` + deep + `}`), http.StatusBadRequest, "malformed message JSON"},
		{"converts too large", webhook.ModePlain, webhook.FormatJSON, signed(huge), http.StatusRequestEntityTooLarge, "message JSON too large"},
		{"XML to a JSON server", webhook.ModePlain, webhook.FormatJSON, func() *http.Request {
			return webhooktest.NewSignedRequest(testToken, []byte(`<xml><ToUserName>a</ToUserName></xml>`), nil)
		}, http.StatusBadRequest, "malformed message JSON"},
		{"JSON to an XML server", webhook.ModePlain, "", signed(text), http.StatusBadRequest, "malformed message XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newLogger()
			h := &capture{}
			srv := &webhook.Server{Token: testToken, Mode: tt.mode, Format: tt.format, Handler: h, Logger: logger}
			if tt.mode != webhook.ModePlain {
				srv.EncodingAESKey, srv.AppID = testAESKey, testAppID
			}
			w := serve(srv, tt.req())
			if w.Code != tt.status {
				t.Errorf("POST = %d %q, want %d", w.Code, w.Body, tt.status)
			}
			if n := len(h.got(t)); n != 0 {
				t.Errorf("handler ran %d times", n)
			}
			if !strings.Contains(logs.String(), `reason="`+tt.reason) {
				t.Errorf("log %q does not give the reason %q", logs, tt.reason)
			}
			if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), testAESKey) {
				t.Errorf("log carries a secret: %s", logs)
			}
		})
	}
}

// TestJSONPushReplay: a plaintext JSON push's signature does not cover its
// body, so a second body under a used signature is refused; the same body
// again is a retry.
func TestJSONPushReplay(t *testing.T) {
	t.Parallel()
	h := &capture{}
	srv := &webhook.Server{Token: testToken, Format: webhook.FormatJSON, Handler: h, Dedup: &webhook.MemoryDedup{}}
	const text = `{"ToUserName":"gh_1","FromUserName":"oUser","CreateTime":1700000000,"MsgType":"text","Content":"hi","MsgId":7}`
	first := webhooktest.NewSignedJSONRequest(testToken, []byte(text), nil)
	target := first.URL.String()
	if w := serve(srv, first); w.Code != http.StatusOK || w.Body.String() != "success" {
		t.Fatalf("first = %d %q", w.Code, w.Body)
	}
	if w := serve(srv, httptest.NewRequest(http.MethodPost, target, strings.NewReader(text))); w.Code != http.StatusOK || w.Body.String() != "success" {
		t.Errorf("retry = %d %q, want 200 success", w.Code, w.Body)
	}
	forged := strings.Replace(text, `"hi"`, `"transfer all"`, 1)
	if w := serve(srv, httptest.NewRequest(http.MethodPost, target, strings.NewReader(forged))); w.Code != http.StatusForbidden {
		t.Errorf("forged body = %d %q, want 403", w.Code, w.Body)
	}
	if n := len(h.got(t)); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

// TestJSONPushReplyDropped: a Handler's reply to a JSON push is not sent
// (the answer is "success", nothing is recorded as a reply), and a repeated
// delivery is answered "success" from the dedup store without the Handler.
func TestJSONPushReplyDropped(t *testing.T) {
	t.Parallel()
	logger, logs := newLogger()
	h := &capture{reply: &message.Text{Content: "hello"}}
	rec := &recorder{}
	srv := &webhook.Server{Token: testToken, EncodingAESKey: testAESKey, AppID: testAppID, Format: webhook.FormatAuto,
		Handler: h, Dedup: &webhook.MemoryDedup{}, Recorder: rec, Logger: logger}
	const text = `{"ToUserName":"gh_1","FromUserName":"oUser","CreateTime":1700000000,"MsgType":"text","Content":"hi","MsgId":9}`
	for i := range 2 {
		w := serve(srv, webhooktest.NewEncryptedJSONRequest(testToken, testAESKey, testAppID, []byte(text), webhook.ModeSafe, nil))
		if w.Code != http.StatusOK || w.Body.String() != "success" {
			t.Fatalf("delivery %d = %d %q, want 200 success", i+1, w.Code, w.Body)
		}
	}
	if n := len(h.got(t)); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
	if rec.count() != 1 || rec.replies[0] != "" {
		t.Errorf("recorded %d messages with replies %q, want 1 with none", rec.count(), rec.replies)
	}
	if !strings.Contains(logs.String(), "reply to a JSON push dropped") {
		t.Errorf("the dropped reply was not logged: %s", logs)
	}
	// The XML push of the same server still gets its reply.
	xmlPush := `<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1700000001</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>10</MsgId></xml>`
	w := serve(srv, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, []byte(xmlPush), webhook.ModeSafe, nil))
	reply, err := webhooktest.DecryptReply(testToken, testAESKey, testAppID, w.Body.Bytes())
	if err != nil || !bytes.Contains(reply, []byte("<Content><![CDATA[hello]]></Content>")) {
		t.Errorf("XML push reply = %q, %v; want the encrypted text reply", reply, err)
	}
}

func TestFormatConfig(t *testing.T) {
	t.Parallel()
	srv := &webhook.Server{Token: testToken, Format: "yaml"}
	if err := srv.Init(); !errors.Is(err, webhook.ErrConfig) || !strings.Contains(err.Error(), "Format") {
		t.Errorf("Init(Format yaml) = %v, want ErrConfig naming Format", err)
	}
	for _, f := range []webhook.Format{"", webhook.FormatXML, webhook.FormatJSON, webhook.FormatAuto} {
		if err := (&webhook.Server{Token: testToken, Format: f}).Init(); err != nil {
			t.Errorf("Init(Format %q) = %v", f, err)
		}
	}
	// The handshake does not depend on the format.
	srv = &webhook.Server{Token: testToken, Format: webhook.FormatJSON}
	if w := serve(srv, webhooktest.NewHandshakeRequest(testToken, "4375120948345356249", nil)); w.Code != http.StatusOK || w.Body.String() != "4375120948345356249" {
		t.Errorf("handshake = %d %q", w.Code, w.Body)
	}
}
