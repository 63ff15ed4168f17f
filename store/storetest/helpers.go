package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

var seq atomic.Uint64

// unique returns a string unique within the test process, for ids and keys.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

// base is a fixed instant with whole milliseconds (stores keep ms).
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sameTime reports whether a and b are the same instant at ms precision.
func sameTime(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() }

func mustNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v", what, err)
	}
}
