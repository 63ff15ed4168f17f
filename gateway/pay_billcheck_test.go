package gateway

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/pay/tradebill"
	"github.com/wxkit/wxkit/store"
)

func TestCompareBill(t *testing.T) {
	t.Parallel()
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, tradebill.ChinaTime)
	at := day.Add(10 * time.Hour)
	// pay is a payment row of the current format; refund a refund row.
	pay := func(no, txn string, fen int64) tradebill.Row {
		return tradebill.Row{TradeTime: at, TradeState: "SUCCESS", OutTradeNo: no, TransactionID: txn, OutRefundNo: "0",
			SettlementTotalFee: fen, TotalFee: fen, Raw: map[string]string{"订单金额": "x", "申请退款金额": "x"}}
	}
	refund := func(no, txn, refundNo string, fen int64, status string) tradebill.Row {
		return tradebill.Row{TradeTime: at, TradeState: "REFUND", OutTradeNo: no, TransactionID: txn, OutRefundNo: refundNo,
			SettlementRefundFee: fen, RefundFee: fen, RefundStatus: status, Raw: map[string]string{"订单金额": "x", "申请退款金额": "x"}}
	}
	order := func(no, txn string, fen int64, st store.TradeState, paid time.Time) *store.Order {
		return &store.Order{OutTradeNo: no, TransactionID: txn, Amount: fen, State: st, PaidAt: paid}
	}
	ref := func(no, refundNo string, fen int64, st store.RefundState) *store.Refund {
		return &store.Refund{OutTradeNo: no, OutRefundNo: refundNo, Amount: fen, State: st}
	}
	// The store of an exact match: A paid and partly refunded, B paid.
	orders := func() []*store.Order {
		return []*store.Order{order("A", "TA", 1000, store.TradeStateRefund, at), order("B", "TB", 250, store.TradeStateSuccess, at)}
	}
	rows := func() []tradebill.Row {
		return []tradebill.Row{pay("A", "TA", 1000), pay("B", "TB", 250), refund("A", "TA", "RA", 300, "SUCCESS")}
	}
	refunds := func() []*store.Refund { return []*store.Refund{ref("A", "RA", 300, store.RefundStateSuccess)} }

	tests := []struct {
		name    string
		rows    []tradebill.Row
		orders  []*store.Order
		refunds []*store.Refund
		want    []BillMismatch
	}{
		{name: "exact match", rows: rows(), orders: orders(), refunds: refunds()},
		{name: "no bill, nothing paid", orders: []*store.Order{order("N", "", 5, store.TradeStateNotPay, time.Time{})}},
		{name: "paid in the store, not in the bill",
			rows: rows(), refunds: refunds(),
			orders: append(orders(), order("C", "TC", 99, store.TradeStateSuccess, day), // the day's first instant
				order("D", "TD", 99, store.TradeStateSuccess, day.Add(-time.Second)), // the day before
				order("E", "TE", 99, store.TradeStateRefund, day.AddDate(0, 0, 1))),  // the day after
			want: []BillMismatch{{Kind: BillMismatchNotInBill, OutTradeNo: "C", Store: "paid 2025-03-01 00:00:00"}}},
		{name: "no bill, paid in the store",
			orders: []*store.Order{order("Z", "TZ", 1, store.TradeStateSuccess, at), order("Y", "TY", 1, store.TradeStateSuccess, at)},
			want: []BillMismatch{{Kind: BillMismatchNotInBill, OutTradeNo: "Y", Store: "paid 2025-03-01 10:00:00"},
				{Kind: BillMismatchNotInBill, OutTradeNo: "Z", Store: "paid 2025-03-01 10:00:00"}}},
		{name: "amount", rows: []tradebill.Row{pay("A", "TA", 1001)}, orders: orders()[:1],
			want: []BillMismatch{{Kind: BillMismatchAmount, OutTradeNo: "A", Bill: "1001", Store: "1000"}}},
		{name: "transaction_id and state", rows: []tradebill.Row{pay("A", "TA", 1000)},
			orders: []*store.Order{order("A", "", 1000, store.TradeStateNotPay, time.Time{})},
			want: []BillMismatch{{Kind: BillMismatchOrderState, OutTradeNo: "A", Bill: "SUCCESS", Store: "NOTPAY"},
				{Kind: BillMismatchTransactionID, OutTradeNo: "A", Bill: "TA", Store: ""}}},
		{name: "unknown rows", rows: []tradebill.Row{pay("X", "TX", 5), refund("X", "TX", "RX", 5, "SUCCESS")},
			want: []BillMismatch{{Kind: BillMismatchUnknownOrder, OutTradeNo: "X", Bill: "TX"},
				{Kind: BillMismatchUnknownRefund, OutTradeNo: "X", OutRefundNo: "RX", Bill: "5"}}},
		{name: "refund amount and order", rows: []tradebill.Row{refund("A", "TA", "RA", 301, "SUCCESS")},
			refunds: []*store.Refund{ref("B", "RA", 300, store.RefundStateSuccess)},
			want: []BillMismatch{{Kind: BillMismatchRefundOrder, OutTradeNo: "A", OutRefundNo: "RA", Bill: "A", Store: "B"},
				{Kind: BillMismatchRefundAmount, OutTradeNo: "A", OutRefundNo: "RA", Bill: "301", Store: "300"}}},
		{name: "refund states",
			rows: []tradebill.Row{refund("A", "TA", "R1", 1, "SUCCESS"), refund("A", "TA", "R2", 1, "PROCESSING"),
				refund("A", "TA", "R3", 1, "REFUNDCLOSE"), refund("A", "TA", "R4", 1, "CLOSED"), refund("A", "TA", "R5", 1, "CHANGE"),
				refund("A", "TA", "R6", 1, "ABNORMAL"), refund("A", "TA", "R7", 1, "SOMETHING")},
			refunds: []*store.Refund{ref("A", "R1", 1, store.RefundStateProcessing), ref("A", "R2", 1, store.RefundStateSuccess),
				ref("A", "R3", 1, store.RefundStateClosed), ref("A", "R4", 1, store.RefundStateClosed),
				ref("A", "R5", 1, store.RefundStateSuccess), ref("A", "R6", 1, store.RefundStateAbnormal),
				ref("A", "R7", 1, store.RefundStateSuccess)},
			want: []BillMismatch{{Kind: BillMismatchRefundState, OutTradeNo: "A", OutRefundNo: "R1", Bill: "SUCCESS", Store: "PROCESSING"},
				{Kind: BillMismatchRefundState, OutTradeNo: "A", OutRefundNo: "R5", Bill: "CHANGE", Store: "SUCCESS"},
				{Kind: BillMismatchRefundState, OutTradeNo: "A", OutRefundNo: "R7", Bill: "SOMETHING", Store: "SUCCESS"}}},
		{name: "older format: 应结订单金额 and 退款金额",
			rows: []tradebill.Row{{TradeTime: at, TradeState: "SUCCESS", OutTradeNo: "A", TransactionID: "TA", SettlementTotalFee: 1000},
				{TradeTime: at, TradeState: "REFUND", OutTradeNo: "A", TransactionID: "TA", OutRefundNo: "RA", SettlementRefundFee: 299,
					RefundStatus: "SUCCESS"}},
			orders: orders()[:1], refunds: refunds(),
			want: []BillMismatch{{Kind: BillMismatchRefundAmount, OutTradeNo: "A", OutRefundNo: "RA", Bill: "299", Store: "300"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b *tradebill.Bill
			if tc.rows != nil {
				b = &tradebill.Bill{Rows: tc.rows}
			}
			got := CompareBill(b, day.Add(13*time.Hour), tc.orders, tc.refunds)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("CompareBill (-want +got):\n%s", d)
			}
		})
	}
}

