package pay

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// RefundQueryRequest names what to query; set one of RefundID,
// OutRefundNo, TransactionID, OutTradeNo (in that order of precedence). An
// order with more than 10 refunds is paged with Offset, queried by
// TransactionID or OutTradeNo.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
type RefundQueryRequest struct {
	TransactionID string // transaction_id
	OutTradeNo    string // out_trade_no
	OutRefundNo   string // out_refund_no
	RefundID      string // refund_id
	Offset        int    // offset: first refund to list; sent when > 0
}

// OrderRefunds is the result of RefundQuery: the order and its refunds.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
type OrderRefunds struct {
	TransactionID      string         `json:"transaction_id"`
	OutTradeNo         string         `json:"out_trade_no"`
	TotalFee           int64          `json:"total_fee"`
	SettlementTotalFee int64          `json:"settlement_total_fee,omitempty"`
	FeeType            string         `json:"fee_type,omitempty"`
	CashFee            int64          `json:"cash_fee"`
	TotalRefundCount   int            `json:"total_refund_count,omitempty"` // all refunds of the order (when paged)
	RefundCount        int            `json:"refund_count"`                 // refunds in this reply
	Refunds            []RefundRecord `json:"refunds"`                      // the *_$n fields, in index order
	NonceStr           string         `json:"nonce_str,omitempty"`
	// Raw holds every field of the verified reply.
	Raw map[string]string `json:"-"`
}

// RefundRecord is one refund of a RefundQuery result (the fields with
// suffix _$n).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
type RefundRecord struct {
	OutRefundNo         string         `json:"out_refund_no"`            // out_refund_no_$n
	RefundID            string         `json:"refund_id"`                // refund_id_$n
	RefundChannel       string         `json:"refund_channel,omitempty"` // refund_channel_$n: ORIGINAL or BALANCE
	RefundFee           int64          `json:"refund_fee"`               // refund_fee_$n
	SettlementRefundFee int64          `json:"settlement_refund_fee,omitempty"`
	CouponRefundFee     int64          `json:"coupon_refund_fee,omitempty"`   // coupon_refund_fee_$n
	CouponRefundCount   int            `json:"coupon_refund_count,omitempty"` // coupon_refund_count_$n
	Coupons             []RefundCoupon `json:"coupons,omitempty"`             // coupon_*_$n_$m
	Status              RefundStatus   `json:"refund_status"`                 // refund_status_$n
	Account             string         `json:"refund_account,omitempty"`      // refund_account_$n
	RecvAccount         string         `json:"refund_recv_accout,omitempty"`  // refund_recv_accout_$n (sic): where the money went
	SuccessTime         time.Time      `json:"refund_success_time,omitzero"`  // refund_success_time_$n (China time)
}

// RefundQuery queries refunds (pay/refundquery). A refund still
// PROCESSING is queried again later; an unknown one is ErrRefundNotExist.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
func (c *Client) RefundQuery(ctx context.Context, r *RefundQueryRequest) (*OrderRefunds, error) {
	if r == nil || (r.TransactionID == "" && r.OutTradeNo == "" && r.OutRefundNo == "" && r.RefundID == "") {
		return nil, errors.New("pay: RefundQuery: one of TransactionID, OutTradeNo, OutRefundNo, RefundID is required")
	}
	if r.Offset < 0 {
		return nil, errors.New("pay: RefundQuery: negative Offset")
	}
	p := params{}
	p.set("transaction_id", r.TransactionID)
	p.set("out_trade_no", r.OutTradeNo)
	p.set("out_refund_no", r.OutRefundNo)
	p.set("refund_id", r.RefundID)
	if r.Offset > 0 {
		p.set("offset", strconv.Itoa(r.Offset))
	}
	const path = "pay/refundquery"
	m, err := c.call(ctx, path, p, false)
	if err != nil {
		return nil, err
	}
	return decodeOrderRefunds(path, m)
}

func decodeOrderRefunds(path string, m map[string]string) (*OrderRefunds, error) {
	f := &fieldReader{m: m}
	res := &OrderRefunds{
		TransactionID:      f.str("transaction_id"),
		OutTradeNo:         f.str("out_trade_no"),
		TotalFee:           f.int64("total_fee"),
		SettlementTotalFee: f.int64("settlement_total_fee"),
		FeeType:            f.str("fee_type"),
		CashFee:            f.int64("cash_fee"),
		TotalRefundCount:   f.int("total_refund_count"),
		RefundCount:        f.int("refund_count"),
		NonceStr:           f.str("nonce_str"),
		Raw:                m,
	}
	n := f.indexed(res.RefundCount, "out_refund_no_", "refund_id_", "refund_status_")
	for i := range n {
		s := strconv.Itoa(i)
		rr := RefundRecord{
			OutRefundNo:         f.str("out_refund_no_" + s),
			RefundID:            f.str("refund_id_" + s),
			RefundChannel:       f.str("refund_channel_" + s),
			RefundFee:           f.int64("refund_fee_" + s),
			SettlementRefundFee: f.int64("settlement_refund_fee_" + s),
			CouponRefundFee:     f.int64("coupon_refund_fee_" + s),
			CouponRefundCount:   f.int("coupon_refund_count_" + s),
			Status:              RefundStatus(f.str("refund_status_" + s)),
			Account:             f.str("refund_account_" + s),
			RecvAccount:         f.str("refund_recv_accout_" + s),
			SuccessTime:         f.time("refund_success_time_"+s, layoutSpaced),
		}
		rr.Coupons = f.refundCoupons(rr.CouponRefundCount, s+"_")
		res.Refunds = append(res.Refunds, rr)
	}
	if f.err != nil {
		return nil, replyError(path, f.err)
	}
	return res, nil
}
