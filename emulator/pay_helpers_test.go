package emulator

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file is the client side of the tests: a v2 and a v3 merchant
// client and a merchant server receiving notifies, written with the
// standard library alone, independently of the emulator's own crypto code.

const (
	testMchID    = "1230000109"
	testAPIKey   = "0123456789abcdef0123456789ABCDEF"
	testAPIv3Key = "v3key0123456789abcdef0123456789X"
	testSerial   = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	testOpenID   = "oTestUser0000000000000000001" // set as the first user of testAppID
)

// testRSAKeys are generated once per test binary (generating is slow): the
// merchant's key, the platform's main key and its certificate key.
var testRSAKeys = sync.OnceValue(func() [3]*rsa.PrivateKey {
	var ks [3]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// payFixture is an emulator with one merchant (testMchID, bound to
// testAppID) and a merchant server receiving its notifies.
type payFixture struct {
	t      *testing.T
	e      *Emulator
	mk     *rsa.PrivateKey // the merchant's private key
	srv    *merchantServer
	notify string // notify_url of the merchant server
}

// newPayFixture builds the fixture; mutate may change the merchant's config
// (platform mode, schedule, ...).
func newPayFixture(t *testing.T, mutate func(*MerchantConfig)) *payFixture {
	t.Helper()
	keys := testRSAKeys()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serial, _ := new(big.Int).SetString(testSerial, 16)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: testMchID},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(5, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &keys[0].PublicKey, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	certFile := write("apiclient_cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	pkcs1 := func(k *rsa.PrivateKey) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	}
	srv := newMerchantServer(t)
	mc := MerchantConfig{
		MchID: testMchID, Name: "测试商户", AppIDs: []string{testAppID, "wxminiprogram000001"}, APIKey: testAPIKey,
		APIv3Key: testAPIv3Key, MerchantPublicKeyFile: certFile,
		PlatformPrivateKeyFile: write("platform_key.pem", pkcs1(keys[1])),
	}
	if mutate != nil {
		mutate(&mc)
	}
	if mc.PlatformMode == PlatformModeBoth && mc.PlatformCertificateKeyFile == "" {
		mc.PlatformCertificateKeyFile = write("platform_cert_key.pem", pkcs1(keys[2]))
	}
	e := newTest(t, func(c *Config) {
		c.Apps[0].Users[0].OpenID = testOpenID
		c.Merchants = []MerchantConfig{mc}
	})
	return &payFixture{t: t, e: e, mk: keys[0], srv: srv, notify: srv.URL + "/pay/notify"}
}

// settle waits for the notifies in flight.
func (f *payFixture) settle() {
	f.t.Helper()
	if err := f.e.WaitNotifies(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *payFixture) advance(d time.Duration) {
	f.t.Helper()
	advance(f.t, f.e, d)
	f.settle()
}

// pay makes testOpenID pay prepayID and waits for the notify.
func (f *payFixture) pay(prepayID string, p Payment) string {
	f.t.Helper()
	txn, err := f.e.PayOrder(prepayID, p)
	if err != nil {
		f.t.Fatalf("PayOrder(%s) = %v", prepayID, err)
	}
	f.settle()
	return txn
}

// ---- v2 client ----

// clientV2Sign is the merchant's v2 signature: sorted non-empty k=v joined
// by &, then &key=; MD5 or HMAC-SHA256, upper-case hex.
func clientV2Sign(p map[string]string, key, signType string) string {
	ks := make([]string, 0, len(p))
	for k, v := range p {
		if k != "sign" && v != "" {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, k+"="+p[k])
	}
	s := strings.Join(parts, "&") + "&key=" + key
	if signType == "HMAC-SHA256" {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(s))
		return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
	}
	sum := md5.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// clientXML encodes p as a v2 request document.
func clientXML(p map[string]string) string {
	var b strings.Builder
	b.WriteString("<xml>")
	for k, v := range p {
		b.WriteString("<" + k + "><![CDATA[" + v + "]]></" + k + ">")
	}
	b.WriteString("</xml>")
	return b.String()
}

// clientParseXML decodes a flat v2 document.
func clientParseXML(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var doc struct {
		Fields []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, b)
	}
	out := map[string]string{}
	for _, f := range doc.Fields {
		out[f.XMLName.Local] = f.Value
	}
	return out
}

// v2 signs p (adding appid, mch_id, nonce_str unless present) and posts it
// to path; it returns the answer's fields. A signed answer's sign is checked.
func (f *payFixture) v2(path string, p map[string]string) map[string]string {
	f.t.Helper()
	q := map[string]string{"appid": testAppID, "mch_id": testMchID, "nonce_str": "n" + strconv.Itoa(randomInt(1, 1e9))}
	for k, v := range p {
		q[k] = v
	}
	for k, v := range q {
		if v == "-" { // "-" removes a default
			delete(q, k)
		}
	}
	if _, ok := q["sign"]; !ok {
		q["sign"] = clientV2Sign(q, testAPIKey, q["sign_type"])
	}
	return f.v2Raw(path, clientXML(q), q["sign_type"])
}

func (f *payFixture) v2Raw(path, body, signType string) map[string]string {
	f.t.Helper()
	req := httptest.NewRequestWithContext(f.t.Context(), "POST", path, strings.NewReader(body))
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, req)
	if w.Code != 200 {
		f.t.Fatalf("POST %s: HTTP %d %s", path, w.Code, w.Body)
	}
	a := clientParseXML(f.t, w.Body.Bytes())
	if a["return_code"] == "SUCCESS" {
		if a["sign"] == "" || clientV2Sign(a, testAPIKey, signType) != a["sign"] {
			f.t.Fatalf("POST %s: answer sign does not verify: %s", path, w.Body)
		}
	} else if a["sign"] != "" {
		f.t.Errorf("POST %s: a return_code FAIL answer is signed: %s", path, w.Body)
	}
	return a
}

// unifiedOrder places a v2 JSAPI order and returns its prepay_id.
func (f *payFixture) unifiedOrder(outTradeNo string, amount int64, extra map[string]string) string {
	f.t.Helper()
	p := map[string]string{
		"body": "测试商品", "out_trade_no": outTradeNo, "total_fee": strconv.FormatInt(amount, 10),
		"spbill_create_ip": "127.0.0.1", "notify_url": f.notify, "trade_type": "JSAPI", "openid": testOpenID,
	}
	for k, v := range extra {
		p[k] = v
	}
	a := f.v2("/pay/unifiedorder", p)
	if a["result_code"] != "SUCCESS" || a["prepay_id"] == "" {
		f.t.Fatalf("unifiedorder %s = %v", outTradeNo, a)
	}
	return a["prepay_id"]
}

// ---- v3 client ----

// v3Resp is a v3 answer.
type v3Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r v3Resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, r.Body)
	}
}

