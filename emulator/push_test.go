package emulator

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// --- independent protocol code (crypto/sha1 and crypto/aes directly) ---

func sha1Sorted(vs ...string) string {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	sum := sha1.Sum([]byte(strings.Join(vs, "")))
	return hex.EncodeToString(sum[:])
}

func testAESKeyBytes(t *testing.T) []byte {
	k, err := base64.StdEncoding.DecodeString(testAESKey + "=")
	if err != nil || len(k) != 32 {
		t.Fatalf("test key: %v", err)
	}
	return k
}

// testDecrypt undoes the message encryption and returns (msg, appid).
func testDecrypt(t *testing.T, b64 string) ([]byte, string, error) {
	key := testAESKeyBytes(t)
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", err
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", errors.New("ciphertext not whole blocks")
	}
	blk, _ := aes.NewCipher(key)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, key[:16]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > 32 || pad > len(pt) {
		return nil, "", errors.New("bad padding")
	}
	pt = pt[:len(pt)-pad]
	if len(pt) < 20 {
		return nil, "", errors.New("too short")
	}
	n := int(binary.BigEndian.Uint32(pt[16:20]))
	if 20+n > len(pt) {
		return nil, "", errors.New("bad length")
	}
	return pt[20 : 20+n], string(pt[20+n:]), nil
}

// testEncrypt encrypts msg for appID the way a developer's server does.
func testEncrypt(t *testing.T, msg []byte, appID string) string {
	key := testAESKeyBytes(t)
	buf := make([]byte, 0, 20+len(msg)+len(appID)+32)
	buf = append(buf, []byte("0123456789abcdef")...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, appID...)
	pad := 32 - len(buf)%32
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	blk, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(blk, key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// envelope builds a safe-mode reply envelope around plain.
func envelope(t *testing.T, plain, appID, token string) string {
	enc := testEncrypt(t, []byte(plain), appID)
	ts, nonce := "1700000000", "12345"
	return fmt.Sprintf("<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA[%s]]></MsgSignature><TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce></xml>",
		enc, sha1Sorted(token, ts, nonce, enc), ts, nonce)
}

// inboundXML is what the test server reads from a push.
type inboundXML struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string
	Content      string
	MsgID        int64 `xml:"MsgId"`
	Event        string
	EventKey     string
	Encrypt      string
}

// delivery is one push received by the test server, checked independently.
type delivery struct {
	Query url.Values
	Body  string
	Msg   inboundXML // decrypted in compat/safe mode
}

// fakeServer is a developer's server for push tests. It verifies every
// delivery the way WeChat's documentation says a server must, and answers
// with respond(n, msg) where n counts deliveries from 1.
type fakeServer struct {
	t       *testing.T
	mode    Mode
	token   string
	mu      sync.Mutex
	got     []delivery
	respond func(w http.ResponseWriter, r *http.Request, n int, m inboundXML)
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := s.t
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	if r.Method != "POST" || r.Header.Get("Content-Type") != "text/xml" {
		t.Errorf("push: %s with Content-Type %q, want POST text/xml", r.Method, r.Header.Get("Content-Type"))
	}
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if got, want := q.Get("signature"), sha1Sorted(s.token, ts, nonce); got != want {
		t.Errorf("push: signature %q, want sha1(sort(token,timestamp,nonce)) %q", got, want)
	}
	var outer inboundXML
	if err := xml.Unmarshal(body, &outer); err != nil {
		t.Errorf("push body is not XML: %v", err)
	}
	msg := outer
	switch s.mode {
	case ModePlain:
		if q.Has("encrypt_type") || q.Has("msg_signature") || outer.Encrypt != "" {
			t.Errorf("plain push carries encryption: query %v", q)
		}
	case ModeCompat, ModeSafe:
		if q.Get("encrypt_type") != "aes" {
			t.Errorf("push: encrypt_type %q, want aes", q.Get("encrypt_type"))
		}
		if got, want := q.Get("msg_signature"), sha1Sorted(s.token, ts, nonce, outer.Encrypt); got != want {
			t.Errorf("push: msg_signature %q, want %q", got, want)
		}
		plain, appID, err := testDecrypt(t, outer.Encrypt)
		if err != nil || appID != testAppID {
			t.Errorf("push: decrypt: %v, appid %q", err, appID)
		}
		msg = inboundXML{}
		if err := xml.Unmarshal(plain, &msg); err != nil {
			t.Errorf("decrypted push is not XML: %v", err)
		}
		if s.mode == ModeSafe {
			// Only ToUserName and Encrypt in the envelope.
			if outer.FromUserName != "" || outer.MsgType != "" || outer.ToUserName != msg.ToUserName {
				t.Errorf("safe envelope = %q", body)
			}
		} else {
			outer.Encrypt = ""
			if diff := cmp.Diff(msg, outer); diff != "" {
				t.Errorf("compat plaintext fields differ from the encrypted message:\n%s", diff)
			}
		}
	}
	if q.Get("openid") != msg.FromUserName {
		t.Errorf("push: openid %q, FromUserName %q", q.Get("openid"), msg.FromUserName)
	}
	s.mu.Lock()
	s.got = append(s.got, delivery{Query: q, Body: string(body), Msg: msg})
	n := len(s.got)
	s.mu.Unlock()
	s.respond(w, r, n, msg)
}

func (s *fakeServer) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// pushSetup starts a fake server for the test app in mode and returns the
// emulator pointed at it (short push timeout).
func pushSetup(t *testing.T, mode Mode, respond func(w http.ResponseWriter, r *http.Request, n int, m inboundXML)) (*Emulator, *fakeServer) {
	t.Helper()
	fs := &fakeServer{t: t, mode: mode, token: testToken, respond: respond}
	hs := httptest.NewServer(fs)
	t.Cleanup(hs.Close)
	e := newTest(t, func(c *Config) {
		c.Apps[0].Mode = mode
		c.Apps[0].PushURL = hs.URL + "/wx/" + testAppID
		c.Push.Timeout = 300 * time.Millisecond
	})
	return e, fs
}

// textReply returns a passive text reply to m.
func textReply(m inboundXML, content string) string {
	return fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content></xml>",
		m.FromUserName, m.ToUserName, m.CreateTime, strings.ReplaceAll(content, "]]>", "]]]]><![CDATA[>"))
}

