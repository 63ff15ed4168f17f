package tradebill

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Type is the kind of trade bill asked for (bill_type).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
type Type string

// The bill types.
const (
	// TypeAll: the day's payments and refunds (not recharge refunds); the
	// default.
	TypeAll Type = "ALL"
	// TypeSuccess: the day's payments.
	TypeSuccess Type = "SUCCESS"
	// TypeRefund: the day's refunds (not recharge refunds).
	TypeRefund Type = "REFUND"
	// TypeRechargeRefund: the day's refunds of recharge coupons.
	TypeRechargeRefund Type = "RECHARGE_REFUND"
)

// Valid reports whether t is one of the bill types above.
func (t Type) Valid() bool {
	switch t {
	case TypeAll, TypeSuccess, TypeRefund, TypeRechargeRefund:
		return true
	}
	return false
}

// TarTypeGZIP asks for the bill compressed with gzip (tar_type=GZIP).
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
const TarTypeGZIP = "GZIP"

// ChinaTime is UTC+8, the zone of the bill's times and of its days: the
// bill of a day holds what happened from 00:00 to 24:00 China time.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// timeLayout is the layout of 交易时间, 退款申请时间, 退款成功时间.
const timeLayout = "2006-01-02 15:04:05"

// Bill is a parsed trade bill.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
type Bill struct {
	// Header is the detail header, the column names in order.
	Header []string `json:"header"`
	// Rows are the detail lines, one per payment or refund, in file order.
	Rows []Row `json:"rows"`
	// SummaryHeader is the summary header, the column names in order.
	SummaryHeader []string `json:"summary_header"`
	// Summary is the summary line.
	Summary Summary `json:"summary"`
}

// Row is one line of a bill: a payment (TradeState SUCCESS) or a refund
// (TradeState REFUND; REVOKED for a revoked payment). Amounts are fen;
// a column absent from the bill's type leaves its field zero.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
type Row struct {
	// TradeTime is 交易时间: when the payment succeeded or the refund was
	// accepted (not when the refund succeeded).
	TradeTime     time.Time `json:"trade_time"`
	AppID         string    `json:"appid"`          // 公众账号ID
	MchID         string    `json:"mch_id"`         // 商户号
	SubMchID      string    `json:"sub_mch_id"`     // 特约商户号 (子商户号): "0" for a direct merchant
	DeviceInfo    string    `json:"device_info"`    // 设备号
	TransactionID string    `json:"transaction_id"` // 微信订单号
	OutTradeNo    string    `json:"out_trade_no"`   // 商户订单号
	OpenID        string    `json:"openid"`         // 用户标识
	TradeType     string    `json:"trade_type"`     // 交易类型: JSAPI, NATIVE, APP, MICROPAY, MWEB, FACE
	TradeState    string    `json:"trade_state"`    // 交易状态: SUCCESS, REFUND, REVOKED
	BankType      string    `json:"bank_type"`      // 付款银行
	FeeType       string    `json:"fee_type"`       // 货币种类: CNY
	// SettlementTotalFee is 应结订单金额 (总金额 in the older format): the
	// order amount less the non-cash coupons; 0 on a refund row.
	SettlementTotalFee int64 `json:"settlement_total_fee"`
	// CouponFee is 代金券金额 (代金券或立减优惠金额 in the older format).
	CouponFee int64 `json:"coupon_fee"`
	// RefundApplyTime and RefundSuccessTime (退款申请时间, 退款成功时间)
	// are in REFUND bills only.
	RefundApplyTime   time.Time `json:"refund_apply_time,omitzero"`
	RefundSuccessTime time.Time `json:"refund_success_time,omitzero"`
	RefundID          string    `json:"refund_id"`     // 微信退款单号: "0" on a payment row
	OutRefundNo       string    `json:"out_refund_no"` // 商户退款单号: "0" on a payment row
	// SettlementRefundFee is 退款金额: the refund less the non-cash
	// coupons' share.
	SettlementRefundFee int64 `json:"settlement_refund_fee"`
	// CouponRefundFee is 充值券退款金额 (代金券或立减优惠退款金额 in the
	// older format).
	CouponRefundFee int64  `json:"coupon_refund_fee"`
	RefundType      string `json:"refund_type"`   // 退款类型: ORIGINAL, BALANCE
	RefundStatus    string `json:"refund_status"` // 退款状态 when the bill was made: SUCCESS, PROCESSING, ...
	Body            string `json:"body"`          // 商品名称
	Attach          string `json:"attach"`        // 商户数据包
	// Fee is 手续费, the platform's service fee: negative on a refund row
	// (the fee given back).
	Fee int64 `json:"fee"`
	// Rate is 费率 as printed, such as "0.60%".
	Rate string `json:"rate"`
	// TotalFee is 订单金额, the order amount (coupons included); 0 on a
	// refund row.
	TotalFee int64 `json:"total_fee"`
	// RefundFee is 申请退款金额, the refund asked for; 0 on a payment row.
	RefundFee  int64  `json:"refund_fee"`
	RateRemark string `json:"rate_remark"` // 费率备注
	// Raw holds every field of the line by column name, backtick removed.
	Raw map[string]string `json:"-"`
}

