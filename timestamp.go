package wxkit

import (
	"strconv"
	"time"
)

// Timestamp is a time that WeChat carries as Unix seconds (CreateTime,
// expires_at and the like). It encodes to and decodes from a JSON number (a
// quoted number is accepted too) and XML text. The zero Timestamp encodes
// as 0.
type Timestamp struct {
	time.Time
}

// Unix returns t as Unix seconds, or 0 for the zero Timestamp.
func (t Timestamp) Unix() int64 {
	if t.IsZero() {
		return 0
	}
	return t.Time.Unix()
}

// MarshalJSON encodes t as Unix seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, t.Unix(), 10), nil
}

// UnmarshalJSON decodes Unix seconds, as a number or a quoted number.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return t.UnmarshalText([]byte(s))
}

// MarshalText encodes t as Unix seconds (used by encoding/xml).
func (t Timestamp) MarshalText() ([]byte, error) {
	return strconv.AppendInt(nil, t.Unix(), 10), nil
}

// UnmarshalText decodes Unix seconds; empty text leaves t zero.
func (t *Timestamp) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Timestamp{}
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	if n == 0 {
		*t = Timestamp{}
		return nil
	}
	*t = Timestamp{time.Unix(n, 0)}
	return nil
}