// echo answers a text reply, encrypted in safe mode.
func echo(mode Mode) func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
	return func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
		rep := textReply(m, "echo: "+m.Content)
		if mode == ModeSafe {
			rep = envelope(nil, rep, testAppID, testToken)
		}
		_, _ = io.WriteString(w, rep)
	}
}

func TestPushModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModePlain, ModeCompat, ModeSafe} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			e, fs := pushSetup(t, mode, echo(mode))
			user := e.Apps()[0].Users[1].OpenID
			res, err := e.Push(t.Context(), testAppID, PushRequest{User: user, Content: "你好 <&> ]]> end"})
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			if !res.OK() || res.Reply == nil {
				t.Fatalf("Push result: error %q, reply %v", res.Error, res.Reply)
			}
			want := "echo: 你好 <&> ]]> end"
			if res.Reply.Type != MsgTypeText || res.Reply.Content != want || res.UserSees != want {
				t.Errorf("reply %+v, user sees %q; want text %q", res.Reply, res.UserSees, want)
			}
			if res.Reply.Encrypted != (mode == ModeSafe) {
				t.Errorf("reply encrypted = %v in %s mode", res.Reply.Encrypted, mode)
			}
			if len(res.Attempts) != 1 || res.Attempts[0].Status != 200 || res.Attempts[0].Error != "" {
				t.Errorf("attempts = %+v, want one 200", res.Attempts)
			}
			got := fs.deliveries()
			if len(got) != 1 {
				t.Fatalf("server got %d deliveries, want 1", len(got))
			}
			m := got[0].Msg
			wantMsg := inboundXML{
				ToUserName: e.Apps()[0].OriginalID, FromUserName: user, CreateTime: t0.Unix(),
				MsgType: "text", Content: "你好 <&> ]]> end", MsgID: res.Message.MsgID,
			}
			if diff := cmp.Diff(wantMsg, m); diff != "" {
				t.Errorf("received message (-want +got):\n%s", diff)
			}
			if m.MsgID>>32 != t0.Unix() {
				t.Errorf("MsgId %d does not carry CreateTime in its high bits like real MsgIds", m.MsgID)
			}
			if got[0].Query.Get("timestamp") != fmt.Sprint(t0.Unix()) {
				t.Errorf("timestamp %q, want the emulator's time %d", got[0].Query.Get("timestamp"), t0.Unix())
			}
		})
	}
}

