package gateway

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/postgres/pgtest"
)

// The pay tests run a gateway in front of the in-process emulator's demo
// merchant (emulator.DemoMchID, for the demo app), with the merchant's
// keys written to files as an operator would download them, and an
// on_paid target that records what it receives. The gateway shares the
// emulator's clock.

// payTestKinds are the configurations the end-to-end tests run: v2 with
// each sign type, and v3.
var payTestKinds = []struct {
	name, version, signType string
}{
	{"v2-MD5", PayV2, "MD5"},
	{"v2-HMAC-SHA256", PayV2, "HMAC-SHA256"},
	{"v3", PayV3, ""},
}

const testPaidSecret = "on-paid-test-secret-0123456789"

// payEnv is a gateway with one pay merchant, in front of the emulator.
type payEnv struct {
	*webEnv
	mchID    string
	version  string
	signType string
	apiKey   string // v2
	v3Key    string // v3
	// platformKey is the emulator's platform signing key (v3), written to
	// its platform_private_key_file so that tests can sign notifies too;
	// pubKeyID names it.
	platformKey *rsa.PrivateKey
	pubKeyID    string
	merchantPub *rsa.PublicKey // verifies v3 paySign
	paid        *paidSink
	// notifyDown makes the gateway's listener answer every notify 503
	// before the gateway sees it (a gateway that is down).
	notifyDown atomic.Bool
}

// payEnvOptions vary newPayEnv.
type payEnvOptions struct {
	version, signType string
	store             string // "" or "sqlite": a SQLite file; "postgres": a schema of the test server
	orderTimeout      time.Duration
	noForward         bool
	// platformMode is the emulator merchant's (default public_key); in
	// certificate mode the gateway has no public key and downloads the
	// certificates.
	platformMode emulator.PlatformMode
	// editEmulator and editConfig, when set, change the emulator's and the
	// gateway's configuration before they are built.
	editEmulator func(*emulator.Config)
	editConfig   func(*Config)
}

// storeURLFor returns a fresh store of kind ("sqlite" or "postgres").
func storeURLFor(t *testing.T, kind string) string {
	if kind == "postgres" {
		return pgtest.SchemaURL(t)
	}
	return "sqlite://" + filepath.Join(t.TempDir(), "pay.db")
}

