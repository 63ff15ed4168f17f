package payv3

// The fake WeChat Pay platform of the tests. Its crypto is written here
// against crypto/rsa, crypto/aes and crypto/cipher directly and calls none
// of the package's signing, verification or decryption code, so that a
// mistake in the package cannot be mirrored by the test.

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKeys are the RSA keys of the tests, generated once per run.
type testKeys struct {
	merchant *rsa.PrivateKey // the merchant's API key
	cert     *rsa.PrivateKey // the platform certificate's key
	cert2    *rsa.PrivateKey // the next platform certificate's key (rotation)
	pub      *rsa.PrivateKey // the WeChat Pay public key's private half
	stranger *rsa.PrivateKey // a key nobody trusts
}

var keys = sync.OnceValue(func() testKeys {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	return testKeys{merchant: gen(), cert: gen(), cert2: gen(), pub: gen(), stranger: gen()}
})

const (
	testMchID          = "1900000109"
	testMerchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	testAppID          = "wx0123456789abcdef"
	testAPIv3Key       = "0123456789abcdefghijABCDEFGHIJ01"
	testPubKeyID       = "PUB_KEY_ID_0119000001092024101100000000000001"
	testNotifyURL      = "https://merchant.example.com/pay/v3/notify/1900000109"
)

// testNow is the start of the clock of the platform tests.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))

// testClock is a clock that tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// selfSigned makes a platform certificate for key with the given serial,
// valid from notBefore to notAfter.
func selfSigned(t testing.TB, key *rsa.PrivateKey, serial int64, notBefore, notAfter time.Time) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "Tenpay.com Root CA test"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// pubPEM encodes a public key as the merchant platform serves it.
func pubPEM(t testing.TB, k *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// platformKey is one signing key of the platform.
type platformKey struct {
	serial  string
	key     *rsa.PrivateKey
	certPEM []byte // nil for the public key
}

// platformMode is how the platform signs, as the emulator has it.
type platformMode string

const (
	modePublicKey   platformMode = "public_key"
	modeCertificate platformMode = "certificate"
	modeBoth        platformMode = "both"
)

type platformOrder struct {
	AppID, OutTradeNo, PrepayID, TransactionID, OpenID, Description string
	Total                                                           int64
	State                                                           string
	Refunded                                                        int64
}

type platformRefund struct {
	OutRefundNo, RefundID, OutTradeNo, TransactionID, Status string
	Refund, Total                                            int64
}

// authRecord is a request's Authorization as the platform parsed it.
type authRecord struct {
	Schema string
	Keys   []string // parameter names in order
	Params map[string]string
}

// platform is the fake api.mch.weixin.qq.com.
type platform struct {
	t     testing.TB
	clock *testClock
	now   func() time.Time
	mode  platformMode

	mu         sync.Mutex
	certKeys   []platformKey // served by /v3/certificates; the last one signs
	pubKey     platformKey
	n          int // signed replies, for alternating in both mode
	orders     map[string]*platformOrder
	refunds    map[string]*platformRefund
	nonces     map[string]bool
	auths      []authRecord
	signedBy   []string // serial of every signed reply
	hits       map[string]int
	refundsRun int
	// hooks
	forge      map[string]bool  // path → sign the next reply wrongly
	status     map[string][]int // path → statuses served first (then normal)
	signWith   *platformKey     // sign every reply with this key instead
	skewed     time.Duration    // reply timestamps this far off
	tamperCert bool             // corrupt the encrypted certificates
	// trade bills (bill_test.go)
	base     string            // the server's base URL, for download_url
	bills    map[string][]byte // bill_date → bill text
	billHash string            // hash_value to give instead of the bill's
}

// newPlatform starts a platform in mode on an httptest server whose base
// URL carries a path prefix that must not be lost.
func newPlatform(t testing.TB, mode platformMode) (*platform, string) {
	t.Helper()
	k := keys()
	_, certPEM := selfSigned(t, k.cert, 0x1A2B3C4D5E6F, testNow.Add(-24*time.Hour), testNow.Add(365*24*time.Hour))
	clock := &testClock{t: testNow}
	p := &platform{
		t:        t,
		clock:    clock,
		now:      clock.Now,
		mode:     mode,
		certKeys: []platformKey{{serial: "1A2B3C4D5E6F", key: k.cert, certPEM: certPEM}},
		pubKey:   platformKey{serial: testPubKeyID, key: k.pub},
		orders:   map[string]*platformOrder{},
		refunds:  map[string]*platformRefund{},
		nonces:   map[string]bool{},
		hits:     map[string]int{},
		forge:    map[string]bool{},
		status:   map[string][]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/pay/transactions/jsapi", p.prepay("jsapi"))
	mux.HandleFunc("POST /v3/pay/transactions/native", p.prepay("native"))
	mux.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", p.query)
	mux.HandleFunc("GET /v3/pay/transactions/id/{id}", p.query)
	mux.HandleFunc("POST /v3/pay/transactions/out-trade-no/{no}/close", p.closeOrder)
	mux.HandleFunc("POST /v3/refund/domestic/refunds", p.refund)
	mux.HandleFunc("GET /v3/refund/domestic/refunds/{no}", p.queryRefund)
	mux.HandleFunc("GET /v3/certificates", p.certificates)
	mux.HandleFunc("GET /v3/bill/tradebill", p.tradeBill)
	mux.HandleFunc("GET /v3/billdownload/file", p.billFile)
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", p.authenticate(mux)))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s lost the base URL's path prefix", r.URL.Path)
		http.Error(w, "no prefix", http.StatusNotFound)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	p.base = srv.URL + "/prefix/"
	return p, p.base
}

// certPEM returns the PEM of the current platform certificate.
func (p *platform) certPEM() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.certKeys[len(p.certKeys)-1].certPEM
}