func TestPushRetriesSameMessage(t *testing.T) {
	t.Parallel()
	t.Run("two timeouts then an answer", func(t *testing.T) {
		t.Parallel()
		e, fs := pushSetup(t, ModeSafe, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
			if n <= 2 {
				<-r.Context().Done() // never answers: WeChat gives up after the timeout
				return
			}
			echo(ModeSafe)(w, r, n, m)
		})
		res, err := e.Push(t.Context(), testAppID, PushRequest{Content: "retry me"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Attempts) != 3 || !res.OK() {
			t.Fatalf("attempts %+v error %q; want 3 attempts and success", res.Attempts, res.Error)
		}
		for i, a := range res.Attempts[:2] {
			if a.Status != 0 || !strings.Contains(a.Error, "timeout") {
				t.Errorf("attempt %d = %+v, want a timeout", i+1, a)
			}
		}
		got := fs.deliveries()
		if len(got) != 3 {
			t.Fatalf("server got %d deliveries, want 3", len(got))
		}
		for i, d := range got[1:] {
			if d.Msg.MsgID != got[0].Msg.MsgID || d.Msg.CreateTime != got[0].Msg.CreateTime || d.Msg.MsgID == 0 {
				t.Errorf("delivery %d: MsgId %d CreateTime %d, want the first's %d %d", i+2, d.Msg.MsgID, d.Msg.CreateTime, got[0].Msg.MsgID, got[0].Msg.CreateTime)
			}
			if d.Query.Get("nonce") == got[0].Query.Get("nonce") && d.Body == got[0].Body {
				t.Errorf("delivery %d is byte-identical to the first: want a fresh nonce and encryption", i+2)
			}
		}
		if st := e.Stats().Pushes[testAppID]; st != (PushCounts{Messages: 1, Deliveries: 3}) {
			t.Errorf("push stats = %+v", st)
		}
	})
	t.Run("5xx then answer", func(t *testing.T) {
		t.Parallel()
		e, fs := pushSetup(t, ModePlain, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
			if n == 1 {
				http.Error(w, "boom", http.StatusBadGateway)
				return
			}
			_, _ = io.WriteString(w, "success")
		})
		res, err := e.Push(t.Context(), testAppID, PushRequest{Type: MsgTypeEvent, Event: EventTypeClick, EventKey: "V1001"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Attempts) != 2 || res.Attempts[0].Status != 502 || !res.NoReply || !res.OK() || res.UserSees != "" {
			t.Errorf("result %+v, want 502 then success with no reply", res)
		}
		got := fs.deliveries()
		if len(got) != 2 || got[0].Msg.CreateTime != got[1].Msg.CreateTime || got[1].Msg.EventKey != "V1001" {
			t.Errorf("deliveries = %+v", got)
		}
	})
	t.Run("never answers", func(t *testing.T) {
		t.Parallel()
		e, fs := pushSetup(t, ModePlain, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
			<-r.Context().Done()
		})
		res, err := e.Push(t.Context(), testAppID, PushRequest{Content: "anyone?"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Attempts) != 3 || len(fs.deliveries()) != 3 {
			t.Errorf("attempts %d, deliveries %d; want 3 and 3 (WeChat's default)", len(res.Attempts), len(fs.deliveries()))
		}
		if res.OK() || res.UserSees != ServiceUnavailableText {
			t.Errorf("user sees %q error %q, want %q", res.UserSees, res.Error, ServiceUnavailableText)
		}
		if st := e.Stats().Pushes[testAppID]; st != (PushCounts{Messages: 1, Deliveries: 3, Failed: 1}) {
			t.Errorf("push stats = %+v", st)
		}
	})
	t.Run("4xx is not retried", func(t *testing.T) {
		t.Parallel()
		e, fs := pushSetup(t, ModePlain, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
			http.Error(w, "forbidden", http.StatusForbidden)
		})
		res, err := e.Push(t.Context(), testAppID, PushRequest{Content: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs.deliveries()) != 1 || res.OK() || res.UserSees != ServiceUnavailableText {
			t.Errorf("deliveries %d, result %+v; want 1 delivery and the error text", len(fs.deliveries()), res)
		}
	})
	t.Run("configured attempts", func(t *testing.T) {
		t.Parallel()
		fs := &fakeServer{t: t, mode: ModePlain, token: testToken, respond: func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
			w.WriteHeader(500)
		}}
		hs := httptest.NewServer(fs)
		t.Cleanup(hs.Close)
		e := newTest(t, func(c *Config) {
			c.Apps[0].Mode, c.Apps[0].PushURL, c.Push.Attempts = ModePlain, hs.URL, 5
		})
		res, err := e.Push(t.Context(), testAppID, PushRequest{Content: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Attempts) != 5 || len(fs.deliveries()) != 5 {
			t.Errorf("attempts %d deliveries %d, want 5", len(res.Attempts), len(fs.deliveries()))
		}
	})
}