// newPayEnv starts the emulator (auto-approving logins of its first user,
// with a platform key of the test's own), writes the demo merchant's keys
// to files and starts a gateway configured with them.
func newPayEnv(t *testing.T, o payEnvOptions) *payEnv {
	t.Helper()
	dir := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	host := ts.Listener.Addr().String()
	gwURL := "http://" + host

	platformKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	platformKeyFile := writeFile(t, dir, "platform_key.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(platformKey)}))

	ecfg := emulator.DefaultConfig()
	ea := &ecfg.Apps[0]
	ea.OAuth.Domains = []string{host}
	ea.OAuth.AutoApprove = ea.Users[0].OpenID
	ecfg.Merchants[0].PlatformPrivateKeyFile = platformKeyFile
	// The platform waits 5 s for an answer; under -race on a busy machine
	// 200 copies of a notify queue longer than that for SQLite's one
	// writer. The tests are about what is applied, not how fast.
	ecfg.Merchants[0].NotifyTimeout = 30 * time.Second
	if o.platformMode != "" {
		ecfg.Merchants[0].PlatformMode = o.platformMode
	}
	if o.editEmulator != nil {
		o.editEmulator(&ecfg)
	}
	emu := emulatortest.New(t, ecfg)

	e := &payEnv{mchID: emulator.DemoMchID, version: o.version, signType: o.signType,
		apiKey: emulator.DemoAPIKey, v3Key: emulator.DemoAPIv3Key, platformKey: platformKey}
	mc := PayMerchantConfig{MchID: e.mchID, AppIDs: []string{ea.AppID}, Version: o.version}
	switch o.version {
	case PayV2:
		mc.APIKey, mc.SignType = e.apiKey, o.signType
		mk, err := emu.MerchantKey(e.mchID)
		if err != nil {
			t.Fatal(err)
		}
		mc.PrivateKeyFile = writeFile(t, dir, "apiclient_key.pem", []byte(mk.PrivateKeyPEM))
		mc.CertFile = writeFile(t, dir, "apiclient_cert.pem", []byte(mk.CertificatePEM))
	case PayV3:
		mk, err := emu.MerchantKey(e.mchID)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := emu.PlatformKey(e.mchID)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(mk.PublicKeyPEM))
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		e.merchantPub = pub.(*rsa.PublicKey)
		e.pubKeyID = pk.PublicKeyID
		mc.APIv3Key, mc.SerialNo = e.v3Key, mk.SerialNo
		mc.PrivateKeyFile = writeFile(t, dir, "apiclient_key.pem", []byte(mk.PrivateKeyPEM))
		mc.CertFile = writeFile(t, dir, "apiclient_cert.pem", []byte(mk.CertificatePEM))
		if pk.PublicKeyID != "" {
			mc.PlatformPublicKeyFile = writeFile(t, dir, "pub_key.pem", []byte(pk.PublicKeyPEM))
			mc.PlatformPublicKeyID = pk.PublicKeyID
		}
	}
	e.paid = newPaidSink(t, testPaidSecret)
	cfg := &Config{
		Listen:    host,
		PublicURL: gwURL,
		Store:     storeURLFor(t, o.store),
		WeChat:    WeChatConfig{APIBase: emu.URL, OpenBase: emu.URL, PayBase: emu.URL},
		OAuth:     OAuthConfig{Secret: testOAuthSecret},
		OpsConfig: OpsConfig{Limits: LimitsConfig{OAuthPerMinute: -1}},
		Apps:      []AppConfig{{AppID: ea.AppID, Secret: ea.Secret, Token: ea.Token}},
		Pay: PayConfig{
			OrderTimeout: Duration(o.orderTimeout),
			OnPaid:       OnPaidConfig{Forward: e.paid.srv.URL + "/paid", Secret: testPaidSecret},
			Merchants:    []PayMerchantConfig{mc},
		},
	}
	if o.noForward {
		cfg.Pay.OnPaid = OnPaidConfig{}
	}
	if o.editConfig != nil {
		o.editConfig(cfg)
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatalf("Normalize = %v", err)
	}
	logs := &logBuffer{}
	g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		WithClock(emu.Now))
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { g.Close() })
	h := g.Handler()
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.notifyDown.Load() && strings.Contains(r.URL.Path, "/notify/") {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
	ts.Start()
	e.webEnv = &webEnv{emu: emu, g: g, url: gwURL, host: host, logs: logs, appID: ea.AppID, openID: ea.OAuth.AutoApprove}
	return e
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// bearer creates a session for openID of the demo app in the gateway's
// store (as Mini Program login does) and returns its token.
func (e *payEnv) bearer(t *testing.T, openID string) string {
	t.Helper()
	tok := "tok-" + randHex(t, 16)
	now := e.emu.Now()
	if err := e.g.Stores().Sessions.CreateSession(t.Context(), tok, &store.Session{AppID: e.appID, OpenID: openID,
		Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	return tok
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// do sends a JSON request to the gateway as the holder of auth ("Bearer
// <token>", or "" to rely on c's cookies) and returns the status and body.
func (e *payEnv) do(t *testing.T, c *http.Client, method, path, auth string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// createOrder places an order for amount fen and returns the answer.
func (e *payEnv) createOrder(t *testing.T, c *http.Client, auth string, amount int64) *OrderCreated {
	t.Helper()
	status, body := e.do(t, c, "POST", "/pay/orders", auth, map[string]any{"amount": amount, "description": "wxkit T恤"})
	if status != http.StatusCreated {
		t.Fatalf("POST /pay/orders = %d %s, want 201", status, body)
	}
	var oc OrderCreated
	if err := json.Unmarshal(body, &oc); err != nil {
		t.Fatalf("POST /pay/orders: %v in %s", err, body)
	}
	if oc.PayParams == nil {
		t.Fatalf("POST /pay/orders: no pay_params in %s", body)
	}
	return &oc
}

// orderStatus reads GET /pay/orders/{no}.
func (e *payEnv) orderStatus(t *testing.T, c *http.Client, auth, no string) *OrderStatus {
	t.Helper()
	status, body := e.do(t, c, "GET", "/pay/orders/"+no, auth, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /pay/orders/%s = %d %s, want 200", no, status, body)
	}
	var st OrderStatus
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("GET /pay/orders/%s: %v in %s", no, err, body)
	}
	return &st
}

// storedOrder reads the order from the gateway's store.
func (e *payEnv) storedOrder(t *testing.T, no string) *store.Order {
	t.Helper()
	o, err := e.g.Stores().Orders.Order(context.WithoutCancel(t.Context()), e.mchID, no)
	if err != nil {
		t.Fatalf("Orders.Order(%s) = %v", no, err)
	}
	return o
}

// payParamsMap is p as the page hands it to getBrandWCPayRequest.
func payParamsMap(p *PayParams) map[string]string {
	return map[string]string{"appId": p.AppID, "timeStamp": p.TimeStamp, "nonceStr": p.NonceStr,
		"package": p.Package, "signType": p.SignType, "paySign": p.PaySign}
}

// checkPayParams verifies p as the WeChat client does, with code of its
// own: the v2 sign (MD5 or HMAC-SHA256 with the API key) over appId,
// nonceStr, package, signType and timeStamp, or the v3 RSA signature over
// "appId\ntimeStamp\nnonceStr\npackage\n" with the merchant's public key.
func (e *payEnv) checkPayParams(t *testing.T, oc *OrderCreated) {
	t.Helper()
	p := oc.PayParams
	if p.AppID != e.appID || p.Package != "prepay_id="+oc.PrepayID || p.NonceStr == "" || len(p.NonceStr) > 32 {
		t.Errorf("pay_params = %+v, want appId %s, package prepay_id=%s and a nonceStr", p, e.appID, oc.PrepayID)
	}
	var ts int64
	if _, err := fmt.Sscan(p.TimeStamp, &ts); err != nil || time.Unix(ts, 0).Sub(e.emu.Now()).Abs() > time.Minute {
		t.Errorf("pay_params.timeStamp = %q, want the current Unix time (%d)", p.TimeStamp, e.emu.Now().Unix())
	}
	switch e.version {
	case PayV2:
		if p.SignType != e.signType {
			t.Errorf("pay_params.signType = %q, want %q", p.SignType, e.signType)
		}
		want := testV2Sign(map[string]string{"appId": p.AppID, "timeStamp": p.TimeStamp, "nonceStr": p.NonceStr,
			"package": p.Package, "signType": p.SignType}, e.apiKey, e.signType)
		if p.PaySign != want {
			t.Errorf("pay_params.paySign = %s, want %s", p.PaySign, want)
		}
	case PayV3:
		if p.SignType != "RSA" {
			t.Errorf("pay_params.signType = %q, want RSA", p.SignType)
		}
		sig, err := base64.StdEncoding.DecodeString(p.PaySign)
		h := sha256.Sum256([]byte(p.AppID + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n"))
		if err != nil || rsa.VerifyPKCS1v15(e.merchantPub, crypto.SHA256, h[:], sig) != nil {
			t.Errorf("pay_params.paySign does not verify with the merchant's public key")
		}
	}
}

// testV2Sign is the v2 sign, written here from the documentation: the
// non-empty fields but sign sorted by name, joined k=v with &, then
// &key=API_KEY; MD5 or HMAC-SHA256 (keyed with the API key), upper-case
// hex.
func testV2Sign(f map[string]string, key, signType string) string {
	var parts []string
	for k, v := range f {
		if k != "sign" && v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	slices.Sort(parts)
	s := strings.Join(parts, "&") + "&key=" + key
	if signType == "HMAC-SHA256" {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(s))
		return strings.ToUpper(hex.EncodeToString(mac.Sum(nil)))
	}
	sum := md5.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// testV2XML renders f as a v2 document (fields sorted, values in CDATA).
func testV2XML(f map[string]string) []byte {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>", k, f[k], k)
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// v2PayNotify returns the fields of a v2 pay notify of the platform for
// order no (amount fen, payer openID), not yet signed.
func (e *payEnv) v2PayNotify(no string, amount int64, openID string) map[string]string {
	return map[string]string{
		"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": e.appID, "mch_id": e.mchID,
		"nonce_str": "5d2b6c2a8db53831f7eda20af46e531c", "openid": openID, "is_subscribe": "Y", "trade_type": "JSAPI",
		"bank_type": "CMC", "total_fee": fmt.Sprint(amount), "fee_type": "CNY", "cash_fee": fmt.Sprint(amount),
		"transaction_id": "4200000001" + e.emu.Now().Format("20060102") + "1234567890", "out_trade_no": no,
		"time_end": e.emu.Now().In(chinaTime).Format("20060102150405"), "sign_type": e.signType,
	}
}

// postV2 posts a v2 notify body to path and returns the status and answer.
func (e *payEnv) postV2(t *testing.T, path string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(e.url+path, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// v3Transaction is the plaintext of a TRANSACTION.SUCCESS notify.
type v3Transaction struct {
	AppID          string `json:"appid"`
	MchID          string `json:"mchid"`
	OutTradeNo     string `json:"out_trade_no"`
	TransactionID  string `json:"transaction_id"`
	TradeType      string `json:"trade_type"`
	TradeState     string `json:"trade_state"`
	TradeStateDesc string `json:"trade_state_desc"`
	BankType       string `json:"bank_type"`
	Attach         string `json:"attach"`
	SuccessTime    string `json:"success_time"`
	Payer          struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
	Amount struct {
		Total         int64  `json:"total"`
		PayerTotal    int64  `json:"payer_total"`
		Currency      string `json:"currency"`
		PayerCurrency string `json:"payer_currency"`
	} `json:"amount"`
}

// v3PayNotify returns the plaintext of a paid order's v3 notify.
func (e *payEnv) v3PayNotify(no string, amount int64, openID string) *v3Transaction {
	tx := &v3Transaction{AppID: e.appID, MchID: e.mchID, OutTradeNo: no,
		TransactionID: "4200000001" + e.emu.Now().Format("20060102") + "1234567890", TradeType: "JSAPI",
		TradeState: "SUCCESS", TradeStateDesc: "支付成功", BankType: "OTHERS",
		SuccessTime: e.emu.Now().In(chinaTime).Format(time.RFC3339)}
	tx.Payer.OpenID = openID
	tx.Amount.Total, tx.Amount.PayerTotal, tx.Amount.Currency, tx.Amount.PayerCurrency = amount, amount, "CNY", "CNY"
	return tx
}

// v3Signed is a v3 notify as the platform would send it.
type v3Signed struct {
	header http.Header
	body   []byte
}

// signV3Notify builds a v3 notify of event carrying plaintext (encrypted
// with apiV3Key, AEAD_AES_256_GCM, associated data ad) signed at ts with
// key under serial — written here from the documentation.
func signV3Notify(t *testing.T, event, ad string, plaintext any, apiV3Key string, ts time.Time, key *rsa.PrivateKey, serial string) *v3Signed {
	t.Helper()
	pt, err := json.Marshal(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher([]byte(apiV3Key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := randHex(t, 6) // 12 characters
	ct := gcm.Seal(nil, []byte(nonce), pt, []byte(ad))
	body, err := json.Marshal(map[string]any{
		"id": "EV-2018022511223320873", "create_time": ts.In(chinaTime).Format(time.RFC3339),
		"resource_type": "encrypt-resource", "event_type": event, "summary": "支付成功",
		"resource": map[string]string{"original_type": ad, "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": base64.StdEncoding.EncodeToString(ct), "associated_data": ad, "nonce": nonce},
	})
	if err != nil {
		t.Fatal(err)
	}
	hdrNonce := randHex(t, 16)
	stamp := fmt.Sprint(ts.Unix())
	h := sha256.Sum256([]byte(stamp + "\n" + hdrNonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Wechatpay-Serial", serial)
	hdr.Set("Wechatpay-Timestamp", stamp)
	hdr.Set("Wechatpay-Nonce", hdrNonce)
	hdr.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	hdr.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
	return &v3Signed{header: hdr, body: body}
}

// postV3 posts a v3 notify to path and returns the status and answer.
func (e *payEnv) postV3(t *testing.T, path string, n *v3Signed) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", e.url+path, bytes.NewReader(n.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = n.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// paidSink is an on_paid target: it records every delivery and answers 204.
type paidSink struct {
	srv    *httptest.Server
	secret string
	// failNext makes the sink answer 503 to that many deliveries first.
	failNext atomic.Int32

	mu   sync.Mutex
	got  []paidDelivery
	more chan struct{} // a token per delivery
}

// paidDelivery is one request the sink received.
type paidDelivery struct {
	Delivery, EventHeader string
	SignatureOK           bool // X-Wxkit-Signature checked here, from the documentation
	Refused               bool // answered 503 (failNext)
	Body                  []byte
	Event                 PaidEvent
}

func newPaidSink(t *testing.T, secret string) *paidSink {
	s := &paidSink{secret: secret, more: make(chan struct{}, 10000)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		d := paidDelivery{Delivery: r.Header.Get("X-Wxkit-Delivery"), EventHeader: r.Header.Get("X-Wxkit-Event"),
			SignatureOK: r.Header.Get("X-Wxkit-Signature") == "sha256="+hex.EncodeToString(mac.Sum(nil)), Body: body}
		json.Unmarshal(body, &d.Event)
		d.Refused = s.failNext.Add(-1) >= 0
		s.mu.Lock()
		s.got = append(s.got, d)
		s.mu.Unlock()
		s.more <- struct{}{}
		if d.Refused {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// deliveries returns what the sink has received so far.
func (s *paidSink) deliveries() []paidDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// wait returns once the sink has received at least n deliveries in all
// (failing the test after 20 s).
func (s *paidSink) wait(t *testing.T, n int) []paidDelivery {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := s.deliveries(); len(got) >= n {
			return got
		}
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("on_paid target: %d deliveries after 20 s, want %d", len(s.deliveries()), n)
		}
	}
}
