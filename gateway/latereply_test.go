package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
)

// slowTarget is a forward target that answers only when released, with
// the reply XML of its type.
type slowTarget struct {
	*httptest.Server
	arrived chan struct{} // a message reached the target
	release chan struct{}
}

func newSlowTarget(t *testing.T, replyXML string) *slowTarget {
	st := &slowTarget{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	st.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.arrived <- struct{}{}
		select {
		case <-st.release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, replyXML)
	}))
	t.Cleanup(st.Close)
	return st
}

const lateTextXML = `<xml><ToUserName><![CDATA[u]]></ToUserName><FromUserName><![CDATA[gh]]></FromUserName>` +
	`<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[late answer]]></Content></xml>`

// waitFor polls cond every 10 ms until it holds or 5 s have passed (the
// late delivery is asynchronous; no timing is asserted).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pushSlow makes the emulator's user send "slow" to the gateway and checks
// that the gateway answered "success" in one delivery (before the
// emulator's 5 s push timeout), while the target still holds the message.
func pushSlow(t *testing.T, e *webEnv, target *slowTarget) {
	t.Helper()
	res, err := e.emu.Push(t.Context(), e.appID, emulator.PushRequest{User: e.openID, Content: "slow"})
	if err != nil {
		t.Fatalf("Push = %v", err)
	}
	if !res.OK() || !res.NoReply || len(res.Attempts) != 1 || res.UserSees != "" {
		t.Fatalf("push result = ok %v, no_reply %v, %d attempts, user sees %q, error %q; want success in one delivery",
			res.OK(), res.NoReply, len(res.Attempts), res.UserSees, res.Error)
	}
	select {
	case <-target.arrived:
	default:
		t.Fatalf("the forward target never got the message")
	}
}

func TestLateReplyGoesThroughCustomerService(t *testing.T) {
	t.Parallel()
	target := newSlowTarget(t, lateTextXML)
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.Apps[0].Replies.Default = &ReplyConfig{Forward: target.URL}
	})
	pushSlow(t, e, target)
	if msgs, _ := e.emu.CustomerServiceMessages(e.appID, e.openID); len(msgs) != 0 {
		t.Fatalf("customer-service messages before the handler answered: %+v", msgs)
	}
	close(target.release)
	waitFor(t, "the late reply to reach the emulator", func() bool {
		msgs, _ := e.emu.CustomerServiceMessages(e.appID, e.openID)
		return len(msgs) > 0
	})
	msgs, err := e.emu.CustomerServiceMessages(e.appID, e.openID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Type != "text" || msgs[0].Text != "late answer" {
		t.Errorf("customer-service messages = %+v, want one text \"late answer\"", msgs)
	}
}

func TestLateReplyOutsideThe48HourWindowIsLogged(t *testing.T) {
	t.Parallel()
	target := newSlowTarget(t, lateTextXML)
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.Apps[0].Replies.Default = &ReplyConfig{Forward: target.URL}
	})
	pushSlow(t, e, target)
	// The handler answers 49 hours later: WeChat refuses with 45015.
	if _, err := e.emu.Advance(49 * time.Hour); err != nil {
		t.Fatal(err)
	}
	close(target.release)
	waitFor(t, "the refused late reply to be given up", func() bool {
		dead, _ := e.g.Stores().Outbox.DeadJobs(t.Context(), JobLateReply, 10)
		return len(dead) == 1
	})
	logs := e.logs.String()
	if !strings.Contains(logs, "outbox: job failed") || !strings.Contains(logs, "given_up=true") {
		t.Errorf("log does not say the late reply was given up:\n%s", logs)
	}
	if !strings.Contains(logs, "45015") || !strings.Contains(logs, "48 hours") {
		t.Errorf("log does not name errcode 45015 and the 48-hour window:\n%s", logs)
	}
	if strings.Contains(logs, emulator.DemoSecret) || strings.Contains(logs, "access_token=") {
		t.Errorf("log carries a secret or a token:\n%s", logs)
	}
	if msgs, _ := e.emu.CustomerServiceMessages(e.appID, e.openID); len(msgs) != 0 {
		t.Errorf("customer-service messages = %+v, want none", msgs)
	}
}

func TestLateReplyUnsupportedTypeIsLogged(t *testing.T) {
	t.Parallel()
	target := newSlowTarget(t, `<xml><ToUserName>u</ToUserName><FromUserName>gh</FromUserName><CreateTime>1</CreateTime>`+
		`<MsgType>voice</MsgType><Voice><MediaId>m1</MediaId></Voice></xml>`)
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.Apps[0].Replies.Default = &ReplyConfig{Forward: target.URL}
	})
	pushSlow(t, e, target)
	close(target.release)
	waitFor(t, "the unsupported late reply to be logged", func() bool {
		return strings.Contains(e.logs.String(), "not supported by the customer-service fallback")
	})
	if msgs, _ := e.emu.CustomerServiceMessages(e.appID, e.openID); len(msgs) != 0 {
		t.Errorf("customer-service messages = %+v, want none", msgs)
	}
}

func TestNoLateReplyWithoutSecret(t *testing.T) {
	t.Parallel()
	target := newSlowTarget(t, lateTextXML)
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.Apps[0].Replies.Default = &ReplyConfig{Forward: target.URL}
		cfg.Apps[0].Secret = ""
	})
	if srv := e.g.webhooks[e.appID]; srv.LateReply != nil {
		t.Errorf("an app without secret has a LateReply")
	}
	pushSlow(t, e, target)
	// Without a secret the handler keeps the webhook deadline: the forward
	// is cancelled and the target sees its request end.
	close(target.release)
}
