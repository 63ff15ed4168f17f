package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/testserver"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// outageWindow is how long the store is down in the fault tests.
const outageWindow = 10 * time.Second

const (
	faultAppID  = "wx00000000000000f1"
	faultToken  = "faulttoken"
	faultAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// pushLoad sends distinct safe-mode text pushes from 4 workers until stop,
// and counts the answers by phase.
type pushLoad struct {
	url   string
	phase atomic.Int32 // 0 before, 1 during, 2 after the outage
	sent  [3]atomic.Int64
	ok    [3]atomic.Int64
	bad   [3]atomic.Int64
	seq   atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startPushLoad(t *testing.T, url string) *pushLoad {
	l := &pushLoad{url: url, stop: make(chan struct{})}
	l.seq.Store(time.Now().UnixNano())
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				ph := l.phase.Load()
				n := l.seq.Add(1)
				msg := (&message.Message{ToUserName: "gh_fault", FromUserName: "oFault", CreateTime: time.Now().Unix(),
					MsgType: message.MsgTypeText, Content: fmt.Sprint("m", n), MsgID: n}).AppendXML(nil)
				r := webhooktest.NewEncryptedRequest(faultToken, faultAESKey, faultAppID, msg, webhook.ModeSafe,
					&webhooktest.RequestOptions{Target: l.url + "/wx/" + faultAppID})
				r.RequestURI = ""
				l.sent[ph].Add(1)
				resp, err := client.Do(r)
				if err != nil {
					l.bad[ph].Add(1)
					continue
				}
				body := readAll(t, resp)
				rm, err := webhooktest.ParseReply(faultToken, faultAESKey, faultAppID, body)
				if resp.StatusCode != http.StatusOK || err != nil {
					l.bad[ph].Add(1)
					continue
				}
				if txt, ok := rm.Reply.(*message.Text); ok && txt.Content == fmt.Sprint("m", n) {
					l.ok[ph].Add(1)
				} else {
					l.bad[ph].Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return l
}

func (l *pushLoad) end() { close(l.stop); l.wg.Wait() }

func (l *pushLoad) report(t *testing.T) {
	for i, name := range []string{"before", "during", "after"} {
		t.Logf("pushes %s the outage: %d sent, %d answered with the right reply, %d failed",
			name, l.sent[i].Load(), l.ok[i].Load(), l.bad[i].Load())
	}
}

// readyReason returns /readyz's status and body.
func readyReason(t *testing.T, url string) (int, map[string]string) {
	resp, body := get(t, http.DefaultClient, url+"/readyz")
	var st readyStatus
	json.Unmarshal([]byte(body), &st)
	return resp.StatusCode, st.Checks
}

// faultGateway builds a gateway (echo replies, durable log, dedup in the
// store) on storeURL and redisURL.
func faultGateway(t *testing.T, storeURL, redisURL string) (*Gateway, string, *logBuffer) {
	cfg := &Config{
		Store: storeURL, Redis: redisURL,
		OAuth: OAuthConfig{Secret: testOAuthSecret},
		Apps: []AppConfig{{AppID: faultAppID, Token: faultToken, EncodingAESKey: faultAESKey, Mode: ModeSafe,
			Replies: RepliesConfig{Default: &ReplyConfig{Echo: true}}}},
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return g, srv.URL, logs
}

// runOutage drives push load through an outage of outageWindow made by
// stop and start, and checks that pushes are answered throughout, that
// /readyz names check while it is down, and that the gateway recovers
// without a restart. It returns the load counters and the time from start
// to ready.
func runOutage(t *testing.T, url, check string, stop, start func()) (*pushLoad, time.Duration) {
	load := startPushLoad(t, url)
	time.Sleep(time.Second)
	load.phase.Store(1)
	stop()
	time.Sleep(outageWindow / 2)
	if code, checks := readyReason(t, url); code != http.StatusServiceUnavailable || checks[check] == "ok" || checks[check] == "" {
		t.Errorf("/readyz during the outage = %d %v, want 503 saying why %s is not ready", code, checks, check)
	} else {
		t.Logf("/readyz during the outage: %d %s: %s", code, check, checks[check])
	}
	time.Sleep(outageWindow / 2)
	start()
	restarted := time.Now()
	var recovery time.Duration
	for {
		if code, _ := readyReason(t, url); code == http.StatusOK {
			recovery = time.Since(restarted)
			break
		}
		if time.Since(restarted) > 60*time.Second {
			t.Fatalf("/readyz not ready 60 s after %s came back", check)
		}
		time.Sleep(50 * time.Millisecond)
	}
	load.phase.Store(2)
	time.Sleep(2 * time.Second)
	load.end()
	load.report(t)
	t.Logf("ready again %v after %s came back", recovery.Round(time.Millisecond), check)
	for i, name := range []string{"before", "during", "after"} {
		if load.ok[i].Load() == 0 || load.bad[i].Load() != 0 {
			t.Errorf("pushes %s the outage: %d answered, %d failed; want all answered", name, load.ok[i].Load(), load.bad[i].Load())
		}
	}
	return load, recovery
}

// TestPostgresOutageUnderLoad: with its own PostgreSQL stopped for 10 s
// under push load, the gateway keeps answering every push (dedup in
// memory, log rows queued), /readyz says why, and after PostgreSQL
// returns the queued rows are written and the gateway is ready again
// without a restart.
func TestPostgresOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: a 10 s outage (-short)")
	}
	pg := testserver.StartPostgres(t)
	before := runtime.NumGoroutine()
	g, url, logs := faultGateway(t, pg.URL, "")
	load, _ := runOutage(t, url, "store", func() { pg.Stop(t) }, func() { pg.Start(t) })

	// Every answered push is in the log once the queue drains.
	answered := load.ok[0].Load() + load.ok[1].Load() + load.ok[2].Load()
	var rows int
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := g.MessageLog().CountMessages(t.Context(), faultAppID); err == nil {
			rows = n
			if int64(n) >= answered {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, dropped := g.msgLog.stats()
	t.Logf("message log: %d rows for %d answered pushes; %d dropped", rows, answered, dropped)
	if int64(rows) != answered || dropped != 0 {
		t.Errorf("message log holds %d rows for %d answered pushes (%d dropped), want every one", rows, answered, dropped)
	}
	if !strings.Contains(logs.String(), "message log: write failed") {
		t.Errorf("the outage was not logged")
	}
	g.Close()
	checkGoroutines(t, before)
}

// TestRedisOutageUnderLoad: the same with Redis (tokens, dedup, sessions)
// stopped for 10 s: pushes are answered from the instance's memory, and
// /readyz names redis.
func TestRedisOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: a 10 s outage (-short)")
	}
	rs := testserver.StartRedis(t)
	before := runtime.NumGoroutine()
	g, url, logs := faultGateway(t, "sqlite://"+filepath.Join(t.TempDir(), "gw.db"), rs.URL)
	runOutage(t, url, "redis", func() { rs.Stop(t) }, func() { rs.Start(t) })
	if !strings.Contains(logs.String(), "dedup: shared store failed") {
		t.Errorf("the dedup fallback was not logged")
	}
	g.Close()
	checkGoroutines(t, before)
}

// checkGoroutines fails t when goroutines started after before are still
// running a few seconds after the gateway closed (idle HTTP connections
// of the test client aside).
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		n := runtime.NumGoroutine()
		if n <= before+2 {
			return
		}
		if ctx.Err() != nil {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines after Close, %d before the gateway: leaked?\n%s", n, before, buf)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStartsWithRedisDown: a gateway whose Redis does not answer at start
// starts anyway, answers pushes, reports Redis at /readyz, and is ready
// once Redis answers, without a restart.
func TestStartsWithRedisDown(t *testing.T) {
	rs := testserver.StartRedis(t)
	rs.Stop(t)
	g, url, _ := faultGateway(t, "sqlite://"+filepath.Join(t.TempDir(), "gw.db"), rs.URL)
	defer g.Close()
	if code, checks := readyReason(t, url); code != http.StatusServiceUnavailable || checks["redis"] == "ok" {
		t.Errorf("/readyz with Redis down = %d %v, want 503 naming redis", code, checks)
	}
	load := startPushLoad(t, url)
	time.Sleep(500 * time.Millisecond)
	rs.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := readyReason(t, url); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready 30 s after Redis came up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	load.end()
	if load.ok[0].Load() == 0 || load.bad[0].Load() != 0 {
		t.Errorf("pushes with Redis down then up: %d answered, %d failed; want all answered", load.ok[0].Load(), load.bad[0].Load())
	}
}