// code returns the error code of a v3 error answer.
func (r v3Resp) code(t *testing.T) (string, string) {
	t.Helper()
	var e struct{ Code, Message string }
	r.json(t, &e)
	return e.Code, e.Message
}

// clientAuthorization builds a v3 Authorization header.
func clientAuthorization(key *rsa.PrivateKey, mchID, serial, method, uri, ts, nonce, body string) string {
	msg := method + "\n" + uri + "\n" + ts + "\n" + nonce + "\n" + body + "\n"
	sum := sha256.Sum256([]byte(msg))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	return fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"`,
		mchID, nonce, base64.StdEncoding.EncodeToString(sig), ts, serial)
}

// v3 calls the v3 API as the merchant (body: nil, a string or a value to
// encode) and checks the answer's signature against the platform keys.
func (f *payFixture) v3(method, uri string, body any) v3Resp {
	f.t.Helper()
	return f.v3With(method, uri, body, func(r *http.Request, b string) {
		r.Header.Set("Authorization", clientAuthorization(f.mk, testMchID, testSerial, method, uri,
			strconv.FormatInt(f.e.Now().Unix(), 10), "nonce"+strconv.Itoa(randomInt(1, 1e9)), b))
	})
}

// v3With calls the v3 API with auth setting the headers.
func (f *payFixture) v3With(method, uri string, body any, auth func(*http.Request, string)) v3Resp {
	f.t.Helper()
	var b string
	switch v := body.(type) {
	case nil:
	case string:
		b = v
	default:
		j, err := json.Marshal(v)
		if err != nil {
			f.t.Fatal(err)
		}
		b = string(j)
	}
	var rd io.Reader
	if b != "" {
		rd = strings.NewReader(b)
	}
	req := httptest.NewRequestWithContext(f.t.Context(), method, uri, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	auth(req, b)
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, req)
	resp := v3Resp{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	if resp.Header.Get("Wechatpay-Serial") != "" {
		f.verifyPlatform(resp.Header, resp.Body)
	}
	return resp
}

// platformKeys returns the platform's public keys by serial, as a merchant
// holds them (from the platform_key control endpoint).
func (f *payFixture) platformKeys() map[string]*rsa.PublicKey {
	f.t.Helper()
	var pk PlatformKey
	if code := control(f.t, f.e, "GET", "/_emulator/merchants/"+testMchID+"/platform_key", "", &pk); code != 200 {
		f.t.Fatalf("GET platform_key: %d", code)
	}
	out := map[string]*rsa.PublicKey{}
	if pk.PublicKeyPEM != "" {
		blk, _ := pem.Decode([]byte(pk.PublicKeyPEM))
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			f.t.Fatal(err)
		}
		out[pk.PublicKeyID] = k.(*rsa.PublicKey)
	}
	if pk.CertificatePEM != "" {
		blk, _ := pem.Decode([]byte(pk.CertificatePEM))
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			f.t.Fatal(err)
		}
		if got := fmt.Sprintf("%X", c.SerialNumber); got != pk.SerialNo {
			f.t.Fatalf("certificate serial %s, platform_key serial_no %s", got, pk.SerialNo)
		}
		out[pk.SerialNo] = c.PublicKey.(*rsa.PublicKey)
	}
	return out
}

