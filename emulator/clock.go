package emulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// Clock tells the emulator what time it is. Every lifetime, quota day,
// CreateTime and rid uses it. The emulator adds its own forward offset (see
// Emulator.Advance) to what the Clock returns. A Clock must be safe for
// concurrent use.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to a Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// systemClock is the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// FixedClock returns a Clock that always says t; move it with
// Emulator.Advance. Handy in tests.
func FixedClock(t time.Time) Clock { return ClockFunc(func() time.Time { return t }) }

// beijing is the time zone of WeChat's daily quotas (they reset at 00:00
// China Standard Time).
var beijing = time.FixedZone("CST", 8*3600)

// quotaDay returns the quota day (China time) of t as "2006-01-02".
func quotaDay(t time.Time) string { return t.In(beijing).Format(time.DateOnly) }

// Duration is a time.Duration that encodes to and decodes from JSON as a Go
// duration string ("2s", "1h30m"); decoding also accepts a number of
// seconds.
type Duration time.Duration

// MarshalJSON encodes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON decodes "2h" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("emulator: invalid duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("emulator: invalid duration %s", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}