// rotate adds a new platform certificate that signs from now on.
func (p *platform) rotate(t testing.TB) string {
	_, certPEM := selfSigned(t, keys().cert2, 0x0F00BA4, testNow.Add(-time.Hour), testNow.Add(365*24*time.Hour))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.certKeys = append(p.certKeys, platformKey{serial: "0F00BA4", key: keys().cert2, certPEM: certPEM})
	return "F00BA4"
}

// signingKey picks the key of the next signed reply or notify.
func (p *platform) signingKey() platformKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signWith != nil {
		return *p.signWith
	}
	p.n++
	switch {
	case p.mode == modePublicKey, p.mode == modeBoth && p.n%2 == 0:
		return p.pubKey
	}
	return p.certKeys[len(p.certKeys)-1]
}

// sign returns the Wechatpay-* headers of body, signed by k.
func (p *platform) sign(k platformKey, body []byte, ts time.Time) http.Header {
	nonce := rand.Text()
	tss := strconv.FormatInt(ts.Unix(), 10)
	h := sha256.Sum256([]byte(tss + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(nil, k.key, crypto.SHA256, h[:])
	if err != nil {
		p.t.Errorf("platform: sign: %v", err)
	}
	return http.Header{
		"Wechatpay-Serial":         {k.serial},
		"Wechatpay-Timestamp":      {tss},
		"Wechatpay-Nonce":          {nonce},
		"Wechatpay-Signature":      {base64.StdEncoding.EncodeToString(sig)},
		"Wechatpay-Signature-Type": {"WECHATPAY2-SHA256-RSA2048"},
	}
}

// reply writes a signed reply (a nil v means an empty body).
func (p *platform) reply(w http.ResponseWriter, r *http.Request, status int, v any) {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			p.t.Errorf("platform: %v", err)
		}
	}
	k := p.signingKey()
	hdr := p.sign(k, body, p.now().Add(p.skewed))
	p.mu.Lock()
	if p.forge[r.URL.Path] {
		delete(p.forge, r.URL.Path)
		hdr.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 256)))
	}
	p.signedBy = append(p.signedBy, k.serial)
	p.mu.Unlock()
	for name, v := range hdr {
		w.Header()[name] = v
	}
	w.Header().Set("Request-ID", "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0")
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(body)
}