// TestPayCheckBill: the day's trades through the gateway, some of whose
// notifies are lost, and an order the platform never saw; a day and a half
// later CheckBill compares the platform's bill with the store and finds
// the order paid without the gateway knowing, the refund it still has as
// PROCESSING and the order missing from the bill; after the
// reconciliation only the missing order is left.
func TestPayCheckBill(t *testing.T) {
	for _, version := range []string{PayV2, PayV3} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newPayEnv(t, payEnvOptions{version: version, signType: "MD5"})
			ctx := t.Context()
			auth := "Bearer " + e.bearer(t, e.openID)
			paid := func(amount int64) *OrderCreated {
				t.Helper()
				oc := e.createOrder(t, nil, auth, amount)
				if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: e.openID}); err != nil {
					t.Fatal(err)
				}
				if err := e.emu.WaitNotifies(ctx); err != nil {
					t.Fatal(err)
				}
				return oc
			}
			a := paid(1000)
			paid(250)
			e.notifyDown.Store(true) // the notifies from here on are lost
			c := paid(480)
			status, body := e.do(t, nil, "POST", "/pay/orders/"+a.OutTradeNo+"/refund", auth, map[string]any{"amount": 300})
			if status != 200 {
				t.Fatalf("POST refund = %d %s", status, body)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			var rc RefundCreated
			if err := json.Unmarshal(body, &rc); err != nil {
				t.Fatal(err)
			}
			// An order the store has as paid that the platform never saw.
			now := e.emu.Now()
			ghost := &store.Order{MchID: e.mchID, OutTradeNo: "GHOST" + randHex(t, 8), AppID: e.appID, OpenID: e.openID,
				Version: version, Description: "ghost", Amount: 77, State: store.TradeStateSuccess,
				TransactionID: "4200000000000000000000000000", Created: now, Updated: now, PaidAt: now}
			if err := e.g.Stores().Orders.CreateOrder(ctx, ghost); err != nil {
				t.Fatal(err)
			}
			day := now.In(tradebill.ChinaTime).Format(time.DateOnly)

			if _, err := e.g.Payments().CheckBill(ctx, e.mchID, day); err == nil {
				t.Error("CheckBill of today = nil error, want the platform's (no bill yet)")
			}
			// The next day after 10:00, whatever the time now; the lost
			// notifies' retries are refused too.
			if _, err := e.emu.Advance(34 * time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			check := func() *BillCheck {
				t.Helper()
				res, err := e.g.Payments().CheckBill(ctx, e.mchID, day)
				if err != nil {
					t.Fatalf("CheckBill = %v", err)
				}
				return res
			}
			info, err := e.emu.MerchantOrder(e.mchID, c.OutTradeNo)
			if err != nil {
				t.Fatal(err)
			}
			res := check()
			want := []BillMismatch{
				{Kind: BillMismatchOrderState, OutTradeNo: c.OutTradeNo, Bill: "SUCCESS", Store: "NOTPAY"},
				{Kind: BillMismatchTransactionID, OutTradeNo: c.OutTradeNo, Bill: info.TransactionID}, // the store has none
				{Kind: BillMismatchRefundState, OutTradeNo: a.OutTradeNo, OutRefundNo: rc.OutRefundNo, Bill: "SUCCESS", Store: "PROCESSING"},
				{Kind: BillMismatchNotInBill, OutTradeNo: ghost.OutTradeNo, Store: "paid " + now.In(tradebill.ChinaTime).Format(time.DateTime)},
			}
			if d := cmp.Diff(want, res.Mismatches); d != "" {
				t.Errorf("CheckBill mismatches (-want +got):\n%s", d)
			}
			if res.Rows != 4 || res.Paid != 3 || res.Bill == nil || len(res.Data) == 0 {
				t.Errorf("CheckBill = %d rows, %d paid in the store; want 4 and 3 (the ghost, the two notified)", res.Rows, res.Paid)
			}

			// The reconciliation settles what the lost notifies would have.
			if _, err := e.g.Payments().Reconcile(ctx, store.OrderQuery{}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.g.Payments().ReconcileRefunds(ctx, store.RefundQuery{}); err != nil {
				t.Fatal(err)
			}
			res = check()
			if d := cmp.Diff(want[3:], res.Mismatches); d != "" {
				t.Errorf("CheckBill after the reconciliation (-want +got):\n%s", d)
			}

			// A day without trades is an empty bill once due.
			before := now.Add(-48 * time.Hour).In(tradebill.ChinaTime).Format(time.DateOnly)
			if res, err := e.g.Payments().CheckBill(ctx, e.mchID, before); err != nil || len(res.Mismatches) != 0 || res.Bill != nil {
				t.Errorf("CheckBill of a day without trades = %+v, %v; want no mismatch", res, err)
			}
		})
	}
}
