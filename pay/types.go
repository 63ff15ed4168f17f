package pay

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TradeType is the v2 trade_type: how the user pays.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
type TradeType string

// The trade types. This package creates JSAPI, NATIVE and MWEB orders;
// the others may appear in OrderQuery results.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
const (
	TradeTypeJSAPI    TradeType = "JSAPI"    // in the WeChat client (Official Account page or Mini Program); needs OpenID
	TradeTypeNative   TradeType = "NATIVE"   // QR code (code_url); needs ProductID
	TradeTypeMWEB     TradeType = "MWEB"     // H5 in an outside browser (mweb_url)
	TradeTypeApp      TradeType = "APP"      // native app
	TradeTypeMicropay TradeType = "MICROPAY" // the merchant scans the user's code
)

// TradeState is an order's trade_state in OrderQuery results. Values the
// package does not list are passed through as they are.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
type TradeState string

// The trade states.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_2
const (
	TradeStateSuccess    TradeState = "SUCCESS"    // paid
	TradeStateRefund     TradeState = "REFUND"     // paid, then (partly) refunded
	TradeStateNotPay     TradeState = "NOTPAY"     // not paid yet
	TradeStateClosed     TradeState = "CLOSED"     // closed (closeorder, or expired)
	TradeStateRevoked    TradeState = "REVOKED"    // revoked (MICROPAY)
	TradeStateUserPaying TradeState = "USERPAYING" // the user is entering the password (MICROPAY)
	TradeStatePayError   TradeState = "PAYERROR"   // payment failed (bank refused)
)

// RefundStatus is the state of one refund (refund_status in refundquery
// results and refund notifies).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
type RefundStatus string

// The refund states.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_5
const (
	RefundStatusSuccess     RefundStatus = "SUCCESS"     // refunded
	RefundStatusProcessing  RefundStatus = "PROCESSING"  // in progress (refundquery only)
	RefundStatusChange      RefundStatus = "CHANGE"      // failed to reach the user's account: handle by hand
	RefundStatusRefundClose RefundStatus = "REFUNDCLOSE" // closed
)

// CouponType is a coupon's coupon_type.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7
type CouponType string

// The coupon types.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7
const (
	CouponTypeCash   CouponType = "CASH"    // 充值代金券
	CouponTypeNoCash CouponType = "NO_CASH" // 非充值优惠券
)

// Coupon is one coupon used in a payment: the coupon_id_$n, coupon_type_$n
// and coupon_fee_$n fields (n from 0).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7
type Coupon struct {
	ID   string     `json:"id"`             // coupon_id_$n
	Type CouponType `json:"type,omitempty"` // coupon_type_$n
	Fee  int64      `json:"fee"`            // coupon_fee_$n, fen
}

// RefundCoupon is one coupon refunded: coupon_refund_id, coupon_type and
// coupon_refund_fee with their indices.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_4
type RefundCoupon struct {
	ID   string     `json:"id"`             // coupon_refund_id_…
	Type CouponType `json:"type,omitempty"` // coupon_type_…
	Fee  int64      `json:"fee"`            // coupon_refund_fee_…, fen
}

// Payment holds the fields that an orderquery reply and a pay notify
// share. Amounts are int64 fen.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7
type Payment struct {
	AppID              string    `json:"appid"`
	MchID              string    `json:"mch_id"`
	DeviceInfo         string    `json:"device_info,omitempty"`
	OpenID             string    `json:"openid,omitempty"`
	IsSubscribe        string    `json:"is_subscribe,omitempty"` // "Y" or "N"
	TradeType          TradeType `json:"trade_type,omitempty"`
	BankType           string    `json:"bank_type,omitempty"`
	TotalFee           int64     `json:"total_fee"`
	SettlementTotalFee int64     `json:"settlement_total_fee,omitempty"` // total_fee less non-cash coupons
	FeeType            string    `json:"fee_type,omitempty"`             // "CNY"
	CashFee            int64     `json:"cash_fee"`
	CashFeeType        string    `json:"cash_fee_type,omitempty"`
	CouponFee          int64     `json:"coupon_fee,omitempty"`
	CouponCount        int       `json:"coupon_count,omitempty"`
	Coupons            []Coupon  `json:"coupons,omitempty"` // coupon_*_$n, in index order
	TransactionID      string    `json:"transaction_id,omitempty"`
	OutTradeNo         string    `json:"out_trade_no"`
	Attach             string    `json:"attach,omitempty"`
	TimeEnd            time.Time `json:"time_end,omitzero"` // time_end (yyyyMMddHHmmss, China time)
}

// chinaTime is UTC+8, the zone of every v2 time field.
var chinaTime = time.FixedZone("CST", 8*60*60)

