package sqlite

import (
	"database/sql"
	"strings"
	"time"
)

// listFilter builds the WHERE clause and arguments of a listing (Orders,
// Refunds): each method adds a condition when its value is set.
type listFilter struct {
	where []string
	args  []any
}

// eq adds col = v when v is not empty.
func (f *listFilter) eq(col, v string) {
	if v != "" {
		f.where, f.args = append(f.where, col+" = ?"), append(f.args, v)
	}
}

// in adds col IN (vs...) when vs is not empty.
func (f *listFilter) in(col string, vs []string) {
	if len(vs) == 0 {
		return
	}
	f.where = append(f.where, col+" IN (?"+strings.Repeat(", ?", len(vs)-1)+")")
	for _, v := range vs {
		f.args = append(f.args, v)
	}
}

// before adds col < t (Unix milliseconds, as stored) when t is set.
func (f *listFilter) before(col string, t time.Time) {
	if !t.IsZero() {
		f.where, f.args = append(f.where, col+" < ?"), append(f.args, t.UnixMilli())
	}
}

// query returns selectFrom with the conditions, ordered by orderBy, at
// most limit rows (DefaultOrdersLimit when limit <= 0), and appends the
// limit to the arguments.
func (f *listFilter) query(selectFrom, orderBy string, limit int) string {
	if limit <= 0 {
		limit = DefaultOrdersLimit
	}
	q := selectFrom
	if len(f.where) > 0 {
		q += ` WHERE ` + strings.Join(f.where, " AND ")
	}
	f.args = append(f.args, limit)
	return q + ` ORDER BY ` + orderBy + ` LIMIT ?`
}

// collectRows scans every row with scan and closes rows.
func collectRows[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
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