// Summary is a bill's summary line. Amounts are fen.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
type Summary struct {
	Count int `json:"count"` // 总交易单数: the number of rows
	// SettlementTotalFee is 应结订单总金额 (总交易额 in the older format).
	SettlementTotalFee int64 `json:"settlement_total_fee"`
	// RefundFee is 退款总金额 (总退款金额).
	RefundFee int64 `json:"refund_fee"`
	// CouponRefundFee is 充值券退款总金额 (总代金券或立减优惠退款金额).
	CouponRefundFee int64 `json:"coupon_refund_fee"`
	// Fee is 手续费总金额: the fees less the fees given back.
	Fee int64 `json:"fee"`
	// TotalFee is 订单总金额.
	TotalFee int64 `json:"total_fee"`
	// ApplyRefundFee is 申请退款总金额.
	ApplyRefundFee int64 `json:"apply_refund_fee"`
	// Raw holds every field by column name, backtick removed.
	Raw map[string]string `json:"-"`
}

// rowColumn sets one field of a Row from its text.
type rowColumn func(r *Row, v string) error

func str(f func(r *Row) *string) rowColumn {
	return func(r *Row, v string) error { *f(r) = v; return nil }
}

func amount(f func(r *Row) *int64) rowColumn {
	return func(r *Row, v string) error {
		n, err := ParseAmount(v)
		*f(r) = n
		return err
	}
}

func when(f func(r *Row) *time.Time) rowColumn {
	return func(r *Row, v string) error {
		if v == "" {
			return nil
		}
		t, err := time.ParseInLocation(timeLayout, v, ChinaTime)
		if err != nil {
			return fmt.Errorf("tradebill: time %q: want yyyy-MM-dd HH:mm:ss", v)
		}
		*f(r) = t
		return nil
	}
}

// rowColumns maps the detail columns, current and older names, to Row.
var rowColumns = map[string]rowColumn{
	"交易时间":         when(func(r *Row) *time.Time { return &r.TradeTime }),
	"公众账号ID":       str(func(r *Row) *string { return &r.AppID }),
	"商户号":          str(func(r *Row) *string { return &r.MchID }),
	"特约商户号":        str(func(r *Row) *string { return &r.SubMchID }),
	"子商户号":         str(func(r *Row) *string { return &r.SubMchID }),
	"设备号":          str(func(r *Row) *string { return &r.DeviceInfo }),
	"微信订单号":        str(func(r *Row) *string { return &r.TransactionID }),
	"商户订单号":        str(func(r *Row) *string { return &r.OutTradeNo }),
	"用户标识":         str(func(r *Row) *string { return &r.OpenID }),
	"交易类型":         str(func(r *Row) *string { return &r.TradeType }),
	"交易状态":         str(func(r *Row) *string { return &r.TradeState }),
	"付款银行":         str(func(r *Row) *string { return &r.BankType }),
	"货币种类":         str(func(r *Row) *string { return &r.FeeType }),
	"应结订单金额":       amount(func(r *Row) *int64 { return &r.SettlementTotalFee }),
	"总金额":          amount(func(r *Row) *int64 { return &r.SettlementTotalFee }),
	"代金券金额":        amount(func(r *Row) *int64 { return &r.CouponFee }),
	"代金券或立减优惠金额":   amount(func(r *Row) *int64 { return &r.CouponFee }),
	"退款申请时间":       when(func(r *Row) *time.Time { return &r.RefundApplyTime }),
	"退款成功时间":       when(func(r *Row) *time.Time { return &r.RefundSuccessTime }),
	"微信退款单号":       str(func(r *Row) *string { return &r.RefundID }),
	"商户退款单号":       str(func(r *Row) *string { return &r.OutRefundNo }),
	"退款金额":         amount(func(r *Row) *int64 { return &r.SettlementRefundFee }),
	"充值券退款金额":      amount(func(r *Row) *int64 { return &r.CouponRefundFee }),
	"代金券或立减优惠退款金额": amount(func(r *Row) *int64 { return &r.CouponRefundFee }),
	"退款类型":         str(func(r *Row) *string { return &r.RefundType }),
	"退款状态":         str(func(r *Row) *string { return &r.RefundStatus }),
	"商品名称":         str(func(r *Row) *string { return &r.Body }),
	"商户数据包":        str(func(r *Row) *string { return &r.Attach }),
	"手续费":          amount(func(r *Row) *int64 { return &r.Fee }),
	"费率":           str(func(r *Row) *string { return &r.Rate }),
	"订单金额":         amount(func(r *Row) *int64 { return &r.TotalFee }),
	"申请退款金额":       amount(func(r *Row) *int64 { return &r.RefundFee }),
	"费率备注":         str(func(r *Row) *string { return &r.RateRemark }),
}

