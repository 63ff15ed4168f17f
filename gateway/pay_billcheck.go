package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/wxkit/wxkit/pay"
	"github.com/wxkit/wxkit/pay/tradebill"
	payv3 "github.com/wxkit/wxkit/pay/v3"
	"github.com/wxkit/wxkit/store"
)

// BillMismatchKind names a difference between a trade bill and the
// gateway's store.
type BillMismatchKind string

// The differences CompareBill reports. Bill and Store of a BillMismatch
// hold the values compared: amounts in fen, states with the platform's
// names, "" for what is absent.
const (
	// BillMismatchUnknownOrder: a payment row whose out_trade_no the store
	// does not have (Bill: the transaction_id).
	BillMismatchUnknownOrder BillMismatchKind = "unknown_order"
	// BillMismatchOrderState: the store's order of a payment row is not
	// SUCCESS or REFUND (Bill: SUCCESS; Store: its state).
	BillMismatchOrderState BillMismatchKind = "order_state"
	// BillMismatchTransactionID: the payment row and the order have
	// different transaction_ids.
	BillMismatchTransactionID BillMismatchKind = "transaction_id"
	// BillMismatchAmount: the payment row's 订单金额 is not the order's
	// amount.
	BillMismatchAmount BillMismatchKind = "amount"
	// BillMismatchUnknownRefund: a refund row whose out_refund_no the
	// store does not have (Bill: the refund's amount).
	BillMismatchUnknownRefund BillMismatchKind = "unknown_refund"
	// BillMismatchRefundOrder: the refund row is of another out_trade_no
	// than the store's refund.
	BillMismatchRefundOrder BillMismatchKind = "refund_order"
	// BillMismatchRefundAmount: the refund row's 申请退款金额 is not the
	// refund's amount.
	BillMismatchRefundAmount BillMismatchKind = "refund_amount"
	// BillMismatchRefundState: the refund row says SUCCESS (or CLOSED, or
	// ABNORMAL) and the store's refund is in another state. A row still
	// PROCESSING when the bill was made matches any state.
	BillMismatchRefundState BillMismatchKind = "refund_state"
	// BillMismatchNotInBill: an order the store has as paid within the
	// bill's day (its PaidAt) has no payment row (Store: when it was
	// paid, China time).
	BillMismatchNotInBill BillMismatchKind = "not_in_bill"
)

// BillMismatch is one difference between a trade bill and the store.
type BillMismatch struct {
	Kind        BillMismatchKind `json:"kind"`
	OutTradeNo  string           `json:"out_trade_no"`
	OutRefundNo string           `json:"out_refund_no,omitempty"`
	Bill        string           `json:"bill"`
	Store       string           `json:"store"`
}

// BillCheck is the outcome of Payments.CheckBill.
type BillCheck struct {
	MchID string `json:"mch_id"`
	Date  string `json:"date"` // the bill's day, China time (yyyy-MM-dd)
	// Rows is how many payment and refund rows the bill has (0 for a day
	// without a bill).
	Rows int `json:"rows"`
	// Paid is how many orders the store has as paid within the day.
	Paid       int            `json:"paid"`
	Mismatches []BillMismatch `json:"mismatches"`
	// Bill is the parsed bill and Data its text, nil for a day without a
	// bill.
	Bill *tradebill.Bill `json:"-"`
	Data []byte          `json:"-"`
}

// CompareBill compares b, the ALL trade bill of the China-time day that
// contains day, with the store's orders and refunds (those of its rows,
// and those paid within the day; others are ignored), and returns the
// differences, in the bill's row order and then by out_trade_no:
//
//   - every payment row (交易状态 SUCCESS) must be an order with the same
//     out_trade_no, transaction_id and amount (订单金额), SUCCESS or
//     REFUND;
//   - every refund row (REFUND) must be a refund with the same
//     out_refund_no, out_trade_no and amount (申请退款金额), in the row's
//     state (SUCCESS, CLOSED or ABNORMAL; v2's REFUNDCLOSE and CHANGE are
//     taken as CLOSED and ABNORMAL) unless the row was PROCESSING;
//   - every order the store has as paid within the day must have a
//     payment row.
//
// Bills of the older format without 订单金额 or 申请退款金额 are compared
// on 应结订单金额 and 退款金额.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
func CompareBill(b *tradebill.Bill, day time.Time, orders []*store.Order, refunds []*store.Refund) []BillMismatch {
	d := day.In(tradebill.ChinaTime)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, tradebill.ChinaTime)
	end := start.AddDate(0, 0, 1)
	byNo := map[string]*store.Order{}
	for _, o := range orders {
		byNo[o.OutTradeNo] = o
	}
	refundByNo := map[string]*store.Refund{}
	for _, r := range refunds {
		refundByNo[r.OutRefundNo] = r
	}
	fen := func(n int64) string { return strconv.FormatInt(n, 10) }
	var out []BillMismatch
	inBill := map[string]bool{}
	var rows []tradebill.Row
	if b != nil {
		rows = b.Rows
	}
	for _, row := range rows {
		switch row.TradeState {
		case "SUCCESS":
			inBill[row.OutTradeNo] = true
			amount := row.TotalFee
			if _, ok := row.Raw["订单金额"]; !ok && amount == 0 {
				amount = row.SettlementTotalFee
			}
			o := byNo[row.OutTradeNo]
			add := func(k BillMismatchKind, bill, st string) {
				out = append(out, BillMismatch{Kind: k, OutTradeNo: row.OutTradeNo, Bill: bill, Store: st})
			}
			if o == nil {
				add(BillMismatchUnknownOrder, row.TransactionID, "")
				continue
			}
			if o.State != store.TradeStateSuccess && o.State != store.TradeStateRefund {
				add(BillMismatchOrderState, row.TradeState, string(o.State))
			}
			if o.TransactionID != row.TransactionID {
				add(BillMismatchTransactionID, row.TransactionID, o.TransactionID)
			}
			if o.Amount != amount {
				add(BillMismatchAmount, fen(amount), fen(o.Amount))
			}
		case "REFUND":
			amount := row.RefundFee
			if _, ok := row.Raw["申请退款金额"]; !ok && amount == 0 {
				amount = row.SettlementRefundFee
			}
			r := refundByNo[row.OutRefundNo]
			add := func(k BillMismatchKind, bill, st string) {
				out = append(out, BillMismatch{Kind: k, OutTradeNo: row.OutTradeNo, OutRefundNo: row.OutRefundNo, Bill: bill, Store: st})
			}
			if r == nil {
				add(BillMismatchUnknownRefund, fen(amount), "")
				continue
			}
			if r.OutTradeNo != row.OutTradeNo {
				add(BillMismatchRefundOrder, row.OutTradeNo, r.OutTradeNo)
			}
			if r.Amount != amount {
				add(BillMismatchRefundAmount, fen(amount), fen(r.Amount))
			}
			if st := billRefundState(row.RefundStatus); st != store.RefundStateProcessing && st != r.State {
				add(BillMismatchRefundState, row.RefundStatus, string(r.State))
			}
		}
	}
	var missing []BillMismatch
	for _, o := range orders {
		if o.PaidAt.IsZero() || o.PaidAt.Before(start) || !o.PaidAt.Before(end) || inBill[o.OutTradeNo] {
			continue
		}
		inBill[o.OutTradeNo] = true // listed once
		missing = append(missing, BillMismatch{Kind: BillMismatchNotInBill, OutTradeNo: o.OutTradeNo,
			Store: "paid " + o.PaidAt.In(tradebill.ChinaTime).Format(time.DateTime)})
	}
	slices.SortFunc(missing, func(a, b BillMismatch) int {
		switch {
		case a.OutTradeNo < b.OutTradeNo:
			return -1
		case a.OutTradeNo > b.OutTradeNo:
			return 1
		}
		return 0
	})
	return append(out, missing...)
}

