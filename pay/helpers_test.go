package pay

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file is the platform's side of the wire for the tests: it parses,
// verifies and signs with code of its own (encoding/xml's struct decoding
// and a separate signer), never with the package's DecodeXML, Sign or
// CheckSign, so that a bug in those cannot hide itself.

// wireSign is an independent implementation of the v2 sign.
func wireSign(fields map[string]string, key string, signType SignType) string {
	var keys []string
	for k, v := range fields {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, k+"="+fields[k])
	}
	parts = append(parts, "key="+key)
	msg := []byte(strings.Join(parts, "&"))
	var sum []byte
	if signType == SignTypeHMACSHA256 {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(msg)
		sum = mac.Sum(nil)
	} else {
		s := md5.Sum(msg)
		sum = s[:]
	}
	return strings.ToUpper(hex.EncodeToString(sum))
}

// wireDoc decodes a flat document with encoding/xml's struct decoding.
type wireDoc struct {
	XMLName xml.Name
	Fields  []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

func wireParse(t testing.TB, body []byte) map[string]string {
	t.Helper()
	var d wireDoc
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Fatalf("platform: request is not XML: %v\n%s", err, body)
	}
	if d.XMLName.Local != "xml" {
		t.Fatalf("platform: root element <%s>, want <xml>", d.XMLName.Local)
	}
	m := map[string]string{}
	for _, f := range d.Fields {
		if _, dup := m[f.XMLName.Local]; dup {
			t.Fatalf("platform: field %s sent twice", f.XMLName.Local)
		}
		m[f.XMLName.Local] = f.Value
	}
	return m
}

// wireRender renders fields as the platform does (CDATA everywhere).
func wireRender(fields map[string]string) []byte {
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("<xml>\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  <%s><![CDATA[%s]]></%s>\n", k, fields[k], k)
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}

// signed returns a copy of fields with a sign.
func signed(fields map[string]string, key string, signType SignType) map[string]string {
	c := make(map[string]string, len(fields)+1)
	for k, v := range fields {
		c[k] = v
	}
	c["sign"] = wireSign(c, key, signType)
	return c
}

// Test merchant.
const (
	testAppID  = "wx0123456789abcdef"
	testMchID  = "1900000109"
	testKey    = "8934e7d15453e97507ef794cf7b0519d" // 32 characters, as the merchant platform sets
	testNonce  = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
	basePrefix = "/mch/" // the base URL's path; a client that loses it hits a 404
)

// platform is an httptest server acting as api.mch.weixin.qq.com.
type platform struct {
	t        testing.TB
	srv      *httptest.Server
	mux      *http.ServeMux
	key      string
	signType SignType

	mu       sync.Mutex
	requests []map[string]string // every request received, verified
}

// reply is what a handler answers: fields to sign and send, or a raw
// body and status.
type reply struct {
	fields   map[string]string // signed unless unsigned is set
	unsigned bool
	raw      []byte
	status   int
}

func newPlatform(t testing.TB, signType SignType) *platform {
	p := &platform{t: t, mux: http.NewServeMux(), key: testKey, signType: signType}
	p.srv = httptest.NewServer(p.mux)
	t.Cleanup(p.srv.Close)
	return p
}

// newTLSPlatform is newPlatform over TLS, asking for client certificates
// issued by clientCAs with the given policy.
func newTLSPlatform(t testing.TB, signType SignType, auth tls.ClientAuthType, clientCAs *x509.CertPool) *platform {
	p := &platform{t: t, mux: http.NewServeMux(), key: testKey, signType: signType}
	p.srv = httptest.NewUnstartedServer(p.mux)
	p.srv.TLS = &tls.Config{ClientAuth: auth, ClientCAs: clientCAs, MinVersion: tls.VersionTLS12}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	return p
}

// handle serves path: it checks the method, content type and the request's
// sign (with the client's sign type), records the request and writes fn's
// reply.
func (p *platform) handle(path string, fn func(req map[string]string) reply) {
	p.mux.HandleFunc(basePrefix+path, func(w http.ResponseWriter, r *http.Request) {
		p.t.Helper()
		if r.Method != http.MethodPost {
			p.t.Errorf("platform: %s %s, want POST", r.Method, path)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
			p.t.Errorf("platform: Content-Type %q, want text/xml", ct)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			p.t.Errorf("platform: read: %v", err)
			return
		}
		req := wireParse(p.t, body)
		if st := req["sign_type"]; st != string(p.signType) {
			p.t.Errorf("platform: sign_type %q, want %q", st, p.signType)
		}
		if got, want := req["sign"], wireSign(req, p.key, p.signType); got != want {
			p.t.Errorf("platform: request sign %s, want %s", got, want)
		}
		p.mu.Lock()
		p.requests = append(p.requests, req)
		p.mu.Unlock()
		rep := fn(req)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		if rep.status != 0 {
			w.WriteHeader(rep.status)
		}
		switch {
		case rep.raw != nil:
			w.Write(rep.raw)
		case rep.unsigned:
			w.Write(wireRender(rep.fields))
		default:
			w.Write(wireRender(signed(rep.fields, p.key, p.signType)))
		}
	})
}

// received returns the requests received so far.
func (p *platform) received() []map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]string(nil), p.requests...)
}

// client returns a Client for the platform with a fixed nonce.
func (p *platform) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{
		WithBaseURL(p.srv.URL + basePrefix),
		WithHTTPClient(p.srv.Client()),
		WithSignType(p.signType),
		WithNonce(func() string { return testNonce }),
	}, opts...)
	c, err := NewClient(testAppID, testMchID, testKey, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// ok returns the fields of a successful reply plus extra.
func ok(extra map[string]string) map[string]string {
	m := map[string]string{
		"return_code": "SUCCESS",
		"return_msg":  "OK",
		"appid":       testAppID,
		"mch_id":      testMchID,
		"nonce_str":   "IITRi8Iabbblz1Jc",
		"result_code": "SUCCESS",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// without returns a copy of m without the keys.
func without(m map[string]string, keys ...string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	for _, k := range keys {
		delete(c, k)
	}
	return c
}

// mustChinaTime parses v in layout at UTC+8, independently of the package.
func mustChinaTime(t *testing.T, layout, v string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation(layout, v, time.FixedZone("UTC+8", 8*3600))
	if err != nil {
		t.Fatalf("time %q: %v", v, err)
	}
	return tm
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
