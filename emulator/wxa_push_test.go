package emulator

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mpDelivery is a Mini Program push as a developer's server reads it:
// the plaintext, decrypted independently when encrypted.
type mpDelivery struct {
	ContentType string
	Outer       map[string]any // the body's top-level fields (JSON) or nil
	Body        string
	Plain       string
}

// mpPushServer receives the pushes of a Mini Program in format and mode,
// checks the signatures, and answers with respond.
type mpPushServer struct {
	t       *testing.T
	json    bool
	mode    Mode
	mu      sync.Mutex
	got     []mpDelivery
	respond func(w http.ResponseWriter, plain string)
}

func (s *mpPushServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.t
	b, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if got, want := q.Get("signature"), sha1Sorted(mpToken, ts, nonce); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	d := mpDelivery{ContentType: r.Header.Get("Content-Type"), Body: string(b), Plain: string(b)}
	enc := ""
	if s.json {
		if err := json.Unmarshal(b, &d.Outer); err != nil {
			t.Errorf("JSON push body %q: %v", b, err)
		}
		enc, _ = d.Outer["Encrypt"].(string)
	} else {
		var x struct {
			Encrypt string
		}
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Errorf("XML push body %q: %v", b, err)
		}
		enc = x.Encrypt
	}
	if s.mode != ModePlain {
		if got, want := q.Get("msg_signature"), sha1Sorted(mpToken, ts, nonce, enc); got != want || q.Get("encrypt_type") != "aes" {
			t.Errorf("msg_signature %q (encrypt_type %q), want %q", got, q.Get("encrypt_type"), want)
		}
		plain, appID, err := testDecrypt(t, enc)
		if err != nil || appID != mpAppID {
			t.Errorf("decrypt: %v, AppID %q, want %s", err, appID, mpAppID)
		}
		d.Plain = string(plain)
	}
	s.mu.Lock()
	s.got = append(s.got, d)
	s.mu.Unlock()
	s.respond(w, d.Plain)
}

func (s *mpPushServer) deliveries() []mpDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mpDelivery(nil), s.got...)
}

// mpPushSetup returns an emulator whose Mini Program mpAppID pushes in
// format and mode to a test server answering with respond.
func mpPushSetup(t *testing.T, format PushFormat, mode Mode, respond func(w http.ResponseWriter, plain string)) (*Emulator, *mpPushServer) {
	t.Helper()
	s := &mpPushServer{t: t, json: format == PushFormatJSON, mode: mode, respond: respond}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := newWXATest(t, func(c *Config) {
		a := &c.Apps[2]
		a.PushFormat, a.Mode, a.EncodingAESKey, a.PushURL = format, mode, testAESKey, hs.URL+"/wx"
		c.Push.Timeout = 300 * time.Millisecond
	})
	return e, s
}

func answer(body string) func(w http.ResponseWriter, plain string) {
	return func(w http.ResponseWriter, _ string) { _, _ = io.WriteString(w, body) }
}

