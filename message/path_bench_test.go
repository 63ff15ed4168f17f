package message_test

import (
	"crypto/rand"
	"strconv"
	"sync"
	"testing"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/wxcrypto"
)

// safeModeFixture is one loadgen-like safe-mode push: the POST body and the
// query values that come with it.
type safeModeFixture struct {
	cipher                  *wxcrypto.Cipher
	token, timestamp, nonce string
	msgSignature            string
	body                    []byte
}

func newSafeModeFixture(tb testing.TB) safeModeFixture {
	tb.Helper()
	const (
		token  = "benchtoken"
		aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
		appID  = "wx0123456789abcdef"
	)
	c, err := wxcrypto.NewCipher(aesKey, appID)
	if err != nil {
		tb.Fatal(err)
	}
	plain := "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oBench0000000000000000000042]]></FromUserName>" +
		"<CreateTime>1718000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello 你好 1000000000042]]></Content>" +
		"<MsgId>1000000000042</MsgId></xml>"
	enc, err := c.Encrypt([]byte(plain))
	if err != nil {
		tb.Fatal(err)
	}
	f := safeModeFixture{cipher: c, token: token, timestamp: "1718000000", nonce: "1320562132"}
	f.msgSignature = wxcrypto.MsgSignature(token, f.timestamp, f.nonce, enc)
	f.body = []byte("<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
	return f
}

// pathBuffers are the per-request scratch buffers a server would pool.
type pathBuffers struct {
	reply, enc, out []byte
}

var bufPool = sync.Pool{New: func() any {
	return &pathBuffers{reply: make([]byte, 0, 1024), enc: make([]byte, 0, 2048), out: make([]byte, 0, 2048)}
}}

// safeModeEcho runs the in-process path of a safe-mode text echo: parse the
// envelope, verify msg_signature, decrypt (checking the AppID), parse the
// message, render the text reply, encrypt it, sign it, and render the reply
// envelope. It returns the response body, appended to dst.
func safeModeEcho(f *safeModeFixture, dst []byte) ([]byte, error) {
	env, err := message.ParseEnvelope(f.body)
	if err != nil {
		return nil, err
	}
	if err := wxcrypto.CheckMsgSignature(f.msgSignature, f.token, f.timestamp, f.nonce, env.Encrypt); err != nil {
		return nil, err
	}
	plain, err := f.cipher.Decrypt(env.Encrypt)
	if err != nil {
		return nil, err
	}
	m, err := message.Parse(plain)
	if err != nil {
		return nil, err
	}
	bufs := bufPool.Get().(*pathBuffers)
	defer bufPool.Put(bufs)
	bufs.reply, err = message.AppendReply(bufs.reply[:0], m.FromUserName, m.ToUserName, m.CreateTime, &message.Text{Content: m.Content})
	if err != nil {
		return nil, err
	}
	var random [16]byte
	rand.Read(random[:])
	bufs.enc = f.cipher.AppendEncrypt(bufs.enc[:0], random[:], bufs.reply)
	enc := string(bufs.enc)
	sig := wxcrypto.MsgSignature(f.token, f.timestamp, f.nonce, enc)
	return message.AppendEnvelope(dst, enc, sig, f.timestamp, f.nonce), nil
}

func TestSafeModeEcho(t *testing.T) {
	f := newSafeModeFixture(t)
	out, err := safeModeEcho(&f, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := message.ParseEnvelope(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := wxcrypto.CheckMsgSignature(env.MsgSignature, f.token, env.TimeStamp, env.Nonce, env.Encrypt); err != nil {
		t.Errorf("reply signature: %v", err)
	}
	plain, err := f.cipher.Decrypt(env.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	r, err := message.ParseReply(plain)
	if err != nil {
		t.Fatal(err)
	}
	want := &message.ReplyMessage{ToUserName: "oBench0000000000000000000042", FromUserName: "gh_0123456789ab", CreateTime: 1718000000,
		MsgType: message.MsgTypeText, Reply: &message.Text{Content: "hello 你好 1000000000042"}}
	if r.ToUserName != want.ToUserName || r.FromUserName != want.FromUserName || r.MsgType != want.MsgType ||
		r.Reply.(*message.Text).Content != want.Reply.(*message.Text).Content || strconv.FormatInt(r.CreateTime, 10) != f.timestamp {
		t.Errorf("reply = %+v %+v, want %+v %+v", r, r.Reply, want, want.Reply)
	}
}

// BenchmarkSafeModePath measures the whole in-process safe-mode path (target
// ≤ 6 µs and ≤ 15 allocations per message, docs/DESIGN.md).
func BenchmarkSafeModePath(b *testing.B) {
	f := newSafeModeFixture(b)
	out := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		out, err = safeModeEcho(&f, out[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
}
