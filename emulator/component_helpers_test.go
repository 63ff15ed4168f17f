package emulator

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The third-party platforms of the component tests.
const (
	compAppID   = "wx5555555555555555"
	compSecret  = "55555555555555555555555555555555"
	compToken   = "comptoken123"
	compAESKey  = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
	comp2AppID  = "wx6666666666666666"
	compName    = "测试第三方平台"
	compFanText = "hello platform"
)

// --- independent protocol code (crypto/aes directly) ---

func aesKeyOf(t *testing.T, encodingAESKey string) []byte {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(k) != 32 {
		t.Fatalf("key %q: %v", encodingAESKey, err)
	}
	return k
}

// decryptWith undoes message encryption under encodingAESKey and returns
// (msg, appid).
func decryptWith(t *testing.T, encodingAESKey, b64 string) ([]byte, string, error) {
	key := aesKeyOf(t, encodingAESKey)
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", errors.New("bad ciphertext")
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

// encryptWith encrypts msg for appID under encodingAESKey as a server does.
func encryptWith(t *testing.T, encodingAESKey string, msg []byte, appID string) string {
	key := aesKeyOf(t, encodingAESKey)
	buf := append([]byte("fedcba9876543210"), binary.BigEndian.AppendUint32(nil, uint32(len(msg)))...)
	buf = append(append(buf, msg...), appID...)
	pad := 32 - len(buf)%32
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	blk, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(blk, key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// xmlFields decodes a flat <xml> document into its fields.
func xmlFields(b []byte) (map[string]string, error) {
	var doc struct {
		Fields []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range doc.Fields {
		out[f.XMLName.Local] = f.Value
	}
	return out, nil
}

// textReplyTo returns a passive text reply to the message m.
func textReplyTo(m map[string]string, content string) string {
	return fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content></xml>",
		m["FromUserName"], m["ToUserName"], m["CreateTime"], content)
}

// platformEvent is one push received at the authorization event URL.
type platformEvent struct {
	Query  url.Values
	Fields map[string]string
}

// platformMessage is one message received at the message URL.
type platformMessage struct {
	AppID  string // from the URL ($APPID$)
	Query  url.Values
	Fields map[string]string
}

// platform is a third-party platform's server, written independently of
// the emulator: it checks and decrypts what the platform pushes, keeps the
// latest ticket and calls the platform's APIs over HTTP.
type platform struct {
	t      *testing.T
	emuURL string
	mu     sync.Mutex
	events []platformEvent
	msgs   []platformMessage
	ticket string
	// ack answers authorization pushes ("success" when empty).
	ack string
	// reply answers a message with plaintext reply XML ("" for an empty
	// answer); encrypt tells whether to wrap it in the envelope.
	reply   func(p *platform, appID string, m map[string]string) string
	encrypt bool
	wg      sync.WaitGroup
}

func (p *platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := p.t
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if got, want := q.Get("signature"), sha1Sorted(compToken, ts, nonce); got != want {
		t.Errorf("%s: signature %q, want %q", r.URL.Path, got, want)
	}
	outer, err := xmlFields(body)
	if err != nil {
		t.Errorf("%s: body %q is not XML: %v", r.URL.Path, body, err)
		return
	}
	if got, want := q.Get("msg_signature"), sha1Sorted(compToken, ts, nonce, outer["Encrypt"]); got != want || q.Get("encrypt_type") != "aes" {
		t.Errorf("%s: msg_signature %q, want %q", r.URL.Path, got, want)
	}
	plain, appID, err := decryptWith(t, compAESKey, outer["Encrypt"])
	if err != nil || appID != compAppID {
		t.Errorf("%s: decrypt with the platform's key: %v, AppID %q, want %s", r.URL.Path, err, appID, compAppID)
		return
	}
	fields, err := xmlFields(plain)
	if err != nil {
		t.Errorf("%s: plaintext %q: %v", r.URL.Path, plain, err)
		return
	}
	switch {
	case r.URL.Path == "/notify":
		if outer["AppId"] != compAppID || len(outer) != 2 {
			t.Errorf("notify envelope = %v, want AppId and Encrypt", outer)
		}
		p.mu.Lock()
		p.events = append(p.events, platformEvent{Query: q, Fields: fields})
		if fields["InfoType"] == InfoTypeComponentVerifyTicket {
			p.ticket = fields["ComponentVerifyTicket"]
		}
		ack := p.ack
		p.mu.Unlock()
		if ack == "" {
			ack = "success"
		}
		_, _ = io.WriteString(w, ack)
	case strings.HasPrefix(r.URL.Path, "/wx/"):
		if outer["ToUserName"] != fields["ToUserName"] || q.Get("openid") != fields["FromUserName"] {
			t.Errorf("message envelope %v / openid %q do not match %v", outer, q.Get("openid"), fields)
		}
		authorizer := strings.TrimPrefix(r.URL.Path, "/wx/")
		p.mu.Lock()
		p.msgs = append(p.msgs, platformMessage{AppID: authorizer, Query: q, Fields: fields})
		reply, encrypt := p.reply, p.encrypt
		p.mu.Unlock()
		out := ""
		if reply != nil {
			out = reply(p, authorizer, fields)
		}
		if out != "" && encrypt {
			out = envelopeWith(t, compAESKey, compAppID, compToken, out)
		}
		_, _ = io.WriteString(w, out)
	default:
		t.Errorf("push to unexpected path %s", r.URL.Path)
	}
}

// envelopeWith wraps plain in a safe-mode reply envelope.
func envelopeWith(t *testing.T, key, appID, token, plain string) string {
	enc := encryptWith(t, key, []byte(plain), appID)
	ts, nonce := "1700000000", "987654"
	return fmt.Sprintf("<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA[%s]]></MsgSignature><TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce></xml>",
		enc, sha1Sorted(token, ts, nonce, enc), ts, nonce)
}

func (p *platform) received() ([]platformEvent, []platformMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]platformEvent(nil), p.events...), append([]platformMessage(nil), p.msgs...)
}

// eventsOf returns the received pushes of infoType.
func (p *platform) eventsOf(infoType string) []map[string]string {
	evs, _ := p.received()
	var out []map[string]string
	for _, ev := range evs {
		if ev.Fields["InfoType"] == infoType {
			out = append(out, ev.Fields)
		}
	}
	return out
}

func (p *platform) latestTicket() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ticket
}