// Layouts of the v2 time fields.
const (
	layoutCompact = "20060102150405"      // time_end, time_start, time_expire
	layoutSpaced  = "2006-01-02 15:04:05" // success_time, refund_success_time_$n
)

// fieldReader reads typed values from a decoded document, keeping the
// first conversion error.
type fieldReader struct {
	m   map[string]string
	err error
}

func (f *fieldReader) str(k string) string { return f.m[k] }

// int64 reads an amount (fen) or a count; absent or empty is 0, anything
// but a non-negative decimal integer is an error.
func (f *fieldReader) int64(k string) int64 {
	v := f.m[k]
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if (err != nil || n < 0) && f.err == nil {
		f.err = fmt.Errorf("%w: field %s = %q is not a non-negative integer", ErrMalformed, k, v)
	}
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (f *fieldReader) int(k string) int {
	n := f.int64(k)
	if (n < 0 || n > maxFields) && f.err == nil {
		f.err = fmt.Errorf("%w: field %s = %d is out of range", ErrMalformed, k, n)
		return 0
	}
	return int(n)
}

// time reads a China-time field; a value that does not parse is left zero
// (the raw map keeps it) rather than failing a whole notify over it.
func (f *fieldReader) time(k, layout string) time.Time {
	v := strings.TrimSpace(f.m[k])
	if v == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation(layout, v, chinaTime)
	if err != nil {
		return time.Time{}
	}
	return t
}

// indexed returns how many entries a "$n" list has: count, raised to one
// past the highest index n for which prefix+n is a field (for each prefix).
// A list longer than maxFields is an error.
func (f *fieldReader) indexed(count int, prefixes ...string) int {
	n := count
	for k := range f.m {
		for _, p := range prefixes {
			rest, ok := strings.CutPrefix(k, p)
			if !ok || !isDigits(rest) || len(rest) > 6 {
				continue
			}
			if i, err := strconv.Atoi(rest); err == nil && i+1 > n {
				n = i + 1
			}
		}
	}
	if n > maxFields {
		if f.err == nil {
			f.err = fmt.Errorf("%w: list %s… has %d entries", ErrMalformed, prefixes[0], n)
		}
		return 0
	}
	return n
}

// coupons reads coupon_id_$n, coupon_type_$n and coupon_fee_$n.
func (f *fieldReader) coupons(count int) []Coupon {
	n := f.indexed(count, "coupon_id_", "coupon_type_", "coupon_fee_")
	if n == 0 {
		return nil
	}
	cs := make([]Coupon, n)
	for i := range cs {
		s := strconv.Itoa(i)
		cs[i] = Coupon{ID: f.str("coupon_id_" + s), Type: CouponType(f.str("coupon_type_" + s)), Fee: f.int64("coupon_fee_" + s)}
	}
	return cs
}

// refundCoupons reads coupon_refund_id_<sfx>$m, coupon_type_<sfx>$m and
// coupon_refund_fee_<sfx>$m, where sfx is "" (refund reply) or "$n_"
// (refundquery reply).
func (f *fieldReader) refundCoupons(count int, sfx string) []RefundCoupon {
	n := f.indexed(count, "coupon_refund_id_"+sfx, "coupon_type_"+sfx, "coupon_refund_fee_"+sfx)
	if n == 0 {
		return nil
	}
	cs := make([]RefundCoupon, n)
	for i := range cs {
		s := sfx + strconv.Itoa(i)
		cs[i] = RefundCoupon{ID: f.str("coupon_refund_id_" + s), Type: CouponType(f.str("coupon_type_" + s)), Fee: f.int64("coupon_refund_fee_" + s)}
	}
	return cs
}

// payment reads the fields shared by orderquery replies and pay notifies.
func (f *fieldReader) payment() Payment {
	p := Payment{
		AppID:              f.str("appid"),
		MchID:              f.str("mch_id"),
		DeviceInfo:         f.str("device_info"),
		OpenID:             f.str("openid"),
		IsSubscribe:        f.str("is_subscribe"),
		TradeType:          TradeType(f.str("trade_type")),
		BankType:           f.str("bank_type"),
		TotalFee:           f.int64("total_fee"),
		SettlementTotalFee: f.int64("settlement_total_fee"),
		FeeType:            f.str("fee_type"),
		CashFee:            f.int64("cash_fee"),
		CashFeeType:        f.str("cash_fee_type"),
		CouponFee:          f.int64("coupon_fee"),
		CouponCount:        f.int("coupon_count"),
		TransactionID:      f.str("transaction_id"),
		OutTradeNo:         f.str("out_trade_no"),
		Attach:             f.str("attach"),
		TimeEnd:            f.time("time_end", layoutCompact),
	}
	p.Coupons = f.coupons(p.CouponCount)
	return p
}