func (p *platform) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	p.reply(w, r, status, map[string]string{"code": code, "message": msg})
}

// authenticate checks every request's Authorization header independently
// and answers 401 SIGN_ERROR when it does not verify; it also serves the
// statuses queued for a path.
func (p *platform) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.mu.Lock()
		p.hits[r.URL.Path]++
		var queued int
		if q := p.status[r.URL.Path]; len(q) > 0 {
			queued, p.status[r.URL.Path] = q[0], q[1:]
		}
		p.mu.Unlock()
		if err := p.checkAuthorization(r, body); err != nil {
			p.fail(w, r, http.StatusUnauthorized, "SIGN_ERROR", err.Error())
			return
		}
		if queued != 0 {
			p.fail(w, r, queued, "SYSTEM_ERROR", "系统错误")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *platform) checkAuthorization(r *http.Request, body []byte) error {
	h := r.Header.Get("Authorization")
	schema, rest, ok := strings.Cut(h, " ")
	if !ok || schema != "WECHATPAY2-SHA256-RSA2048" {
		return fmt.Errorf("schema %q", schema)
	}
	rec := authRecord{Schema: schema, Params: map[string]string{}}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return fmt.Errorf("parameter %q", kv)
		}
		rec.Keys = append(rec.Keys, k)
		rec.Params[k] = v[1 : len(v)-1]
	}
	p.mu.Lock()
	p.auths = append(p.auths, rec)
	seen := p.nonces[rec.Params["nonce_str"]]
	p.nonces[rec.Params["nonce_str"]] = true
	p.mu.Unlock()
	if rec.Params["mchid"] != testMchID || rec.Params["serial_no"] != testMerchantSerial {
		return fmt.Errorf("mchid %q serial_no %q", rec.Params["mchid"], rec.Params["serial_no"])
	}
	if seen || rec.Params["nonce_str"] == "" {
		return fmt.Errorf("nonce %q reused or empty", rec.Params["nonce_str"])
	}
	ts, err := strconv.ParseInt(rec.Params["timestamp"], 10, 64)
	if err != nil || ts < p.now().Unix()-300 || ts > p.now().Unix()+300 {
		return fmt.Errorf("timestamp %q", rec.Params["timestamp"])
	}
	sig, err := base64.StdEncoding.DecodeString(rec.Params["signature"])
	if err != nil {
		return err
	}
	msg := r.Method + "\n" + r.RequestURI + "\n" + rec.Params["timestamp"] + "\n" + rec.Params["nonce_str"] + "\n" + string(body) + "\n"
	sum := sha256.Sum256([]byte(msg))
	return rsa.VerifyPKCS1v15(&keys().merchant.PublicKey, crypto.SHA256, sum[:], sig)
}