func TestReplyValidation(t *testing.T) {
	t.Parallel()
	other := "wx9999999999999999"
	tests := []struct {
		name  string
		mode  Mode
		reply func(t *testing.T, m inboundXML) string
		want  string // substring of the error; "" = valid
		sees  string
	}{
		{"success", ModeSafe, func(t *testing.T, m inboundXML) string { return "success" }, "", ""},
		{"empty", ModeSafe, func(t *testing.T, m inboundXML) string { return "" }, "", ""},
		{"good encrypted", ModeSafe, func(t *testing.T, m inboundXML) string {
			return envelope(t, textReply(m, "ok"), testAppID, testToken)
		}, "", "ok"},
		{"not swapped", ModeSafe, func(t *testing.T, m inboundXML) string {
			m.ToUserName, m.FromUserName = m.FromUserName, m.ToUserName
			return envelope(t, textReply(m, "ok"), testAppID, testToken)
		}, "swapped", ""},
		{"bad msg_signature", ModeSafe, func(t *testing.T, m inboundXML) string {
			return envelope(t, textReply(m, "ok"), testAppID, "wrongtoken")
		}, "MsgSignature", ""},
		{"wrong AppID", ModeSafe, func(t *testing.T, m inboundXML) string {
			return envelope(t, textReply(m, "ok"), other, testToken)
		}, "AppID inside the ciphertext", ""},
		{"garbage", ModeSafe, func(t *testing.T, m inboundXML) string { return "hello world" }, "not well-formed XML", ""},
		{"JSON", ModePlain, func(t *testing.T, m inboundXML) string { return `{"msg":"hi"}` }, "not well-formed XML", ""},
		{"plaintext in safe mode", ModeSafe, func(t *testing.T, m inboundXML) string { return textReply(m, "ok") }, "safe mode requires", ""},
		{"plaintext in compat mode", ModeCompat, func(t *testing.T, m inboundXML) string { return textReply(m, "plain ok") }, "", "plain ok"},
		{"encrypted in compat mode", ModeCompat, func(t *testing.T, m inboundXML) string {
			return envelope(t, textReply(m, "enc ok"), testAppID, testToken)
		}, "", "enc ok"},
		{"encrypted in plain mode", ModePlain, func(t *testing.T, m inboundXML) string {
			return envelope(t, textReply(m, "ok"), testAppID, testToken)
		}, "plain mode", ""},
		{"wrong FromUserName", ModePlain, func(t *testing.T, m inboundXML) string {
			m.ToUserName = "gh_000000000000"
			return textReply(m, "ok")
		}, "FromUserName", ""},
		{"unknown MsgType", ModePlain, func(t *testing.T, m inboundXML) string {
			return strings.Replace(textReply(m, "ok"), "[text]", "[sticker]", 1)
		}, "unknown MsgType", ""},
		{"empty text", ModePlain, func(t *testing.T, m inboundXML) string { return textReply(m, "") }, "Content", ""},
		{"image without MediaId", ModePlain, func(t *testing.T, m inboundXML) string {
			return strings.Replace(textReply(m, "x"), "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content>", "<MsgType><![CDATA[image]]></MsgType><Image></Image>", 1)
		}, "Image/MediaId", ""},
		{"good image", ModePlain, func(t *testing.T, m inboundXML) string {
			return strings.Replace(textReply(m, "x"), "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content>", "<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[MEDIA]]></MediaId></Image>", 1)
		}, "", "[图片]"},
		{"two articles to a text message", ModePlain, func(t *testing.T, m inboundXML) string {
			item := "<item><Title><![CDATA[t]]></Title><Url><![CDATA[http://x]]></Url></item>"
			return strings.Replace(textReply(m, "x"), "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content>",
				"<MsgType><![CDATA[news]]></MsgType><ArticleCount>2</ArticleCount><Articles>"+item+item+"</Articles>", 1)
		}, "at most 1", ""},
		{"ArticleCount mismatch", ModePlain, func(t *testing.T, m inboundXML) string {
			item := "<item><Title><![CDATA[t]]></Title></item>"
			return strings.Replace(textReply(m, "x"), "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content>",
				"<MsgType><![CDATA[news]]></MsgType><ArticleCount>3</ArticleCount><Articles>"+item+"</Articles>", 1)
		}, "ArticleCount", ""},
		{"no CreateTime", ModePlain, func(t *testing.T, m inboundXML) string {
			return strings.Replace(textReply(m, "x"), fmt.Sprintf("<CreateTime>%d</CreateTime>", m.CreateTime), "", 1)
		}, "CreateTime", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := pushSetup(t, tt.mode, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
				_, _ = io.WriteString(w, tt.reply(t, m))
			})
			res, err := e.Push(t.Context(), testAppID, PushRequest{Content: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Attempts) != 1 {
				t.Errorf("attempts = %d, want 1 (an invalid reply is not retried)", len(res.Attempts))
			}
			if tt.want == "" {
				if !res.OK() || res.UserSees != tt.sees {
					t.Errorf("error %q, user sees %q; want valid, %q", res.Error, res.UserSees, tt.sees)
				}
				return
			}
			if !strings.Contains(res.Error, tt.want) || res.UserSees != ServiceUnavailableText {
				t.Errorf("error %q, user sees %q; want an error containing %q and %q", res.Error, res.UserSees, tt.want, ServiceUnavailableText)
			}
		})
	}
}

