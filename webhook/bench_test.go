package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
	"github.com/wxkit/wxkit/wxcrypto"
)

// echoReply answers a text with the same content, as the gateway's
// default { echo: true } does.
func echoReply(_ context.Context, m *message.Message) (message.Reply, error) {
	return &message.Text{Content: m.Content}, nil
}

// benchRequests prepares n distinct pushes (distinct MsgIds, so that dedup
// does not short-circuit) whose bodies are re-read on every use.
type benchRequests struct {
	reqs    []*http.Request
	bodies  [][]byte
	readers []*bytes.Reader
	closers []io.ReadCloser
}

func newBenchRequests(b *testing.B, n int, mode webhook.Mode) *benchRequests {
	br := &benchRequests{}
	now := time.Now().Unix()
	for i := range n {
		xml := fmt.Appendf(nil, `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser_abcdefghijklmnopqrstuvw]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello, wxkit]]></Content><MsgId>%d</MsgId></xml>`, now, 24000000000000000+i)
		r := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, mode, &webhooktest.RequestOptions{Timestamp: now})
		body, err := io.ReadAll(r.Body)
		if err != nil {
			b.Fatal(err)
		}
		rd := bytes.NewReader(body)
		br.reqs = append(br.reqs, r)
		br.bodies = append(br.bodies, body)
		br.readers = append(br.readers, rd)
		br.closers = append(br.closers, io.NopCloser(rd))
	}
	return br
}

func (br *benchRequests) get(i int) *http.Request {
	i %= len(br.reqs)
	r := br.reqs[i]
	br.readers[i].Reset(br.bodies[i])
	r.Body = br.closers[i] // no allocation in the loop
	return r
}

// BenchmarkServerSafeEcho measures the whole in-process path of a
// safe-mode text push: query parse, msg_signature, decrypt, parse, memory
// dedup, handler under deadline, render, encrypt, sign, envelope.
func BenchmarkServerSafeEcho(b *testing.B) {
	benchServer(b, webhook.ModeSafe, webhook.HandlerFunc(echoReply))
}

// BenchmarkServerPlainEcho is the plain-mode counterpart.
func BenchmarkServerPlainEcho(b *testing.B) {
	benchServer(b, webhook.ModePlain, webhook.HandlerFunc(echoReply))
}

// BenchmarkServerSafeEchoImmediate is BenchmarkServerSafeEcho with a
// webhook.ImmediateHandler (as the gateway's fixed replies are): no handler
// goroutine.
func BenchmarkServerSafeEchoImmediate(b *testing.B) {
	benchServer(b, webhook.ModeSafe, immediateEcho{})
}

// BenchmarkServerPlainEchoImmediate is the plain-mode counterpart.
func BenchmarkServerPlainEchoImmediate(b *testing.B) {
	benchServer(b, webhook.ModePlain, immediateEcho{})
}

// immediateEcho is echoReply as a webhook.ImmediateHandler.
type immediateEcho struct{}

func (immediateEcho) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	return echoReply(ctx, m)
}

func (immediateEcho) ServeImmediate(m *message.Message) (message.Reply, bool, error) {
	r, err := echoReply(context.Background(), m)
	return r, true, err
}

func benchServer(b *testing.B, mode webhook.Mode, h webhook.Handler) {
	s := &webhook.Server{
		Token: testToken, AppID: testAppID, Mode: mode,
		Handler: h,
		Dedup:   &webhook.MemoryDedup{MaxEntries: 1024},
		Logger:  discardLogger(),
	}
	if mode != webhook.ModePlain {
		s.EncodingAESKey = testAESKey
	}
	br := newBenchRequests(b, 4096, mode) // cycled; older keys are evicted from the 1024-entry dedup
	w := httptest.NewRecorder()
	// Check once that the answer is the echo.
	s.ServeHTTP(w, br.get(0))
	if _, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes()); err != nil {
		b.Fatalf("reply: %v (%q)", err, w.Body)
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	i := 1
	for b.Loop() {
		w.Body.Reset()
		s.ServeHTTP(w, br.get(i))
		i++
	}
	// CPU time of the whole process (GC included) per message: steadier
	// than ns/op on a shared machine.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user+system CPU time consumed by the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCrypto isolates the crypto steps of the safe-mode path, for
// comparison with the whole.
func BenchmarkCrypto(b *testing.B) {
	c, _ := wxcrypto.NewCipher(testAESKey, testAppID)
	msg := []byte(`<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser_abcdefghijklmnopqrstuvw]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello, wxkit]]></Content><MsgId>24000000000000000</MsgId></xml>`)
	enc := c.EncryptWithRandom([]byte("0123456789abcdef"), msg)
	sig := wxcrypto.MsgSignature(testToken, "1700000000", "1234567890", enc)
	b.Run("CheckMsgSignature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			wxcrypto.CheckMsgSignature(sig, testToken, "1700000000", "1234567890", enc)
		}
	})
	b.Run("Decrypt", func(b *testing.B) {
		eb := []byte(enc)
		b.ReportAllocs()
		for b.Loop() {
			c.DecryptBytes(eb)
		}
	})
	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			message.Parse(msg)
		}
	})
}
