package webhook

import (
	"bytes"
	"errors"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
)

// queryKeys are the parameters parseQuery reads, with the field each fills.
var queryKeys = []struct {
	key string
	get func(q *query) string
}{
	{"signature", func(q *query) string { return q.signature }},
	{"timestamp", func(q *query) string { return q.timestamp }},
	{"nonce", func(q *query) string { return q.nonce }},
	{"openid", func(q *query) string { return q.openID }},
	{"echostr", func(q *query) string { return q.echostr }},
	{"encrypt_type", func(q *query) string { return q.encryptType }},
	{"msg_signature", func(q *query) string { return q.msgSignature }},
}

// FuzzParseQuery checks parseQuery on any raw query against net/url:
//   - it never panics;
//   - when url.ParseQuery accepts a query whose keys need no unescaping,
//     every field is the first non-empty value url.ParseQuery reads for
//     its key, and parseQuery does not fail;
//   - when parseQuery fails, url.ParseQuery fails too;
//   - values escaped with url.QueryEscape come back unchanged;
//   - a parsed timestamp is the non-negative number the parameter spells.
func FuzzParseQuery(f *testing.F) {
	f.Add("signature=2bd8b8b0&timestamp=1409735669&nonce=1320562132&openid=oUser&encrypt_type=aes&msg_signature=ab12", "x")
	f.Add("timestamp=&timestamp=12&nonce=a%20b+c&echostr=%zz", "%+&= é")
	f.Add("echostr=%E4%B8%AD&signature=&signature=s&x=%zz&;=1", "\x00")
	f.Add("timestamp=-1&nonce", "")
	f.Add("timestamp=99999999999999999999", "a&b=c")
	f.Fuzz(func(t *testing.T, raw, value string) {
		q, err := parseQuery(raw)
		if q.parseTimestamp() {
			ts, perr := strconv.ParseInt(q.timestamp, 10, 64)
			if perr != nil || ts != q.ts || ts < 0 || len(q.timestamp) > 19 {
				t.Fatalf("parseTimestamp accepted %q as %d", q.timestamp, q.ts)
			}
		}

		vals, uerr := url.ParseQuery(raw)
		if err != nil && uerr == nil {
			t.Fatalf("parseQuery(%q) = %v; url.ParseQuery accepts it", raw, err)
		}
		if uerr == nil && !strings.ContainsAny(keysOf(raw), "%+") {
			for _, k := range queryKeys {
				want := ""
				for _, v := range vals[k.key] {
					if v != "" {
						want = v
						break
					}
				}
				if got := k.get(&q); got != want {
					t.Fatalf("parseQuery(%q).%s = %q; url.ParseQuery reads %q", raw, k.key, got, want)
				}
			}
		}

		// Round trip: every parameter carrying value, escaped.
		var sb strings.Builder
		for i, k := range queryKeys {
			if i > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(k.key + "=" + url.QueryEscape(value))
		}
		q2, err := parseQuery(sb.String())
		if err != nil {
			t.Fatalf("parseQuery(%q) = %v", sb.String(), err)
		}
		for _, k := range queryKeys {
			if got := k.get(&q2); got != value {
				t.Fatalf("escaped %s = %q came back as %q", k.key, value, got)
			}
		}
	})
}

// keysOf returns the keys of a raw query, joined.
func keysOf(raw string) string {
	var sb strings.Builder
	for kv := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(kv, "=")
		sb.WriteString(k)
	}
	return sb.String()
}

// FuzzEncryptElement checks the envelope fast path against
// message.ParseEnvelope:
//   - it never panics, and what it returns is a non-empty part of the body
//     with no markup or entity in it;
//   - when ParseEnvelope accepts a body with one <Encrypt> start tag and
//     the fast path finds it, both read the same ciphertext (the fast path
//     leaves the trimming of a CDATA section to base64 decoding);
//   - an <Encrypt> below the top level or inside CDATA, a comment or a
//     processing instruction is never taken for the real one.
func FuzzEncryptElement(f *testing.F) {
	for _, p := range corpus.Glob(f, "messages/*.xml") {
		b := corpus.ReadFile(f, "messages", filepath.Base(p))
		f.Add(b)
		// The compatible-mode shape: the plaintext with <Encrypt> added.
		end := bytes.LastIndex(b, []byte("</"))
		f.Add(append(append(bytes.Clone(b[:end]), "<Encrypt><![CDATA[QUJD]]></Encrypt>"...), b[end:]...))
	}
	f.Add([]byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[QUJD]]></Encrypt></xml>"))
	f.Add([]byte("<xml><Encrypt>\n QUJD \n</Encrypt></xml>"))
	f.Add([]byte("<xml><A><Encrypt>inner</Encrypt></A><!-- <Encrypt>c</Encrypt> --><?pi <Encrypt>p</Encrypt>?><Encrypt a='1'>real</Encrypt></xml>"))
	f.Add([]byte("<xml><Content><![CDATA[<Encrypt>fake</Encrypt>]]></Content><Encrypt/><Encrypt>x&amp;y</Encrypt></xml>"))
	f.Add([]byte(`<xml><A b="/>"><Encrypt>nested</Encrypt></A></xml>`))
	f.Add([]byte(`<xml><A><?x > </z> ?><Encrypt>nested</Encrypt></A></xml>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		enc, ok := encryptElement(b)
		if !ok {
			return
		}
		if len(enc) == 0 || !bytes.Contains(b, enc) || bytes.ContainsAny(enc, "<&") {
			t.Fatalf("encryptElement(%q) = %q", b, enc)
		}
		env, err := message.ParseEnvelope(b)
		if errors.Is(err, message.ErrMissingField) {
			t.Fatalf("encryptElement(%q) = %q, but the body has no top-level <Encrypt>", b, enc)
		}
		if err != nil {
			return
		}
		if bytes.Count(b, []byte("<Encrypt")) != 1 {
			return
		}
		if got := strings.TrimSpace(string(enc)); got != env.Encrypt {
			t.Fatalf("encryptElement(%q) = %q; ParseEnvelope reads %q", b, got, env.Encrypt)
		}
	})
}