func TestPushEventsAndSubscription(t *testing.T) {
	t.Parallel()
	e, fs := pushSetup(t, ModePlain, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {
		_, _ = io.WriteString(w, "success")
	})
	user := e.Apps()[0].Users[2].OpenID
	push := func(req PushRequest) (*PushResult, error) {
		req.User = user
		return e.Push(t.Context(), testAppID, req)
	}
	if _, err := push(PushRequest{Event: EventTypeUnsubscribe}); err != nil {
		t.Fatal(err)
	}
	if _, err := push(PushRequest{Content: "still here?"}); !errors.Is(err, ErrNotSubscribed) {
		t.Errorf("text from an unsubscribed user: err %v, want ErrNotSubscribed", err)
	}
	advance(t, e, time.Minute)
	res, err := push(PushRequest{Event: EventTypeSubscribe, EventKey: "qrscene_42", Ticket: "TICKET"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.MsgID != 0 || !strings.Contains(res.Message.XML, "<EventKey><![CDATA[qrscene_42]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>") {
		t.Errorf("subscribe message = %s (MsgId %d)", res.Message.XML, res.Message.MsgID)
	}
	if u := e.Apps()[0].Users[2]; !u.Subscribed || u.SubscribeTime != t0.Add(time.Minute).Unix() {
		t.Errorf("after subscribe: %+v", u)
	}
	if _, err := push(PushRequest{Content: "back"}); err != nil {
		t.Errorf("text after subscribe: %v", err)
	}
	got := fs.deliveries()
	if n := len(got); n != 3 {
		t.Fatalf("deliveries = %d, want 3", n)
	}
	if got[0].Msg.Event != "unsubscribe" || got[1].Msg.Event != "subscribe" || got[2].Msg.Content != "back" {
		t.Errorf("delivered %+v", got)
	}

	for _, req := range []PushRequest{
		{Type: "sticker"},
		{Type: MsgTypeEvent},
		{Content: "x", Extra: map[string]string{"bad name": "v"}},
		{RawXML: "<xml><oops>"},
		{RawXML: "<xml><Content>no type</Content></xml>"},
	} {
		if _, err := push(req); !errors.Is(err, ErrBadPushRequest) {
			t.Errorf("Push(%+v) err = %v, want ErrBadPushRequest", req, err)
		}
	}
	if _, err := e.Push(t.Context(), testAppID, PushRequest{User: "oNobody"}); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := e.Push(t.Context(), "wxnope", PushRequest{}); !errors.Is(err, ErrUnknownApp) {
		t.Errorf("unknown app: %v", err)
	}
	if _, err := e.Push(t.Context(), otherAppID, PushRequest{}); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("app without users: %v", err)
	}
}

func TestPushRawXML(t *testing.T) {
	t.Parallel()
	e, fs := pushSetup(t, ModeSafe, func(w http.ResponseWriter, r *http.Request, n int, m inboundXML) {})
	raw := "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_push]]></Event><EventKey><![CDATA[rselfmenu_0_1]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo></xml>"
	res, err := e.Push(t.Context(), testAppID, PushRequest{RawXML: raw})
	if err != nil {
		t.Fatal(err)
	}
	m := fs.deliveries()[0].Msg
	app := e.Apps()[0]
	if m.ToUserName != app.OriginalID || m.FromUserName != app.Users[0].OpenID || m.CreateTime != t0.Unix() || m.Event != "scancode_push" {
		t.Errorf("received %+v", m)
	}
	if !strings.Contains(res.Message.XML, "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>") || !res.NoReply {
		t.Errorf("result %+v", res)
	}
}

// elementNames returns the names of the top-level children of <xml>.
func elementNames(t *testing.T, doc string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var names []string
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("parse %q: %v", doc, err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				names = append(names, v.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// TestInboundMatchesCorpus checks that built messages have the elements of
// real pushes (corpus), in the same order.
func TestInboundMatchesCorpus(t *testing.T) {
	t.Parallel()
	dir := corpusDir(t)
	tests := []struct {
		file string
		req  PushRequest
	}{
		{"text_real", PushRequest{Content: "x"}},
		{"image_real", PushRequest{Type: MsgTypeImage}},
		{"voice_recognition_real", PushRequest{Type: MsgTypeVoice, Recognition: "你好"}},
		{"video", PushRequest{Type: MsgTypeVideo}},
		{"shortvideo_real", PushRequest{Type: MsgTypeShortVideo}},
		{"location_real", PushRequest{Type: MsgTypeLocation, LocationX: "30.195360", Label: "x"}},
		{"link_real", PushRequest{Type: MsgTypeLink, Title: "t", URL: "http://x"}},
		{"event_subscribe_real", PushRequest{Event: EventTypeSubscribe}},
		{"event_subscribe_qrscene_real", PushRequest{Event: EventTypeSubscribe, EventKey: "qrscene_1", Ticket: "T"}},
		{"event_unsubscribe_real", PushRequest{Event: EventTypeUnsubscribe}},
		{"event_scan_real", PushRequest{Event: EventTypeScan, EventKey: "1000000"}},
		{"event_location_real", PushRequest{Event: EventTypeLocation}},
		{"event_click", PushRequest{Event: EventTypeClick, EventKey: "K"}},
		{"event_view_menuid", PushRequest{Event: EventTypeView, EventKey: "http://x", MenuID: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "messages", tt.file+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			in, err := buildInbound(&tt.req, "gh_0123456789ab", "oABC", t0, 42)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(elementNames(t, string(b)), elementNames(t, in.XML)); diff != "" {
				t.Errorf("elements (-corpus +built):\n%s\nbuilt: %s", diff, in.XML)
			}
		})
	}
}

// corpusDir returns the protocol corpus (testdata/corpus).
func corpusDir(t *testing.T) string { return corpus.Dir(t) }

func TestControlPushAndConversation(t *testing.T) {
	t.Parallel()
	e, _ := pushSetup(t, ModeSafe, echo(ModeSafe))
	var res PushResult
	if code := control(t, e, "POST", "/_emulator/apps/"+testAppID+"/push", `{"content":"hello","type":"text"}`, &res); code != 200 {
		t.Fatalf("POST push: %d", code)
	}
	if res.UserSees != "echo: hello" || res.Message == nil || res.Message.MsgID == 0 || res.Reply == nil {
		t.Fatalf("push result = %+v", res)
	}
	var raw map[string]any
	control(t, e, "POST", "/_emulator/apps/"+testAppID+"/push", `{"content":"again"}`, &raw)
	if id, ok := raw["message"].(map[string]any)["msg_id"].(string); !ok || id == "" {
		t.Errorf("msg_id in JSON is %#v, want a string", raw["message"].(map[string]any)["msg_id"])
	}
	var log struct{ Messages []ConversationEntry }
	control(t, e, "GET", "/_emulator/apps/"+testAppID+"/messages?user="+res.User, "", &log)
	var got []string
	for _, m := range log.Messages {
		got = append(got, string(m.Direction)+":"+m.Text)
	}
	want := []string{"in:hello", "out:echo: hello", "in:again", "out:echo: again"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conversation (-want +got):\n%s", diff)
	}
	for name, tc := range map[string]struct {
		path, body string
		status     int
	}{
		"unknown app":   {"/_emulator/apps/wxnope/push", `{}`, 404},
		"unknown field": {"/_emulator/apps/" + testAppID + "/push", `{"text":"x"}`, 400},
		"unknown user":  {"/_emulator/apps/" + testAppID + "/push", `{"user":"oX"}`, 400},
	} {
		var ce struct{ Error string }
		if code := control(t, e, "POST", tc.path, tc.body, &ce); code != tc.status || ce.Error == "" {
			t.Errorf("%s: status %d error %q, want %d and a message", name, code, ce.Error, tc.status)
		}
	}
}

func TestControlApps(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	req := httptest.NewRequestWithContext(t.Context(), "GET", "/_emulator/apps", nil)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	body := w.Body.String()
	for _, secret := range []string{testSecret, testToken, testAESKey} {
		if strings.Contains(body, secret) {
			t.Errorf("GET /_emulator/apps reveals a secret: %s", body)
		}
	}
	var apps struct{ Apps []AppInfo }
	if err := json.Unmarshal(w.Body.Bytes(), &apps); err != nil {
		t.Fatal(err)
	}
	if len(apps.Apps) != 2 || apps.Apps[0].AppID != testAppID || len(apps.Apps[0].Users) != 3 || !apps.Apps[0].Users[0].Subscribed {
		t.Errorf("apps = %+v", apps.Apps)
	}
	var info AppInfo
	if code := control(t, e, "PATCH", "/_emulator/apps/"+testAppID, `{"push_url":"http://127.0.0.1:1/wx"}`, &info); code != 200 || info.PushURL != "http://127.0.0.1:1/wx" {
		t.Errorf("PATCH push_url: %d %+v", code, info)
	}
	if code := control(t, e, "PATCH", "/_emulator/apps/"+testAppID, `{"push_url":"ftp://x"}`, nil); code != 400 {
		t.Errorf("PATCH bad push_url: %d, want 400", code)
	}
	if code := control(t, e, "GET", "/_emulator/nothing", "", nil); code != 404 {
		t.Errorf("unknown control path: %d, want 404", code)
	}
}