// billRefundState maps a bill's 退款状态 to the store's refund states; an
// unknown one is returned as it is (and so matches no state).
func billRefundState(s string) store.RefundState {
	switch s {
	case "REFUNDCLOSE":
		return store.RefundStateClosed
	case "CHANGE":
		return store.RefundStateAbnormal
	}
	return store.RefundState(s)
}

// billReadyHour is the hour (China time) of the next day from which the
// platform serves a day's bill.
const billReadyHour = 10

// CheckBill downloads merchant mchID's ALL trade bill of day (China time,
// "2006-01-02", see TradeBill) and compares it with the store
// (CompareBill): the orders and refunds of its rows, and the orders paid
// within the day (those created up to a day and the order timeout before
// it). A day the platform has no bill for, once its bill is due (10:00 the
// next day), is an empty bill, so that orders paid that day show as
// missing; before that, the platform's error is returned.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6 ,
// https://pay.weixin.qq.com/docs/merchant/apis/jsapi-payment/trade-bill.html
func (p *Payments) CheckBill(ctx context.Context, mchID, day string) (*BillCheck, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, tradebill.ChinaTime)
	if err != nil {
		return nil, fmt.Errorf("pay: bill date %q: want yyyy-MM-dd", day)
	}
	end := d.AddDate(0, 0, 1)
	res := &BillCheck{MchID: mchID, Date: day}
	b, data, err := p.TradeBill(ctx, mchID, day, tradebill.TypeAll)
	switch {
	case err == nil:
		res.Bill, res.Data, res.Rows = b, data, len(b.Rows)
	case (errors.Is(err, pay.ErrNoBill) || errors.Is(err, payv3.ErrNoStatementExist)) &&
		!p.now().Before(end.Add(billReadyHour*time.Hour)):
		// No payment or refund that day, as far as the platform knows.
	default:
		return nil, err
	}

	var orders []*store.Order
	var refunds []*store.Refund
	seen := map[string]bool{}
	addOrder := func(o *store.Order) {
		if !seen[o.OutTradeNo] {
			seen[o.OutTradeNo] = true
			orders = append(orders, o)
		}
	}
	if b != nil {
		for _, row := range b.Rows {
			switch row.TradeState {
			case "SUCCESS":
				if seen[row.OutTradeNo] {
					continue
				}
				o, err := p.orders.Order(ctx, mchID, row.OutTradeNo)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("pay: order %s: %w", row.OutTradeNo, err)
				}
				addOrder(o)
			case "REFUND":
				r, err := p.orders.Refund(ctx, mchID, row.OutRefundNo)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("pay: refund %s: %w", row.OutRefundNo, err)
				}
				refunds = append(refunds, r)
			}
		}
	}
	// An order is paid before it expires: one paid within the day was
	// created at most the order timeout before it (a day more, for orders
	// placed under a longer timeout).
	oldest := d.Add(-time.Duration(p.cfg.Pay.OrderTimeout) - 24*time.Hour)
	err = p.eachOrder(ctx, store.OrderQuery{MchID: mchID, States: []store.TradeState{store.TradeStateSuccess, store.TradeStateRefund},
		CreatedBefore: end}, func(o *store.Order) bool {
		if o.Created.Before(oldest) {
			return false
		}
		if !o.PaidAt.IsZero() && !o.PaidAt.Before(d) && o.PaidAt.Before(end) {
			res.Paid++
			addOrder(o)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("pay: the orders of %s: %w", day, err)
	}
	res.Mismatches = CompareBill(b, d, orders, refunds)
	if res.Mismatches == nil {
		res.Mismatches = []BillMismatch{}
	}
	return res, nil
}
