package sqlite

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
)

// benchMessage is a logged text message of about 800 bytes (request XML,
// reply XML and the columns), as a safe-mode push leaves after decryption.
func benchMessage(app string, n int, at time.Time) *store.LoggedMessage {
	content := strings.Repeat("你好 hello ", 20)
	req := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser%011d]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`,
		n%1000, at.Unix(), content, n)
	reply := fmt.Sprintf(`<xml><ToUserName><![CDATA[oUser%011d]]></ToUserName><FromUserName><![CDATA[gh_0123456789ab]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[echo]]></Content></xml>`, n%1000, at.Unix())
	return &store.LoggedMessage{AppID: app, DedupKey: fmt.Sprintf("msg:%d", n), FromUser: fmt.Sprintf("oUser%011d", n%1000),
		ToUser: "gh_0123456789ab", MsgType: "text", MsgID: int64(n), CreateTime: at.Unix(), ReceivedAt: at,
		Request: []byte(req), Reply: []byte(reply)}
}

// BenchmarkAppendMessages writes batches of new messages to a file
// database (WAL, synchronous=NORMAL) and reports the cost per row.
func BenchmarkAppendMessages(b *testing.B) {
	for _, batch := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db, err := Open("sqlite://" + filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(b.Context()); err != nil {
				b.Fatal(err)
			}
			at := time.UnixMilli(1_780_000_000_000)
			msgs := make([]*store.LoggedMessage, batch)
			for i := range msgs {
				msgs[i] = benchMessage("wx0123456789abcdef", i, at)
			}
			size := 0
			for _, m := range msgs {
				size += len(m.AppID) + len(m.DedupKey) + len(m.FromUser) + len(m.ToUser) + len(m.MsgType) + 8 + 8 + 8 + len(m.Request) + len(m.Reply)
			}
			b.SetBytes(int64(size))
			n := 0
			for b.Loop() {
				for _, m := range msgs {
					m.DedupKey = "msg:" + fmt.Sprint(n)
					n++
				}
				if err := db.AppendMessages(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/row")
			b.ReportMetric(float64(size)/float64(batch), "B/row")
		})
	}
}
