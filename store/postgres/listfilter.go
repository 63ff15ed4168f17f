package postgres

import (
	"strconv"
	"strings"
	"time"
)

// listFilter builds the WHERE clause and arguments of a listing (Orders,
// Refunds): each method adds a condition when its value is set.
type listFilter struct {
	where []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder ($n).
func (f *listFilter) arg(v any) string {
	f.args = append(f.args, v)
	return "$" + strconv.Itoa(len(f.args))
}

// eq adds col = v when v is not empty.
func (f *listFilter) eq(col, v string) {
	if v != "" {
		f.where = append(f.where, col+" = "+f.arg(v))
	}
}

// in adds col = ANY(vs) when vs is not empty.
func (f *listFilter) in(col string, vs []string) {
	if len(vs) > 0 {
		f.where = append(f.where, col+" = ANY("+f.arg(vs)+")")
	}
}

// before adds col < t (milliseconds, as stored) when t is set.
func (f *listFilter) before(col string, t time.Time) {
	if !t.IsZero() {
		f.where = append(f.where, col+" < "+f.arg(ms(t)))
	}
}

// query returns selectFrom with the conditions, ordered by orderBy, at
// most limit rows (DefaultOrdersLimit when limit <= 0).
func (f *listFilter) query(selectFrom, orderBy string, limit int) string {
	if limit <= 0 {
		limit = DefaultOrdersLimit
	}
	q := selectFrom
	if len(f.where) > 0 {
		q += ` WHERE ` + strings.Join(f.where, " AND ")
	}
	return q + ` ORDER BY ` + orderBy + ` LIMIT ` + f.arg(limit)
}

// stateStrings returns states (store.TradeState or store.RefundState) as
// strings.
func stateStrings[S ~string](states []S) []string {
	out := make([]string, len(states))
	for i, st := range states {
		out[i] = string(st)
	}
	return out
}
