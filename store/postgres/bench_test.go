package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
)

// BenchmarkAppendMessages logs batches of 64 new messages; ns/op is per
// batch.
func BenchmarkAppendMessages(b *testing.B) {
	db := newMigrated(b)
	const batch = 64
	msgs := make([]*store.LoggedMessage, batch)
	req := []byte("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Content><![CDATA[hello]]></Content></xml>")
	seq := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range msgs {
			seq++
			msgs[i] = &store.LoggedMessage{AppID: "wxbench", DedupKey: fmt.Sprint("msg:", seq), FromUser: "oUser",
				ToUser: "gh_1", MsgType: "text", MsgID: int64(seq), CreateTime: t0.Unix(), ReceivedAt: t0, Request: req}
		}
		if err := db.AppendMessages(b.Context(), msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
}

// BenchmarkDedupClaimComplete is the dedup work of one push: Claim of a
// new key, then Complete with a reply.
func BenchmarkDedupClaimComplete(b *testing.B) {
	d := newMigrated(b).Dedup()
	reply := []byte("<xml><Content><![CDATA[ok]]></Content></xml>")
	seq := 0
	b.ReportAllocs()
	for b.Loop() {
		seq++
		key := fmt.Sprint("msg:", seq)
		if c, err := d.Claim(b.Context(), key, time.Minute); err != nil || c.State != webhook.ClaimOwned {
			b.Fatalf("Claim() = %v, %v", c, err)
		}
		if err := d.Complete(b.Context(), key, reply, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDedupClaimCompleteParallel is BenchmarkDedupClaimComplete from
// many goroutines at once, whose statements are grouped.
func BenchmarkDedupClaimCompleteParallel(b *testing.B) {
	d := newMigrated(b).Dedup()
	reply := []byte("<xml><Content><![CDATA[ok]]></Content></xml>")
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("msg:", seq.Add(1))
			if c, err := d.Claim(b.Context(), key, time.Minute); err != nil || c.State != webhook.ClaimOwned {
				b.Errorf("Claim() = %v, %v", c, err)
				return
			}
			if err := d.Complete(b.Context(), key, reply, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