func (p *platform) prepay(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			AppID       string `json:"appid"`
			MchID       string `json:"mchid"`
			Description string `json:"description"`
			OutTradeNo  string `json:"out_trade_no"`
			NotifyURL   string `json:"notify_url"`
			Amount      struct {
				Total    int64  `json:"total"`
				Currency string `json:"currency"`
			} `json:"amount"`
			Payer *struct {
				OpenID string `json:"openid"`
			} `json:"payer"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MchID != testMchID || req.NotifyURL == "" ||
			req.Amount.Currency != "CNY" || (kind == "jsapi" && req.Payer == nil) {
			p.fail(w, r, 400, "PARAM_ERROR", "参数错误")
			return
		}
		p.mu.Lock()
		o, ok := p.orders[req.OutTradeNo]
		if !ok {
			o = &platformOrder{AppID: req.AppID, OutTradeNo: req.OutTradeNo, Total: req.Amount.Total, State: "NOTPAY",
				PrepayID: "wx" + rand.Text(), Description: req.Description}
			if req.Payer != nil {
				o.OpenID = req.Payer.OpenID
			}
			p.orders[req.OutTradeNo] = o
		}
		state, total, prepayID := o.State, o.Total, o.PrepayID
		p.mu.Unlock()
		switch {
		case state == "SUCCESS":
			p.fail(w, r, 400, "ORDERPAID", "该订单已支付")
		case total != req.Amount.Total:
			p.fail(w, r, 400, "INVALID_REQUEST", "201 商户订单号重复")
		case kind == "jsapi":
			p.reply(w, r, 200, map[string]string{"prepay_id": prepayID})
		default:
			p.reply(w, r, 200, map[string]string{"code_url": "weixin://wxpay/bizpayurl?pr=" + prepayID})
		}
	}
}

// pay marks an order paid, as the user would.
func (p *platform) pay(outTradeNo string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.orders[outTradeNo]
	o.State, o.TransactionID = "SUCCESS", "4200000000"+strconv.Itoa(len(p.orders))+"2025030112345678"
	return o.TransactionID
}

func (p *platform) transactionJSON(o *platformOrder) map[string]any {
	t := map[string]any{
		"appid": o.AppID, "mchid": testMchID, "out_trade_no": o.OutTradeNo, "trade_state": o.State,
		"trade_state_desc": "", "amount": map[string]any{"total": o.Total, "currency": "CNY"},
	}
	if o.State == "SUCCESS" || o.State == "REFUND" {
		t["transaction_id"] = o.TransactionID
		t["trade_type"] = "JSAPI"
		t["bank_type"] = "OTHERS"
		t["success_time"] = testNow.Format(time.RFC3339)
		t["payer"] = map[string]string{"openid": o.OpenID}
		t["amount"] = map[string]any{"total": o.Total, "payer_total": o.Total, "currency": "CNY", "payer_currency": "CNY"}
	}
	return t
}

func (p *platform) query(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("mchid") != testMchID {
		p.fail(w, r, 400, "PARAM_ERROR", "mchid")
		return
	}
	p.mu.Lock()
	var found *platformOrder
	for _, o := range p.orders {
		if (r.PathValue("no") != "" && o.OutTradeNo == r.PathValue("no")) ||
			(r.PathValue("id") != "" && o.TransactionID != "" && o.TransactionID == r.PathValue("id")) {
			found = o
		}
	}
	var body map[string]any
	if found != nil {
		body = p.transactionJSON(found)
	}
	p.mu.Unlock()
	if found == nil {
		p.fail(w, r, 404, "ORDER_NOT_EXIST", "订单不存在")
		return
	}
	p.reply(w, r, 200, body)
}

func (p *platform) closeOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MchID string `json:"mchid"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.MchID != testMchID {
		p.fail(w, r, 400, "PARAM_ERROR", "mchid")
		return
	}
	p.mu.Lock()
	o := p.orders[r.PathValue("no")]
	state := ""
	if o != nil {
		state = o.State
		if state == "NOTPAY" {
			o.State = "CLOSED"
		}
	}
	p.mu.Unlock()
	switch state {
	case "":
		p.fail(w, r, 404, "ORDER_NOT_EXIST", "订单不存在")
	case "SUCCESS", "REFUND":
		p.fail(w, r, 400, "ORDERPAID", "该订单已支付")
	default:
		p.reply(w, r, 204, nil)
	}
}

func (p *platform) refundJSON(f *platformRefund) map[string]any {
	return map[string]any{
		"refund_id": f.RefundID, "out_refund_no": f.OutRefundNo, "transaction_id": f.TransactionID,
		"out_trade_no": f.OutTradeNo, "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
		"create_time": testNow.Format(time.RFC3339), "status": f.Status, "funds_account": "AVAILABLE",
		"amount": map[string]any{"total": f.Total, "refund": f.Refund, "payer_total": f.Total, "payer_refund": f.Refund,
			"settlement_refund": f.Refund, "settlement_total": f.Total, "discount_refund": 0, "currency": "CNY"},
	}
}