// post calls a platform API over HTTP with a JSON body and decodes the
// answer into v (nil: ignored); it returns the errcode.
func (p *platform) post(path string, body any, v any) int {
	p.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.emuURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		p.t.Errorf("POST %s: %v", path, err)
		return -2
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	_ = json.Unmarshal(raw, &e)
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			p.t.Errorf("POST %s: answer %q: %v", path, raw, err)
		}
	}
	return e.ErrCode
}

// componentToken fetches a component_access_token with the latest ticket.
func (p *platform) componentToken() string {
	p.t.Helper()
	var r componentTokenReply
	if code := p.post("/cgi-bin/component/api_component_token", map[string]string{
		"component_appid": compAppID, "component_appsecret": compSecret, "component_verify_ticket": p.latestTicket(),
	}, &r); code != 0 || r.ComponentAccessToken == "" {
		p.t.Fatalf("api_component_token: errcode %d", code)
	}
	return r.ComponentAccessToken
}

// queryAuthReply is the answer of api_query_auth.
type queryAuthReply struct {
	ErrCode           int `json:"errcode"`
	AuthorizationInfo struct {
		AuthorizerAppID        string `json:"authorizer_appid"`
		AuthorizerAccessToken  string `json:"authorizer_access_token"`
		ExpiresIn              int    `json:"expires_in"`
		AuthorizerRefreshToken string `json:"authorizer_refresh_token"`
		FuncInfo               []struct {
			FuncscopeCategory struct {
				ID int `json:"id"`
			} `json:"funcscope_category"`
		} `json:"func_info"`
	} `json:"authorization_info"`
}

func (p *platform) queryAuth(tok, code string) queryAuthReply {
	var r queryAuthReply
	p.post("/cgi-bin/component/api_query_auth?component_access_token="+url.QueryEscape(tok),
		map[string]string{"component_appid": compAppID, "authorization_code": code}, &r)
	return r
}