func TestMiniProgramPushJSON(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModePlain, ModeCompat, ModeSafe} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e, s := mpPushSetup(t, PushFormatJSON, mode, answer("success"))
			user := mpUser(t, e, mpAppID, 0)
			res, err := e.Push(t.Context(), mpAppID, PushRequest{User: user, Content: "你好 <&>"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() || !res.NoReply || res.UserSees != "" {
				t.Errorf("result = %+v, want ok with no reply", res)
			}
			ev, err := e.Push(t.Context(), mpAppID, PushRequest{User: user, Event: "user_enter_tempsession", Extra: map[string]string{"SessionFrom": "cart"}})
			if err != nil || !ev.OK() {
				t.Fatalf("event push: %v %+v", err, ev)
			}
			got := s.deliveries()
			if len(got) != 2 {
				t.Fatalf("%d deliveries, want 2", len(got))
			}
			for _, d := range got {
				if d.ContentType != "application/json" {
					t.Errorf("Content-Type %q, want application/json", d.ContentType)
				}
			}
			var text map[string]any
			if err := json.Unmarshal([]byte(got[0].Plain), &text); err != nil {
				t.Fatalf("plaintext is not JSON: %q", got[0].Plain)
			}
			want := map[string]any{
				"ToUserName": e.Apps()[2].OriginalID, "FromUserName": user, "CreateTime": float64(t0.Unix()),
				"MsgType": "text", "Content": "你好 <&>", "MsgId": float64(res.Message.MsgID),
			}
			if diff := cmp.Diff(want, text); diff != "" {
				t.Errorf("text push (-want +got):\n%s", diff)
			}
			if !strings.Contains(got[0].Plain, fmt.Sprintf(`"MsgId":%d`, res.Message.MsgID)) {
				t.Errorf("MsgId is not written exactly: %s", got[0].Plain)
			}
			var event map[string]any
			_ = json.Unmarshal([]byte(got[1].Plain), &event)
			if event["MsgType"] != "event" || event["Event"] != "user_enter_tempsession" || event["SessionFrom"] != "cart" {
				t.Errorf("event push = %v", event)
			}
			switch mode {
			case ModeSafe:
				if len(got[0].Outer) != 2 || got[0].Outer["ToUserName"] != want["ToUserName"] {
					t.Errorf("safe envelope = %v, want only ToUserName and Encrypt", got[0].Outer)
				}
			case ModeCompat:
				if got[0].Outer["Content"] != "你好 <&>" || got[0].Outer["Encrypt"] == nil {
					t.Errorf("compat body = %v, want the plaintext fields and Encrypt", got[0].Outer)
				}
			}
		})
	}
}