// summaryColumns maps the summary columns, current and older names, to
// Summary's amounts (总交易单数 is handled apart).
var summaryColumns = map[string]func(s *Summary) *int64{
	"应结订单总金额":       func(s *Summary) *int64 { return &s.SettlementTotalFee },
	"总交易额":          func(s *Summary) *int64 { return &s.SettlementTotalFee },
	"退款总金额":         func(s *Summary) *int64 { return &s.RefundFee },
	"总退款金额":         func(s *Summary) *int64 { return &s.RefundFee },
	"充值券退款总金额":      func(s *Summary) *int64 { return &s.CouponRefundFee },
	"总代金券或立减优惠退款金额": func(s *Summary) *int64 { return &s.CouponRefundFee },
	"手续费总金额":        func(s *Summary) *int64 { return &s.Fee },
	"订单总金额":         func(s *Summary) *int64 { return &s.TotalFee },
	"申请退款总金额":       func(s *Summary) *int64 { return &s.ApplyRefundFee },
}

// Parse reads a bill as downloaded (uncompressed; see Gunzip). Line ends
// may be \n or \r\n, a UTF-8 byte order mark is skipped, blank lines are
// ignored. The detail header must come first, then the data lines (each
// field starting with a backtick), then the summary header and the summary
// line; each line must have as many fields as its header. An error names
// the line.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
func Parse(data []byte) (*Bill, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	type line struct {
		n    int
		text string
	}
	var lines []line
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) != "" {
			lines = append(lines, line{i + 1, l})
		}
	}
	if len(lines) == 0 {
		return nil, errEmpty
	}
	if strings.HasPrefix(lines[0].text, "`") {
		return nil, fmt.Errorf("tradebill: line %d: want the detail header, got data", lines[0].n)
	}
	if strings.HasPrefix(strings.TrimSpace(lines[0].text), "<") {
		return nil, fmt.Errorf("tradebill: line %d: not a bill (XML: an error reply?)", lines[0].n)
	}
	b := &Bill{Header: splitHeader(lines[0].text)}
	i := 1
	for ; i < len(lines) && strings.HasPrefix(lines[i].text, "`"); i++ {
		fields, err := splitData(lines[i].text, len(b.Header))
		if err != nil {
			return nil, fmt.Errorf("tradebill: line %d: %w", lines[i].n, err)
		}
		r := Row{Raw: make(map[string]string, len(fields))}
		for j, v := range fields {
			name := b.Header[j]
			r.Raw[name] = v
			if set := rowColumns[name]; set != nil {
				if err := set(&r, v); err != nil {
					return nil, fmt.Errorf("tradebill: line %d: %s: %w", lines[i].n, name, err)
				}
			}
		}
		b.Rows = append(b.Rows, r)
	}
	if i >= len(lines) {
		return nil, fmt.Errorf("tradebill: no summary header after line %d", lines[len(lines)-1].n)
	}
	b.SummaryHeader = splitHeader(lines[i].text)
	if i+1 >= len(lines) {
		return nil, fmt.Errorf("tradebill: line %d: summary header without a summary line", lines[i].n)
	}
	sl := lines[i+1]
	if i+2 < len(lines) {
		return nil, fmt.Errorf("tradebill: line %d: unexpected text after the summary", lines[i+2].n)
	}
	if !strings.HasPrefix(sl.text, "`") {
		return nil, fmt.Errorf("tradebill: line %d: summary fields must start with a backtick", sl.n)
	}
	fields, err := splitData(sl.text, len(b.SummaryHeader))
	if err != nil {
		return nil, fmt.Errorf("tradebill: line %d: %w", sl.n, err)
	}
	b.Summary.Raw = make(map[string]string, len(fields))
	for j, v := range fields {
		name := b.SummaryHeader[j]
		b.Summary.Raw[name] = v
		switch {
		case name == "总交易单数":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("tradebill: line %d: 总交易单数 %q is not a count", sl.n, v)
			}
			b.Summary.Count = n
		case summaryColumns[name] != nil:
			n, err := ParseAmount(v)
			if err != nil {
				return nil, fmt.Errorf("tradebill: line %d: %s: %w", sl.n, name, err)
			}
			*summaryColumns[name](&b.Summary) = n
		}
	}
	return b, nil
}

// splitHeader splits a header line; names are trimmed (some copies of the
// format put a space after a comma).
func splitHeader(l string) []string {
	names := strings.Split(l, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
	}
	return names
}

// splitData splits a data line into want fields, removing each field's
// leading backtick. Fields are separated by ",`", so that a comma inside a
// field (a product name) does not split it.
func splitData(l string, want int) ([]string, error) {
	fields := strings.Split(strings.TrimPrefix(l, "`"), ",`")
	if len(fields) != want {
		return nil, fmt.Errorf("%d fields, the header has %d", len(fields), want)
	}
	return fields, nil
}