// preAuthCode gets a pre_auth_code.
func (p *platform) preAuthCode(tok string) string {
	p.t.Helper()
	var r struct {
		PreAuthCode string `json:"pre_auth_code"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if code := p.post("/cgi-bin/component/api_create_preauthcode?component_access_token="+url.QueryEscape(tok),
		map[string]string{"component_appid": compAppID}, &r); code != 0 || r.ExpiresIn != 1800 || !strings.HasPrefix(r.PreAuthCode, "preauthcode@@@") {
		p.t.Fatalf("api_create_preauthcode: errcode %d, %+v", code, r)
	}
	return r.PreAuthCode
}

// customSend sends a customer-service text with an access token.
func (p *platform) customSend(tok, openID, text string) int {
	return p.post("/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tok), map[string]any{
		"touser": openID, "msgtype": "text", "text": map[string]string{"content": text},
	}, nil)
}

// componentEnv is an emulator served over HTTP with a platform server.
type componentEnv struct {
	e   *Emulator
	p   *platform
	emu *httptest.Server
	srv *httptest.Server
}

// newComponentEnv starts the emulator (testConfig apps, one Mini Program,
// the platform compAppID and a second platform comp2AppID) and a platform
// server, and points the platform's URLs at it.
func newComponentEnv(t *testing.T, mutate func(*Config)) *componentEnv {
	t.Helper()
	e := newTest(t, func(c *Config) {
		c.Apps[0].Name = "测试公众号"
		c.Apps = append(c.Apps, AppConfig{
			AppID: mpAppID, Type: AppTypeMiniProgram, Secret: mpSecret, Token: mpToken, Name: "测试小程序",
			Users: []UserConfig{{Nickname: "m", UnionID: mpUnionID}},
		})
		c.Components = []ComponentConfig{
			{AppID: compAppID, Secret: compSecret, Token: compToken, EncodingAESKey: compAESKey, Name: compName},
			{AppID: comp2AppID, Secret: compSecret, Token: compToken, EncodingAESKey: compAESKey},
		}
		c.Push.Timeout = 2 * time.Second
		if mutate != nil {
			mutate(c)
		}
	})
	emu := httptest.NewServer(e)
	t.Cleanup(emu.Close)
	p := &platform{t: t, emuURL: emu.URL, encrypt: true}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	t.Cleanup(p.wg.Wait)
	push, msg := srv.URL+"/notify", srv.URL+"/wx/$APPID$"
	if err := e.SetComponentURLs(compAppID, &push, &msg); err != nil {
		t.Fatal(err)
	}
	return &componentEnv{e: e, p: p, emu: emu, srv: srv}
}

// pushTicketNow pushes a ticket through the control API and returns it.
func (env *componentEnv) pushTicketNow(t *testing.T) string {
	t.Helper()
	var p ComponentPush
	if st := serveJSON(t, env.e, "POST", "/_emulator/components/"+compAppID+"/ticket", "", &p); st != 200 || !p.Acknowledged {
		t.Fatalf("ticket push: %d %+v", st, p)
	}
	if got := env.p.latestTicket(); got != p.Ticket || !strings.HasPrefix(got, "ticket@@@") {
		t.Fatalf("the platform holds ticket %q, the push reports %q", got, p.Ticket)
	}
	return p.Ticket
}

// authorizeViaControl authorizes appID with a fresh pre_auth_code through
// the control API and returns the result.
func (env *componentEnv) authorizeViaControl(t *testing.T, appID string) AuthorizeResult {
	t.Helper()
	pre := env.p.preAuthCode(env.p.componentToken())
	var res AuthorizeResult
	body := fmt.Sprintf(`{"authorizer_appid":%q,"pre_auth_code":%q,"redirect_uri":"http://platform.example/callback"}`, appID, pre)
	if st := serveJSON(t, env.e, "POST", "/_emulator/components/"+compAppID+"/authorize", body, &res); st != 200 {
		t.Fatalf("authorize: %d", st)
	}
	return res
}
