package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/store"
)

const payTestSecret = "cmd-pay-test-on-paid-secret"

// payFixture is the emulator's demo merchant with its keys in files, an
// on_paid target, and a gateway configuration file that uses them.
type payFixture struct {
	emu      *emulatortest.Server
	dir      string
	cfgPath  string
	storeURL string
	url      string // the gateway's base URL (listen and public_url)
	sink     *paidCounter
}

// newPayFixture writes the configuration of a gateway listening on addr,
// with the demo merchant in version (v2 or v3) and its notify URLs on
// publicURL ("" means http://addr), its state in storeURL.
func newPayFixture(t *testing.T, version, storeURL, addr, publicURL string, opts ...emulator.Option) *payFixture {
	t.Helper()
	f := &payFixture{dir: t.TempDir(), storeURL: storeURL, url: "http://" + addr}
	f.emu = emulatortest.New(t, emulator.DefaultConfig(), opts...)
	f.sink = newPaidCounter(t)
	if publicURL == "" {
		publicURL = f.url
	}
	pc, err := writeDevPay(f.emu.Emulator, f.dir) // the same files as dev mode
	if err != nil {
		t.Fatal(err)
	}
	m := pc.Merchants[0]
	merchant := fmt.Sprintf(`    - mch_id: %q
      appids: [%s]
      version: %s
`, m.MchID, emulator.DemoAppID, version)
	if version == gateway.PayV2 {
		merchant += fmt.Sprintf("      api_key: %s\n      cert_file: %s\n      private_key_file: %s\n", emulator.DemoAPIKey, m.CertFile, m.PrivateKeyFile)
	} else {
		merchant += fmt.Sprintf("      api_v3_key: %s\n      serial_no: %s\n      private_key_file: %s\n      platform_public_key_file: %s\n      platform_public_key_id: %s\n",
			m.APIv3Key, m.SerialNo, m.PrivateKeyFile, m.PlatformPublicKeyFile, m.PlatformPublicKeyID)
	}
	y := fmt.Sprintf(`listen: %s
public_url: %s
store: %s
wechat: { api_base: %s, open_base: %s, pay_base: %s }
log: { level: info }
pay:
  on_paid: { forward: %s, secret: %s }
  merchants:
%s`, addr, publicURL, storeURL, f.emu.URL, f.emu.URL, f.emu.URL, f.sink.srv.URL, payTestSecret, merchant)
	f.cfgPath = filepath.Join(f.dir, "wxkit.yaml")
	if err := os.WriteFile(f.cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// session creates a session of the demo app's user openID in the store
// (as Mini Program login does) and returns its bearer token.
func (f *payFixture) session(t *testing.T, openID string) string {
	t.Helper()
	st, err := gateway.OpenStores(t.Context(), f.storeURL, "", gateway.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok := "cmd-test-" + randomHex(16)
	now := time.Now()
	if err := st.Sessions.CreateSession(t.Context(), tok, &store.Session{AppID: emulator.DemoAppID, OpenID: openID,
		Created: now, Expires: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// placeOrder places an order of amount fen through the gateway at base.
func placeOrder(t *testing.T, base, token string, amount int64) *gateway.OrderCreated {
	t.Helper()
	body := fmt.Sprintf(`{"amount":%d,"description":"e2e"}`, amount)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/pay/orders", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var oc gateway.OrderCreated
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &oc) != nil || oc.PrepayID == "" {
		t.Fatalf("POST /pay/orders = %d %s, want 201 with a prepay_id", resp.StatusCode, b)
	}
	return &oc
}

// paidCounter is an on_paid target that checks signatures and counts
// deliveries by delivery id. While hold is set, the first delivery is kept
// waiting until release is closed.
type paidCounter struct {
	srv *httptest.Server

	mu       sync.Mutex
	byID     map[string]int    // delivery id → deliveries
	orders   map[string]string // delivery id → out_trade_no
	badSig   int
	hold     bool
	held     chan struct{} // closed when the held delivery arrives
	heldNo   string        // its out_trade_no
	release  chan struct{}
	received chan struct{}
}

func newPaidCounter(t *testing.T) *paidCounter {
	p := &paidCounter{byID: map[string]int{}, orders: map[string]string{}, held: make(chan struct{}),
		release: make(chan struct{}), received: make(chan struct{}, 100000)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev gateway.PaidEvent
		json.Unmarshal(body, &ev)
		id := r.Header.Get(gateway.OnPaidDeliveryHeader)
		p.mu.Lock()
		if !gateway.VerifyOnPaid(payTestSecret, body, r.Header.Get(gateway.OnPaidSignatureHeader)) {
			p.badSig++
		}
		p.byID[id]++
		p.orders[id] = ev.OutTradeNo
		hold := p.hold
		p.hold = false
		p.mu.Unlock()
		p.received <- struct{}{}
		if hold {
			p.mu.Lock()
			p.heldNo = ev.OutTradeNo
			p.mu.Unlock()
			close(p.held)
			<-p.release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		select {
		case <-p.release:
		default:
			close(p.release)
		}
		p.srv.Close()
	})
	return p
}

// counts returns deliveries per out_trade_no: distinct delivery ids and
// requests in all.
func (p *paidCounter) counts() (ids, requests map[string]int, badSig int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids, requests = map[string]int{}, map[string]int{}
	for id, n := range p.byID {
		ids[p.orders[id]]++
		requests[p.orders[id]] += n
	}
	return ids, requests, p.badSig
}

// TestPayCommands: orders placed through `wxkit serve` whose notifies
// never reach it (public_url points nowhere) are listed by `wxkit pay
// orders` as NOTPAY; `wxkit pay reconcile` finds the paid one SUCCESS at
// the platform and applies it, and the serving gateway delivers its paid
// event; a second reconcile changes nothing. Refunds left PROCESSING are
// reconciled too (one the platform does not know is closed), unless
// --refunds=false.
func TestPayCommands(t *testing.T) {
	addr := freeAddr(t)
	f := newPayFixture(t, gateway.PayV3, "sqlite://"+filepath.Join(t.TempDir(), "pay.db"), addr, "http://127.0.0.1:9")
	env := map[string]string{"WXKIT_CONFIG": f.cfgPath}
	mustRunMain(t, env, "serve", "--listen", addr)
	user := emulator.DefaultConfig().Apps[0].Users[0].OpenID
	tok := f.session(t, user)
	paid := placeOrder(t, f.url, tok, 300)
	unpaid := placeOrder(t, f.url, tok, 100)
	if _, err := f.emu.PayOrder(paid.PrepayID, emulator.Payment{OpenID: user}); err != nil {
		t.Fatal(err)
	}
	if err := f.emu.WaitNotifies(t.Context()); err != nil {
		t.Fatal(err)
	}

	out, err := runMain(t, env, "pay", "orders", "--json")
	if err != nil {
		t.Fatalf("pay orders: %v", err)
	}
	var orders []store.Order
	if err := json.Unmarshal([]byte(out), &orders); err != nil {
		t.Fatalf("pay orders --json: %v in %s", err, out)
	}
	if len(orders) != 2 || orders[0].OutTradeNo != unpaid.OutTradeNo || orders[1].OutTradeNo != paid.OutTradeNo ||
		orders[0].State != "NOTPAY" || orders[1].State != "NOTPAY" {
		t.Fatalf("pay orders = %+v, want the two orders, newest first, NOTPAY", orders)
	}

	out, err = runMain(t, env, "pay", "reconcile")
	if err != nil {
		t.Fatalf("pay reconcile: %v\n%s", err, out)
	}
	for _, want := range []string{paid.OutTradeNo + "  NOTPAY  SUCCESS   SUCCESS  changed", unpaid.OutTradeNo + "  NOTPAY  NOTPAY    NOTPAY   unchanged",
		"2 orders reconciled: 1 changed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("pay reconcile output lacks %q:\n%s", want, out)
		}
	}
	out, err = runMain(t, env, "pay", "orders", "--state", "SUCCESS")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], paid.OutTradeNo) || !strings.Contains(lines[1], "SUCCESS  300") {
		t.Errorf("pay orders --state SUCCESS =\n%s\nwant the header and the paid order", out)
	}
	// The serving gateway's drainer delivers the event the reconciliation enqueued.
	deadline := time.After(20 * time.Second)
	for {
		ids, _, bad := f.sink.counts()
		if ids[paid.OutTradeNo] == 1 && len(ids) == 1 && bad == 0 {
			break
		}
		select {
		case <-f.sink.received:
		case <-deadline:
			t.Fatalf("paid events = %v (bad signatures %d), want one for %s", ids, bad, paid.OutTradeNo)
		}
	}
	out, err = runMain(t, env, "pay", "reconcile", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var lines []reconcileLine
	if err := json.Unmarshal([]byte(out), &lines); err != nil || len(lines) != 1 || lines[0].Changed || lines[0].OutTradeNo != unpaid.OutTradeNo {
		t.Errorf("second pay reconcile --json = %s, want the unpaid order, unchanged", out)
	}

	// Refunds whose notify is lost: one the platform does not know (its
	// request never reached it), 10 minutes old, is closed; one made just
	// now is left to its notify.
	st, err := gateway.OpenStores(t.Context(), f.storeURL, "", gateway.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ago := time.Now().Add(-10 * time.Minute)
	ghost := &store.Refund{MchID: emulator.DemoMchID, OutRefundNo: "R20250101000000GHOSTghost00001", OutTradeNo: paid.OutTradeNo,
		Amount: 100, Created: ago, Updated: ago}
	if err := st.Orders.CreateRefund(t.Context(), ghost); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.url+"/pay/orders/"+paid.OutTradeNo+"/refund", strings.NewReader(`{"amount":50}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST refund = %d, want 200", resp.StatusCode)
	}
	out, err = runMain(t, env, "pay", "reconcile")
	if err != nil {
		t.Fatalf("pay reconcile with refunds: %v\n%s", err, out)
	}
	for _, want := range []string{"1 orders reconciled: 0 changed, 0 failed",
		ghost.OutRefundNo + "  " + paid.OutTradeNo + "  PROCESSING  CLOSED    CLOSED  changed", "1 refunds reconciled: 1 changed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("pay reconcile output lacks %q:\n%s", want, out)
		}
	}
	if r, err := st.Orders.Refund(t.Context(), emulator.DemoMchID, ghost.OutRefundNo); err != nil || r.State != store.RefundStateClosed {
		t.Errorf("refund after pay reconcile = %+v, %v; want CLOSED", r, err)
	}
	if err := st.Orders.CreateRefund(t.Context(), &store.Refund{MchID: emulator.DemoMchID, OutRefundNo: "R20250101000000GHOSTghost00002",
		OutTradeNo: paid.OutTradeNo, Amount: 100, Created: ago, Updated: ago}); err != nil {
		t.Fatal(err)
	}
	out, err = runMain(t, env, "pay", "reconcile", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines = nil
	if err := json.Unmarshal([]byte(out), &lines); err != nil || len(lines) != 2 || lines[0].OutRefundNo != "" ||
		lines[1].OutRefundNo != "R20250101000000GHOSTghost00002" || lines[1].OutTradeNo != paid.OutTradeNo ||
		lines[1].Before != "PROCESSING" || lines[1].After != "CLOSED" || !lines[1].Changed {
		t.Errorf("pay reconcile --json = %s, want the unpaid order, then the second unknown refund closed", out)
	}
	out, err = runMain(t, env, "pay", "reconcile", "--refunds=false")
	if err != nil || strings.Contains(out, "refunds reconciled") {
		t.Errorf("pay reconcile --refunds=false = %v\n%s\nwant orders only", err, out)
	}

	for _, args := range [][]string{{"pay", "orders", "--state", "PAID"}, {"pay", "orders", "--limit", "0"}} {
		if _, err := runMain(t, env, args...); err == nil {
			t.Errorf("wxkit %s: no error", strings.Join(args, " "))
		}
	}
}

// TestDevModePay: dev mode writes the demo merchant's keys beside its
// database, says so, and takes a payment end to end with no setup: order,
// pay on the emulator, notify, SUCCESS; `wxkit pay orders` (dev mode
// configuration) lists it.
func TestDevModePay(t *testing.T) {
	t.Chdir(t.TempDir())
	r := mustRunMain(t, nil, "serve", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0")
	for _, want := range []string{"pay       merchant " + emulator.DemoMchID + ", WeChat Pay v3", "/pay/v3/notify/" + emulator.DemoMchID, "go run ./cmd/wxkit pay orders"} {
		if !strings.Contains(r.stdout.String(), want) {
			t.Errorf("dev banner lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, name := range []string{"apiclient_key.pem", "apiclient_cert.pem", "pub_key.pem", "pay.yaml"} {
		if _, err := os.Stat(filepath.Join(devPayDir, name)); err != nil {
			t.Errorf("dev mode did not write %s: %v", name, err)
		}
	}
	f := &payFixture{storeURL: "sqlite://" + DevDBFile}
	user := emulator.DefaultConfig().Apps[0].Users[1].OpenID
	oc := placeOrder(t, r.gatewayURL, f.session(t, user), 1)
	body, _ := json.Marshal(map[string]any{"openid": user, "pay_params": map[string]string{
		"appId": oc.PayParams.AppID, "timeStamp": oc.PayParams.TimeStamp, "nonceStr": oc.PayParams.NonceStr,
		"package": oc.PayParams.Package, "signType": oc.PayParams.SignType, "paySign": oc.PayParams.PaySign}})
	resp, err := http.Post(r.emulatorURL+"/_emulator/pay/"+oc.PrepayID+"/pay", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("paying on the emulator = %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := runMain(t, nil, "pay", "orders", "--state", "SUCCESS", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var orders []store.Order
		json.Unmarshal([]byte(out), &orders)
		if len(orders) == 1 && orders[0].OutTradeNo == oc.OutTradeNo && orders[0].OpenID == user {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pay orders --state SUCCESS = %s after 20 s, want %s", out, oc.OutTradeNo)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(context.Cause(t.Context()))
		}
	}
}
