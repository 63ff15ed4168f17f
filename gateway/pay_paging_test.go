package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestPageDown: every item of a list longer than a batch is visited once,
// newest first, also when many share a creation millisecond at a batch's
// boundary; f returning false stops it; a list error ends it.
func TestPageDown(t *testing.T) {
	t.Parallel()
	type item struct {
		id      string
		created time.Time
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []item // newest first; 250 items, 10 per millisecond
	for i := range 250 {
		all = append(all, item{fmt.Sprint("i", i), t0.Add(-time.Duration(i/10) * time.Millisecond)})
	}
	calls := 0
	list := func(before time.Time) ([]item, error) {
		calls++
		var out []item
		for _, it := range all {
			if (before.IsZero() || it.created.Before(before)) && len(out) < payBatch {
				out = append(out, it)
			}
		}
		return out, nil
	}
	id := func(it item) (string, time.Time) { return it.id, it.created }

	var got []string
	if err := pageDown(t.Context(), list, id, func(it item) bool { got = append(got, it.id); return true }); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, it := range all {
		want = append(want, it.id)
	}
	if !slices.Equal(got, want) {
		t.Errorf("visited %d items (%v…), want the %d in order once each", len(got), got[:min(5, len(got))], len(want))
	}
	if calls < 3 {
		t.Errorf("%d list calls for %d items in batches of %d", calls, len(all), payBatch)
	}

	n := 0
	if err := pageDown(t.Context(), list, id, func(item) bool { n++; return n < 7 }); err != nil || n != 7 {
		t.Errorf("stopping at the 7th item: visited %d, err %v", n, err)
	}

	boom := errors.New("boom")
	failing := func(before time.Time) ([]item, error) {
		if !before.IsZero() {
			return nil, boom
		}
		return list(before)
	}
	if err := pageDown(t.Context(), failing, id, func(item) bool { return true }); !errors.Is(err, boom) {
		t.Errorf("a failing second page: err %v, want boom", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := pageDown(ctx, list, id, func(item) bool { return true }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}
