package tradebill

import (
	"errors"
	"fmt"
	"strconv"
)

// ParseAmount converts an amount of a bill, in yuan ("12.34", "0.01000",
// "-0.01", "0"), to fen, exactly: no floating point is involved. An empty
// field is 0 (a refund column of a payment row). Digits beyond the second
// decimal must be zeros: the platform rounds every amount to the fen, so
// anything else is an error rather than a silently rounded value.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
func ParseAmount(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v := s
	neg := false
	switch v[0] {
	case '-':
		neg = true
		v = v[1:]
	case '+':
		v = v[1:]
	}
	whole, frac := v, ""
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			whole, frac = v[:i], v[i+1:]
			break
		}
	}
	if whole == "" || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("tradebill: amount %q is not a decimal number of yuan", s)
	}
	for i := 2; i < len(frac); i++ {
		if frac[i] != '0' {
			return 0, fmt.Errorf("tradebill: amount %q is not a whole number of fen", s)
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	yuan, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || yuan > (1<<63-1)/100-1 {
		return 0, fmt.Errorf("tradebill: amount %q is out of range", s)
	}
	fen := yuan*100 + int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	if neg {
		fen = -fen
	}
	return fen, nil
}

// digits reports whether s is made of ASCII digits only (true for "").
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatAmount renders fen as yuan with two decimals ("12.34", "-0.01"),
// the inverse of ParseAmount.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
func FormatAmount(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign = "-"
		u = uint64(-(fen + 1)) + 1 // no overflow for math.MinInt64
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// errEmpty is the error of an empty bill.
var errEmpty = errors.New("tradebill: empty bill")
