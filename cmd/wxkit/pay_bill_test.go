package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/pay"
	"github.com/wxkit/wxkit/pay/tradebill"
	"github.com/wxkit/wxkit/store"
)

// TestPayBill: an order paid and partly refunded in the emulator two days
// ago (China time), a second order paid, then `wxkit pay bill` downloads
// that day's bill with the v2 client and with the v3 client (hash
// checked), with the rows and the summary of those trades; today's bill is
// refused as the platform refuses it.
func TestPayBill(t *testing.T) {
	for _, version := range []string{gateway.PayV2, gateway.PayV3} {
		t.Run(version, func(t *testing.T) {
			china := time.FixedZone("UTC+8", 8*3600)
			now := time.Now().In(china)
			day := time.Date(now.Year(), now.Month(), now.Day()-2, 12, 0, 0, 0, china)
			skew := now.Sub(day)
			f := newPayFixture(t, version, "sqlite://"+filepath.Join(t.TempDir(), "pay.db"), freeAddr(t), "http://127.0.0.1:9",
				emulator.WithClock(emulator.ClockFunc(func() time.Time { return time.Now().Add(-skew) })))

			// The trades, through the v2 API (no timestamps in its signatures,
			// so the emulator's clock may be two days behind).
			mk, err := f.emu.MerchantKey(emulator.DemoMchID)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			if err := os.WriteFile(certFile, []byte(mk.CertificatePEM), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keyFile, []byte(mk.PrivateKeyPEM), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := pay.NewClient(emulator.DemoAppID, emulator.DemoMchID, emulator.DemoAPIKey, pay.WithBaseURL(f.emu.URL),
				pay.WithCertificateFiles(certFile, keyFile))
			if err != nil {
				t.Fatal(err)
			}
			user := emulator.DefaultConfig().Apps[0].Users[0].OpenID
			order := func(no string, fen int64) string {
				o, err := c.UnifiedOrder(t.Context(), &pay.UnifiedOrderRequest{Body: "账单测试", OutTradeNo: no, TotalFee: fen,
					SpbillCreateIP: "127.0.0.1", NotifyURL: "http://127.0.0.1:9/notify", TradeType: pay.TradeTypeJSAPI, OpenID: user})
				if err != nil {
					t.Fatal(err)
				}
				txn, err := f.emu.PayOrder(o.PrepayID, emulator.Payment{OpenID: user})
				if err != nil {
					t.Fatal(err)
				}
				return txn
			}
			txn1 := order("BILLE2E001", 10000)
			order("BILLE2E002", 250)
			if _, err := c.Refund(t.Context(), &pay.RefundRequest{OutTradeNo: "BILLE2E001", OutRefundNo: "RBILLE2E001",
				TotalFee: 10000, RefundFee: 2500}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.emu.Advance(skew); err != nil { // the emulator's time is now the wall clock's
				t.Fatal(err)
			}

			env := map[string]string{"WXKIT_CONFIG": f.cfgPath}
			date := day.Format(time.DateOnly)
			out, err := runMain(t, env, "pay", "bill", "--date", date, "--json", "--out", filepath.Join(dir, "bill.csv"))
			if err != nil {
				t.Fatalf("pay bill: %v\n%s", err, out)
			}
			var b tradebill.Bill
			if err := json.Unmarshal([]byte(out), &b); err != nil {
				t.Fatalf("pay bill --json: %v in %s", err, out)
			}
			if len(b.Rows) != 3 {
				t.Fatalf("pay bill: %d rows, want 3: %s", len(b.Rows), out)
			}
			byKey := map[string]tradebill.Row{}
			for _, r := range b.Rows {
				byKey[r.OutTradeNo+"/"+r.TradeState] = r
				if r.TradeTime.In(china).Format(time.DateOnly) != date || r.MchID != emulator.DemoMchID || r.Rate != "0.60%" {
					t.Errorf("row %+v", r)
				}
			}
			p1, p2, rf := byKey["BILLE2E001/SUCCESS"], byKey["BILLE2E002/SUCCESS"], byKey["BILLE2E001/REFUND"]
			if p1.TransactionID != txn1 || p1.TotalFee != 10000 || p1.SettlementTotalFee != 10000 || p1.Fee != 60 ||
				p2.TotalFee != 250 || p2.Fee != 2 || // 0.60% of 2.50 yuan is 1.5 fen: rounded half up
				rf.OutRefundNo != "RBILLE2E001" || rf.RefundFee != 2500 || rf.SettlementRefundFee != 2500 || rf.Fee != -15 || rf.TransactionID != txn1 {
				t.Errorf("rows = %+v", byKey)
			}
			want := tradebill.Summary{Count: 3, SettlementTotalFee: 10250, RefundFee: 2500, Fee: 47, TotalFee: 10250, ApplyRefundFee: 2500}
			if d := cmp.Diff(want, b.Summary, cmpopts.IgnoreFields(tradebill.Summary{}, "Raw")); d != "" {
				t.Errorf("summary (-want +got):\n%s", d)
			}
			saved, err := os.ReadFile(filepath.Join(dir, "bill.csv"))
			if err != nil || !strings.HasPrefix(string(saved), "交易时间,") || !strings.Contains(string(saved), "`BILLE2E002,") {
				t.Errorf("--out file = %q, %v", saved, err)
			}

			out, err = runMain(t, env, "pay", "bill", "--date", date, "--type", "refund")
			if err != nil {
				t.Fatalf("pay bill --type refund: %v\n%s", err, out)
			}
			if !strings.Contains(out, "RBILLE2E001") || strings.Contains(out, "BILLE2E002") || !strings.Contains(out, "1 rows: settled 0.00, refunded 25.00, fees -0.15") {
				t.Errorf("pay bill --type refund =\n%s", out)
			}

			today := time.Now().In(china).Format(time.DateOnly)
			if out, err := runMain(t, env, "pay", "bill", "--date", today); err == nil ||
				!strings.Contains(err.Error(), map[string]string{gateway.PayV2: "No Bill Exist", gateway.PayV3: "STATEMENT_CREATING"}[version]) {
				t.Errorf("pay bill today = %v\n%s", err, out)
			}
		})
	}
}

// TestPayBillCheck: the trades of TestPayBill, made at the platform two
// days ago, against the gateway's store: unknown to an empty store (exit
// 1, --json), an exact match once the store has them (exit 0), and an
// order the store has as paid that day missing from the bill (exit 1).
func TestPayBillCheck(t *testing.T) {
	for _, version := range []string{gateway.PayV2, gateway.PayV3} {
		t.Run(version, func(t *testing.T) {
			china := time.FixedZone("UTC+8", 8*3600)
			now := time.Now().In(china)
			day := time.Date(now.Year(), now.Month(), now.Day()-2, 12, 0, 0, 0, china)
			skew := now.Sub(day)
			storeURL := "sqlite://" + filepath.Join(t.TempDir(), "pay.db")
			f := newPayFixture(t, version, storeURL, freeAddr(t), "http://127.0.0.1:9",
				emulator.WithClock(emulator.ClockFunc(func() time.Time { return time.Now().Add(-skew) })))
			mk, err := f.emu.MerchantKey(emulator.DemoMchID)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			if err := os.WriteFile(certFile, []byte(mk.CertificatePEM), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keyFile, []byte(mk.PrivateKeyPEM), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := pay.NewClient(emulator.DemoAppID, emulator.DemoMchID, emulator.DemoAPIKey, pay.WithBaseURL(f.emu.URL),
				pay.WithCertificateFiles(certFile, keyFile))
			if err != nil {
				t.Fatal(err)
			}
			user := emulator.DefaultConfig().Apps[0].Users[0].OpenID
			for _, o := range []struct {
				no  string
				fen int64
			}{{"BILLCHK001", 10000}, {"BILLCHK002", 250}} {
				u, err := c.UnifiedOrder(t.Context(), &pay.UnifiedOrderRequest{Body: "对账测试", OutTradeNo: o.no, TotalFee: o.fen,
					SpbillCreateIP: "127.0.0.1", NotifyURL: "http://127.0.0.1:9/notify", TradeType: pay.TradeTypeJSAPI, OpenID: user})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.emu.PayOrder(u.PrepayID, emulator.Payment{OpenID: user}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Refund(t.Context(), &pay.RefundRequest{OutTradeNo: "BILLCHK001", OutRefundNo: "RBILLCHK001",
				TotalFee: 10000, RefundFee: 2500}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.emu.Advance(skew); err != nil {
				t.Fatal(err)
			}
			if err := f.emu.WaitNotifies(t.Context()); err != nil {
				t.Fatal(err)
			}

			env := map[string]string{"WXKIT_CONFIG": f.cfgPath}
			date := day.Format(time.DateOnly)
			exit1 := func(err error) bool {
				ee, ok := errors.AsType[*exitError](err)
				return ok && ee.code == 1
			}

			// An empty store knows none of the bill's rows.
			out, err := runMain(t, env, "pay", "bill", "--date", date, "--check", "--json")
			if !exit1(err) {
				t.Fatalf("pay bill --check with an empty store = %v, want exit 1\n%s", err, out)
			}
			var got []gateway.BillMismatch
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("pay bill --check --json: %v in %s", err, out)
			}
			kinds := map[string]gateway.BillMismatchKind{}
			for _, mm := range got {
				kinds[mm.OutTradeNo+"/"+mm.OutRefundNo] = mm.Kind
			}
			want := map[string]gateway.BillMismatchKind{"BILLCHK001/": gateway.BillMismatchUnknownOrder,
				"BILLCHK002/": gateway.BillMismatchUnknownOrder, "BILLCHK001/RBILLCHK001": gateway.BillMismatchUnknownRefund}
			if d := cmp.Diff(want, kinds); d != "" {
				t.Errorf("pay bill --check --json (-want +got):\n%s\n%s", d, out)
			}

			// The store learns the trades as the gateway would have.
			st, err := gateway.OpenStores(t.Context(), storeURL, "", gateway.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			record := func(no string) {
				t.Helper()
				info, err := f.emu.MerchantOrder(emulator.DemoMchID, no)
				if err != nil {
					t.Fatal(err)
				}
				created := info.CreatedAt
				if err := st.Orders.CreateOrder(t.Context(), &store.Order{MchID: emulator.DemoMchID, OutTradeNo: no,
					AppID: emulator.DemoAppID, OpenID: user, Version: "v2", Amount: info.Amount, State: store.TradeStateSuccess,
					TransactionID: info.TransactionID, Created: created, Updated: *info.PaidAt, PaidAt: *info.PaidAt}); err != nil {
					t.Fatal(err)
				}
				for _, r := range info.Refunds {
					if err := st.Orders.CreateRefund(t.Context(), &store.Refund{MchID: emulator.DemoMchID, OutRefundNo: r.OutRefundNo,
						OutTradeNo: no, Amount: r.Amount, State: store.RefundStateProcessing, Created: r.CreatedAt, Updated: r.CreatedAt}); err != nil {
						t.Fatal(err)
					}
					if _, err := st.Orders.ApplyRefund(t.Context(), &store.RefundResult{MchID: emulator.DemoMchID, OutRefundNo: r.OutRefundNo,
						OutTradeNo: no, Amount: r.Amount, State: store.RefundState(r.State), RefundID: r.RefundID, At: *r.SuccessAt}, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
			record("BILLCHK001")
			record("BILLCHK002")
			out, err = runMain(t, env, "pay", "bill", "--date", date, "--check")
			if err != nil || !strings.Contains(out, "bill of "+date+" for "+emulator.DemoMchID+": 3 rows, 2 orders paid in the store; 0 mismatches") ||
				strings.Contains(out, "KIND") {
				t.Errorf("pay bill --check of an exact match = %v\n%s", err, out)
			}

			// An order the store has as paid that day that the platform never saw.
			paidAt := day.Add(time.Hour)
			if err := st.Orders.CreateOrder(t.Context(), &store.Order{MchID: emulator.DemoMchID, OutTradeNo: "BILLCHKGHOST",
				AppID: emulator.DemoAppID, OpenID: user, Version: "v2", Amount: 77, State: store.TradeStateSuccess,
				TransactionID: "4200000000000000000000000000", Created: paidAt, Updated: paidAt, PaidAt: paidAt}); err != nil {
				t.Fatal(err)
			}
			out, err = runMain(t, env, "pay", "bill", "--date", date, "--check")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !exit1(err) || len(lines) != 3 || !strings.HasPrefix(lines[0], "KIND") ||
				strings.Join(strings.Fields(lines[1]), " ") != "not_in_bill BILLCHKGHOST - - paid "+paidAt.Format(time.DateTime) ||
				!strings.HasSuffix(lines[2], "3 rows, 3 orders paid in the store; 1 mismatches") {
				t.Errorf("pay bill --check with an order missing from the bill = %v\n%s", err, out)
			}

			if _, err := runMain(t, env, "pay", "bill", "--date", date, "--check", "--type", "refund"); err == nil {
				t.Error("pay bill --check --type refund = nil error, want one (--check compares the ALL bill)")
			}
		})
	}
}