func TestMiniProgramPushReplies(t *testing.T) {
	t.Parallel()
	transfer := func(jsonFormat bool) func(plain string) string {
		return func(plain string) string {
			var m struct{ ToUserName, FromUserName string }
			if jsonFormat {
				_ = json.Unmarshal([]byte(plain), &m)
				return fmt.Sprintf(`{"ToUserName":%q,"FromUserName":%q,"CreateTime":%d,"MsgType":"transfer_customer_service"}`, m.FromUserName, m.ToUserName, t0.Unix())
			}
			_ = xml.Unmarshal([]byte(plain), &m)
			return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>`, m.FromUserName, m.ToUserName, t0.Unix())
		}
	}
	jsonEnvelope := func(inner string) string {
		enc := testEncrypt(t, []byte(inner), mpAppID)
		return fmt.Sprintf(`{"Encrypt":%q,"MsgSignature":%q,"TimeStamp":1700000000,"Nonce":"42"}`, enc, sha1Sorted(mpToken, "1700000000", "42", enc))
	}
	tests := []struct {
		name    string
		format  PushFormat
		mode    Mode
		respond func(plain string) string
		wantErr string // "" = a valid answer
		reply   MsgType
	}{
		{"empty body", PushFormatJSON, ModeSafe, func(string) string { return "" }, "", ""},
		{"transfer, JSON plain", PushFormatJSON, ModePlain, transfer(true), "", MsgTypeTransferCustomerService},
		{"transfer, XML compat", PushFormatXML, ModeCompat, transfer(false), "", MsgTypeTransferCustomerService},
		{"transfer, JSON safe envelope", PushFormatJSON, ModeSafe, func(p string) string { return jsonEnvelope(transfer(true)(p)) }, "", MsgTypeTransferCustomerService},
		{"transfer, XML safe envelope", PushFormatXML, ModeSafe, func(p string) string { return envelope(t, transfer(false)(p), mpAppID, mpToken) }, "", MsgTypeTransferCustomerService},
		{"plaintext in safe mode", PushFormatJSON, ModeSafe, transfer(true), "safe mode requires an encrypted reply", ""},
		{"XML reply to a JSON push", PushFormatJSON, ModePlain, transfer(false), "not well-formed JSON", ""},
		{"text reply", PushFormatXML, ModePlain, func(p string) string {
			return strings.Replace(transfer(false)(p), "transfer_customer_service]]></MsgType>", "text]]></MsgType><Content>hi</Content>", 1)
		}, "no passive \"text\" reply", ""},
		{"envelope of another key's AppID", PushFormatJSON, ModeSafe, func(p string) string {
			enc := testEncrypt(t, []byte(transfer(true)(p)), testAppID)
			return fmt.Sprintf(`{"Encrypt":%q,"MsgSignature":%q,"TimeStamp":"1","Nonce":"2"}`, enc, sha1Sorted(mpToken, "1", "2", enc))
		}, "AppID inside the ciphertext", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := mpPushSetup(t, tt.format, tt.mode, func(w http.ResponseWriter, plain string) {
				_, _ = io.WriteString(w, tt.respond(plain))
			})
			user := mpUser(t, e, mpAppID, 0)
			res, err := e.Push(t.Context(), mpAppID, PushRequest{User: user, Content: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr == "" {
				if !res.OK() {
					t.Fatalf("answer refused: %s", res.Error)
				}
				if (res.Reply == nil && tt.reply != "") || (res.Reply != nil && res.Reply.Type != tt.reply) {
					t.Errorf("reply = %+v, want type %q", res.Reply, tt.reply)
				}
				return
			}
			if !strings.Contains(res.Error, tt.wantErr) || res.UserSees != MiniProgramServiceUnavailableText {
				t.Errorf("error %q / user sees %q, want an error containing %q and %q", res.Error, res.UserSees, tt.wantErr, MiniProgramServiceUnavailableText)
			}
			log, _ := e.Conversation(mpAppID, user)
			if last := log[len(log)-1]; last.Text != MiniProgramServiceUnavailableText {
				t.Errorf("the conversation shows %q", last.Text)
			}
		})
	}
}

func TestMiniProgramConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*AppConfig)
		key    string
	}{
		{"type", func(a *AppConfig) { a.Type = "game" }, "apps[0].type"},
		{"json for an official account", func(a *AppConfig) { a.PushFormat = PushFormatJSON }, "apps[0].push_format"},
		{"push_format", func(a *AppConfig) { a.Type, a.PushFormat = AppTypeMiniProgram, "yaml" }, "apps[0].push_format"},
		{"page with a slash", func(a *AppConfig) { a.Pages = []string{"/pages/index"} }, "apps[0].pages[0]"},
		{"phone number", func(a *AppConfig) { a.Users = []UserConfig{{PhoneNumber: "138-0013"}} }, "apps[0].users[0].phone_number"},
		{"country code", func(a *AppConfig) { a.Users = []UserConfig{{CountryCode: "+86"}} }, "apps[0].users[0].country_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.mutate(&c.Apps[0])
			err := c.Validate()
			if ce, ok := errors.AsType[*ConfigError](err); !ok || ce.Key != tt.key {
				t.Errorf("Validate = %v, want a ConfigError for %s", err, tt.key)
			}
		})
	}
	y := `
apps:
  - appid: wx3333333333333333
    type: miniprogram
    secret: s
    token: tok123
    push_format: json
    pages: [pages/index/index]
    users:
      - nickname: a
        phone_number: "13800138000"
`
	c, err := ParseConfig([]byte(y))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	a := c.Apps[0]
	if a.Type != AppTypeMiniProgram || a.PushFormat != PushFormatJSON || a.Pages[0] != "pages/index/index" || a.Users[0].PhoneNumber != "13800138000" {
		t.Errorf("decoded = %+v", a)
	}
	if got := (Config{Apps: []AppConfig{{AppID: "wx1"}}}).withDefaults().Apps[0].Type; got != AppTypeOfficialAccount {
		t.Errorf("default type = %q", got)
	}
}