// verifyPlatform checks Wechatpay-* headers over body as a merchant does.
func (f *payFixture) verifyPlatform(h http.Header, body []byte) {
	f.t.Helper()
	if err := clientVerify(f.platformKeys(), h, body, f.e.Now()); err != nil {
		f.t.Fatal(err)
	}
}

func clientVerify(keys map[string]*rsa.PublicKey, h http.Header, body []byte, now time.Time) error {
	serial := h.Get("Wechatpay-Serial")
	pub := keys[serial]
	if pub == nil {
		return fmt.Errorf("Wechatpay-Serial %q is none of the platform's keys", serial)
	}
	ts := h.Get("Wechatpay-Timestamp")
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(n, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("Wechatpay-Timestamp %q is not near %v", ts, now)
	}
	msg := ts + "\n" + h.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(h.Get("Wechatpay-Signature"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("Wechatpay-Signature does not verify with %s: %w", serial, err)
	}
	return nil
}

// clientGCMOpen decrypts an AEAD_AES_256_GCM resource.
func clientGCMOpen(t *testing.T, key, nonce, aad, ciphertext string) []byte {
	t.Helper()
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, []byte(nonce), ct, []byte(aad))
	if err != nil {
		t.Fatalf("AEAD_AES_256_GCM open: %v", err)
	}
	return plain
}

// clientECBDecrypt decrypts a v2 refund notify's req_info.
func clientECBDecrypt(t *testing.T, apiKey, reqInfo string) string {
	t.Helper()
	ct, err := base64.StdEncoding.DecodeString(reqInfo)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(apiKey))
	block, err := aes.NewCipher([]byte(hex.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	if len(ct)%16 != 0 || len(ct) == 0 {
		t.Fatalf("req_info length %d", len(ct))
	}
	out := make([]byte, len(ct))
	for i := 0; i < len(ct); i += 16 {
		block.Decrypt(out[i:i+16], ct[i:i+16])
	}
	pad := int(out[len(out)-1])
	if pad < 1 || pad > 16 {
		t.Fatalf("req_info padding %d", pad)
	}
	return string(out[:len(out)-pad])
}

// v3Notify is a decoded v3 notify envelope.
type v3Notify struct {
	ID           string `json:"id"`
	CreateTime   string `json:"create_time"`
	EventType    string `json:"event_type"`
	ResourceType string `json:"resource_type"`
	Summary      string `json:"summary"`
	Resource     struct {
		Algorithm      string `json:"algorithm"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
		OriginalType   string `json:"original_type"`
	} `json:"resource"`
}

// ---- merchant server ----

// received is one notify the merchant server got.
type received struct {
	Header http.Header
	Body   []byte
}

// merchantServer receives notifies and answers them with answer.
type merchantServer struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) (int, string) // n counts from 1
}

func newMerchantServer(t *testing.T) *merchantServer {
	ms := &merchantServer{answer: func(int, received) (int, string) {
		return 200, "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
	}}
	ms.Server = httptest.NewServer(handlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc := received{Header: r.Header.Clone(), Body: b}
		ms.mu.Lock()
		ms.got = append(ms.got, rc)
		n, answer := len(ms.got), ms.answer
		ms.mu.Unlock()
		status, body := answer(n, rc)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ms.Close)
	return ms
}

func (ms *merchantServer) setAnswer(f func(n int, r received) (int, string)) {
	ms.mu.Lock()
	ms.answer = f
	ms.mu.Unlock()
}

func (ms *merchantServer) received() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.got...)
}

const (
	v2Success = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
	v2FailAns = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[500]]></return_msg></xml>"
)

// newRequest builds an in-process request with an optional body.
func newRequest(t *testing.T, method, target string, body ...string) *http.Request {
	t.Helper()
	var rd io.Reader
	if len(body) > 0 && body[0] != "" {
		rd = strings.NewReader(body[0])
	}
	return httptest.NewRequestWithContext(t.Context(), method, target, rd)
}

// serveHTTP serves req in-process.
func serveHTTP(e *Emulator, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}
