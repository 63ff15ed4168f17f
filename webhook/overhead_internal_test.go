package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/wxkit/wxkit/message"
)

// BenchmarkOverhead isolates the Server's own steps on the hot path.
func BenchmarkOverhead(b *testing.B) {
	// A HandlerFunc runs on a goroutine; NotFound is an ImmediateHandler.
	s := &Server{Token: "t", Handler: HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) { return nil, nil })}
	si := &Server{Token: "t", Handler: NotFound}
	for _, s := range []*Server{s, si} {
		if err := s.Init(); err != nil {
			b.Fatal(err)
		}
	}
	m := &message.Message{MsgType: message.MsgTypeText, MsgID: 1}
	b.Run("ContextWithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = ctx.Done() // the Server selects on it
			cancel()
		}
	})
	b.Run("HandlerGoroutine", func(b *testing.B) {
		b.ReportAllocs()
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for b.Loop() {
			s.call(ctx, m)
		}
	})
	b.Run("HandlerImmediate", func(b *testing.B) {
		b.ReportAllocs()
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		for b.Loop() {
			si.call(ctx, m)
		}
	})
	b.Run("MemoryDedupClaimComplete", func(b *testing.B) {
		d := &MemoryDedup{MaxEntries: 1024}
		ctx := context.Background()
		keys := make([]string, 4096)
		for i := range keys {
			keys[i] = (&message.Message{MsgID: int64(i + 1)}).DedupKey()
		}
		reply := make([]byte, 300)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := keys[i%len(keys)]
			d.Claim(ctx, k, time.Minute)
			d.Complete(ctx, k, reply, time.Minute)
			i++
		}
	})
	b.Run("ParseQuery", func(b *testing.B) {
		raw := "signature=0f5a4b0b6d5e0a3c8d1b7f6e2a9c4d3b1e0f5a4b&timestamp=1700000000&nonce=1234567890&openid=oUser_abcdefghijklmnopqrstuvw&encrypt_type=aes&msg_signature=0f5a4b0b6d5e0a3c8d1b7f6e2a9c4d3b1e0f5a4b"
		b.ReportAllocs()
		for b.Loop() {
			q, _ := parseQuery(raw)
			q.parseTimestamp()
		}
	})
}
