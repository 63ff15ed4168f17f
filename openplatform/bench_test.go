package openplatform

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// BenchmarkNotifyTicket measures one component_verify_ticket push through
// the NotifyServer: signature and AES checked, the event decrypted and
// parsed, the ticket stored (memory store) and "success" answered. Each
// push carries a new ticket and CreateTime, so none is a duplicate.
func BenchmarkNotifyTicket(b *testing.B) {
	clock := newTestClock()
	c, err := NewComponent(testComponent, testSecret, testToken, testAESKey, WithClock(clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	srv := c.NotifyServer()
	start := clock.Now()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		created := start.Add(time.Duration(i) * time.Second)
		reqs[i] = webhooktest.NewEncryptedRequest(testToken, testAESKey, testComponent,
			[]byte(ticketXML(testComponent, "ticket@@@"+strconv.Itoa(i), created)), webhook.ModeSafe,
			&webhooktest.RequestOptions{Target: "/component/notify", Timestamp: created.Unix()})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i, req := range reqs {
		clock.Set(start.Add(time.Duration(i) * time.Second))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != "success" {
			b.Fatalf("push %d answered %d %q", i, rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	if tk, err := c.Ticket(b.Context()); err != nil || tk.Value != "ticket@@@"+strconv.Itoa(b.N-1) {
		b.Fatalf("Ticket() after %d pushes = %v, %v; want the last one", b.N, tk, err)
	}
}