func (p *platform) refund(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
		Amount      struct {
			Refund   int64  `json:"refund"`
			Total    int64  `json:"total"`
			Currency string `json:"currency"`
		} `json:"amount"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.Amount.Currency != "CNY" {
		p.fail(w, r, 400, "PARAM_ERROR", "参数错误")
		return
	}
	p.mu.Lock()
	o := p.orders[req.OutTradeNo]
	f, dup := p.refunds[req.OutRefundNo]
	code := ""
	switch {
	case dup:
	case o == nil || (o.State != "SUCCESS" && o.State != "REFUND"):
		code = "RESOURCE_NOT_EXISTS"
	case o.Refunded+req.Amount.Refund > o.Total:
		code = "NOT_ENOUGH"
	default:
		o.Refunded += req.Amount.Refund
		o.State = "REFUND"
		p.refundsRun++
		f = &platformRefund{OutRefundNo: req.OutRefundNo, RefundID: "5030" + rand.Text(), OutTradeNo: o.OutTradeNo,
			TransactionID: o.TransactionID, Status: "PROCESSING", Refund: req.Amount.Refund, Total: o.Total}
		p.refunds[req.OutRefundNo] = f
	}
	var body map[string]any
	if f != nil {
		body = p.refundJSON(f)
	}
	p.mu.Unlock()
	switch code {
	case "RESOURCE_NOT_EXISTS":
		p.fail(w, r, 404, code, "订单不存在")
	case "NOT_ENOUGH":
		p.fail(w, r, 403, code, "基本账户余额不足")
	default:
		p.reply(w, r, 200, body)
	}
}

func (p *platform) queryRefund(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	f := p.refunds[r.PathValue("no")]
	var body map[string]any
	if f != nil {
		body = p.refundJSON(f)
	}
	p.mu.Unlock()
	if f == nil {
		p.fail(w, r, 404, "RESOURCE_NOT_EXISTS", "退款单不存在")
		return
	}
	p.reply(w, r, 200, body)
}

// sealGCM encrypts plaintext as the platform does (AES-GCM, APIv3 key).
func sealGCM(t testing.TB, key, nonce, aad string, plaintext []byte) string {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plaintext, []byte(aad)))
}

func (p *platform) certificates(w http.ResponseWriter, r *http.Request) {
	if p.mode == modePublicKey {
		p.fail(w, r, 404, "RESOURCE_NOT_EXISTS", "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/doc/v3/merchant/4012153196")
		return
	}
	p.mu.Lock()
	ks := append([]platformKey(nil), p.certKeys...)
	tamper := p.tamperCert
	p.mu.Unlock()
	var data []map[string]any
	for _, k := range ks {
		nonce := rand.Text()[:12]
		ct := sealGCM(p.t, testAPIv3Key, nonce, "certificate", k.certPEM)
		if tamper {
			ct = sealGCM(p.t, "ffffffffffffffffffffffffffffffff", nonce, "certificate", k.certPEM)
		}
		data = append(data, map[string]any{
			"serial_no":      k.serial,
			"effective_time": testNow.Add(-24 * time.Hour).Format(time.RFC3339),
			"expire_time":    testNow.Add(365 * 24 * time.Hour).Format(time.RFC3339),
			"encrypt_certificate": map[string]string{
				"algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": "certificate", "ciphertext": ct,
			},
		})
	}
	p.reply(w, r, 200, map[string]any{"data": data})
}

// notify builds a signed, encrypted notify of event with plaintext as the
// platform pushes it, signed by k at ts.
func (p *platform) notify(t testing.TB, k platformKey, ts time.Time, event string, plaintext []byte) (http.Header, []byte) {
	t.Helper()
	nonce := rand.Text()[:12]
	aad := "transaction"
	if strings.HasPrefix(event, "REFUND.") {
		aad = "refund"
	}
	body, err := json.Marshal(map[string]any{
		"id": "EV-" + rand.Text(), "create_time": ts.Format(time.RFC3339), "resource_type": "encrypt-resource",
		"event_type": event, "summary": "支付成功",
		"resource": map[string]string{"original_type": aad, "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": sealGCM(t, testAPIv3Key, nonce, aad, plaintext), "associated_data": aad, "nonce": nonce},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := p.sign(k, body, ts)
	h.Set("Content-Type", "application/json")
	return h, body
}
