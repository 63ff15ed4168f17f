package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
)

// TestMessageLog checks a store.MessageLog: append, one record per
// (AppID, DedupKey) also under concurrency, queries, and pruning.
func TestMessageLog(t *testing.T, newStore func(t *testing.T) store.MessageLog) {
	t.Helper()
	msg := func(appID string, i int, at time.Time) *store.LoggedMessage {
		return &store.LoggedMessage{
			AppID: appID, DedupKey: fmt.Sprintf("msg:%d", 1000+i), FromUser: "oUser" + fmt.Sprint(i), ToUser: "gh_account",
			MsgType: "text", MsgID: int64(1000 + i), CreateTime: at.Unix(), ReceivedAt: at,
			Request: []byte(fmt.Sprintf("<xml><Content><![CDATA[hello %d 你好]]></Content></xml>", i)),
			Reply:   []byte(fmt.Sprintf("<xml><Content><![CDATA[world %d]]></Content></xml>", i)),
		}
	}

	t.Run("AppendAndRead", func(t *testing.T) {
		s := newStore(t)
		app := unique("wx")
		var want []*store.LoggedMessage
		for i := range 3 {
			want = append(want, msg(app, i, base.Add(time.Duration(i)*time.Second)))
		}
		// An event with no reply (answered "success") and no MsgId.
		evt := &store.LoggedMessage{AppID: app, DedupKey: "evt:oUser:1700000000:subscribe", FromUser: "oUser", ToUser: "gh_account",
			MsgType: "event", Event: "subscribe", CreateTime: 1700000000, ReceivedAt: base.Add(3 * time.Second),
			Request: []byte("<xml><Event><![CDATA[subscribe]]></Event></xml>")}
		want = append(want, evt)
		mustNoErr(t, "AppendMessages", s.AppendMessages(t.Context(), want))
		got, err := s.Messages(t.Context(), store.MessageQuery{AppID: app})
		mustNoErr(t, "Messages", err)
		wantNewestFirst := []*store.LoggedMessage{want[3], want[2], want[1], want[0]}
		if diff := cmp.Diff(wantNewestFirst, got, timeMS, emptyBytes); diff != "" {
			t.Errorf("Messages() mismatch (-want +got):\n%s", diff)
		}
		n, err := s.CountMessages(t.Context(), app)
		if err != nil || n != 4 {
			t.Errorf("CountMessages() = %d, %v; want 4", n, err)
		}
	})

	t.Run("EmptyBatch", func(t *testing.T) {
		s := newStore(t)
		mustNoErr(t, "AppendMessages(nil)", s.AppendMessages(t.Context(), nil))
	})

	t.Run("DuplicateKeyKeepsFirst", func(t *testing.T) {
		s := newStore(t)
		app := unique("wx")
		first := msg(app, 1, base)
		mustNoErr(t, "AppendMessages", s.AppendMessages(t.Context(), []*store.LoggedMessage{first}))
		dup := msg(app, 1, base.Add(5*time.Second))
		dup.Reply = []byte("<xml>another reply</xml>")
		other := msg(app, 2, base.Add(5*time.Second))
		// The batch holds a key that is logged and one that is new: the
		// new one is written, the logged one is left as it was.
		mustNoErr(t, "AppendMessages(dup+new)", s.AppendMessages(t.Context(), []*store.LoggedMessage{dup, other}))
		got, err := s.Messages(t.Context(), store.MessageQuery{AppID: app})
		mustNoErr(t, "Messages", err)
		if diff := cmp.Diff([]*store.LoggedMessage{other, first}, got, timeMS, emptyBytes); diff != "" {
			t.Errorf("Messages() after a duplicate mismatch (-want +got):\n%s", diff)
		}
		// The same key in another app is another message.
		mustNoErr(t, "AppendMessages(other app)", s.AppendMessages(t.Context(), []*store.LoggedMessage{msg(app+"b", 1, base)}))
		if n, _ := s.CountMessages(t.Context(), app+"b"); n != 1 {
			t.Errorf("CountMessages(other app) = %d, want 1", n)
		}
	})

	t.Run("DuplicateInOneBatch", func(t *testing.T) {
		s := newStore(t)
		app := unique("wx")
		a, b := msg(app, 7, base), msg(app, 7, base.Add(time.Second))
		mustNoErr(t, "AppendMessages", s.AppendMessages(t.Context(), []*store.LoggedMessage{a, b}))
		if n, _ := s.CountMessages(t.Context(), app); n != 1 {
			t.Errorf("CountMessages() = %d after one batch holding a key twice, want 1", n)
		}
	})

	t.Run("ConcurrentAppendsOneRecord", func(t *testing.T) {
		s := newStore(t)
		app := unique("wx")
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				m := msg(app, 42, base.Add(time.Duration(i)*time.Millisecond))
				if err := s.AppendMessages(t.Context(), []*store.LoggedMessage{m, msg(app, 100+i, base)}); err != nil {
					t.Errorf("concurrent AppendMessages = %v", err)
				}
			})
		}
		wg.Wait()
		if n, err := s.CountMessages(t.Context(), app); err != nil || n != 11 {
			t.Errorf("CountMessages() = %d, %v; want 11 (one shared key + 10 distinct)", n, err)
		}
	})

	t.Run("Query", func(t *testing.T) {
		s := newStore(t)
		a, b := unique("wxa"), unique("wxb")
		var batch []*store.LoggedMessage
		for i := range 5 {
			batch = append(batch, msg(a, i, base.Add(time.Duration(i)*time.Minute)), msg(b, i, base.Add(time.Duration(i)*time.Minute)))
		}
		mustNoErr(t, "AppendMessages", s.AppendMessages(t.Context(), batch))
		keys := func(ms []*store.LoggedMessage) string {
			var out []string
			for _, m := range ms {
				out = append(out, m.AppID[:3]+"/"+m.DedupKey)
			}
			return strings.Join(out, " ")
		}
		tests := []struct {
			name string
			q    store.MessageQuery
			want string
		}{
			{"app", store.MessageQuery{AppID: a}, "wxa/msg:1004 wxa/msg:1003 wxa/msg:1002 wxa/msg:1001 wxa/msg:1000"},
			{"limit", store.MessageQuery{AppID: b, Limit: 2}, "wxb/msg:1004 wxb/msg:1003"},
			{"since", store.MessageQuery{AppID: a, Since: base.Add(3 * time.Minute)}, "wxa/msg:1004 wxa/msg:1003"},
		}
		for _, tt := range tests {
			got, err := s.Messages(t.Context(), tt.q)
			mustNoErr(t, "Messages", err)
			if k := keys(got); k != tt.want {
				t.Errorf("%s: Messages(%+v) = %s, want %s", tt.name, tt.q, k, tt.want)
			}
		}
		all, err := s.Messages(t.Context(), store.MessageQuery{Limit: 1000})
		mustNoErr(t, "Messages(all apps)", err)
		seen := map[string]int{}
		for _, m := range all {
			seen[m.AppID]++
		}
		if seen[a] != 5 || seen[b] != 5 {
			t.Errorf("Messages(every app) holds %d of app a and %d of app b, want 5 and 5", seen[a], seen[b])
		}
	})

	t.Run("Prune", func(t *testing.T) {
		s := newStore(t)
		app := unique("wx")
		var batch []*store.LoggedMessage
		for i := range 10 {
			batch = append(batch, msg(app, i, base.Add(time.Duration(i)*time.Hour)))
		}
		mustNoErr(t, "AppendMessages", s.AppendMessages(t.Context(), batch))
		cut := base.Add(6 * time.Hour) // messages 0..5 are older
		n, err := s.PruneMessages(t.Context(), cut, 4)
		if err != nil || n != 4 {
			t.Fatalf("PruneMessages(limit 4) = %d, %v; want 4", n, err)
		}
		left, err := s.Messages(t.Context(), store.MessageQuery{AppID: app, Limit: 100})
		mustNoErr(t, "Messages", err)
		if len(left) != 6 || left[len(left)-1].DedupKey != "msg:1004" {
			t.Errorf("after pruning 4: %d left, oldest %s; want 6 left, oldest msg:1004 (oldest pruned first)", len(left), left[len(left)-1].DedupKey)
		}
		n, err = s.PruneMessages(t.Context(), cut, 100)
		if err != nil || n != 2 {
			t.Errorf("PruneMessages(rest) = %d, %v; want 2", n, err)
		}
		n, err = s.PruneMessages(t.Context(), cut, 100)
		if err != nil || n != 0 {
			t.Errorf("PruneMessages(nothing left) = %d, %v; want 0", n, err)
		}
		if c, _ := s.CountMessages(t.Context(), app); c != 4 {
			t.Errorf("CountMessages() after pruning = %d, want 4", c)
		}
		// A pruned key may be logged again (a new message years later).
		mustNoErr(t, "AppendMessages(pruned key)", s.AppendMessages(t.Context(), []*store.LoggedMessage{msg(app, 0, base.Add(24*time.Hour))}))
		if c, _ := s.CountMessages(t.Context(), app); c != 5 {
			t.Errorf("CountMessages() after re-logging a pruned key = %d, want 5", c)
		}
	})
}

// emptyBytes treats nil and empty byte slices as equal.
var emptyBytes = cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })
