package mp

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
)

// TestOpenIDPages: the cursor is followed until a page is empty, has no
// cursor or repeats it; errors and a cancelled context end the iteration
// with one error; a break stops asking for pages.
func TestOpenIDPages(t *testing.T) {
	t.Parallel()
	// pages maps the cursor asked for to the page answered.
	type page struct {
		ids    []string
		cursor string
	}
	boom := errors.New("boom")
	tests := []struct {
		name      string
		pages     map[string]page
		failAt    string // the cursor whose call fails
		wantIDs   []string
		wantCalls []string
		wantErr   error
	}{
		{"cursor followed to an empty page", map[string]page{
			"": {[]string{"a", "b"}, "b"}, "b": {[]string{"c"}, "c"}, "c": {nil, ""},
		}, "", []string{"a", "b", "c"}, []string{"", "b", "c"}, nil},
		{"no cursor ends", map[string]page{"": {[]string{"a"}, ""}}, "", []string{"a"}, []string{""}, nil},
		{"repeated cursor ends", map[string]page{
			"": {[]string{"a"}, "a"}, "a": {[]string{"b"}, "a"},
		}, "", []string{"a", "b"}, []string{"", "a"}, nil},
		{"error on the second page", map[string]page{"": {[]string{"a"}, "a"}}, "a", []string{"a"}, []string{"", "a"}, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, ids []string
			var gotErr error
			for id, err := range openIDPages(t.Context(), func(next string) ([]string, string, error) {
				calls = append(calls, next)
				if next == tt.failAt && tt.failAt != "" {
					return nil, "", boom
				}
				p := tt.pages[next]
				return p.ids, p.cursor, nil
			}) {
				if err != nil {
					if gotErr != nil {
						t.Fatalf("second error %v after %v", err, gotErr)
					}
					gotErr = err
					continue
				}
				ids = append(ids, id)
			}
			if !slices.Equal(ids, tt.wantIDs) || !slices.Equal(calls, tt.wantCalls) || !errors.Is(gotErr, tt.wantErr) {
				t.Errorf("ids %q, calls %q, err %v; want %q, %q, %v", ids, calls, gotErr, tt.wantIDs, tt.wantCalls, tt.wantErr)
			}
		})
	}

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		var gotErr error
		for _, err := range openIDPages(ctx, func(next string) ([]string, string, error) {
			calls++
			cancel()
			return []string{"x" + next}, "x" + next, nil
		}) {
			gotErr = err
		}
		if calls != 1 || !errors.Is(gotErr, context.Canceled) {
			t.Errorf("calls %d, last err %v; want 1 call, then context.Canceled", calls, gotErr)
		}
	})

	t.Run("break stops asking", func(t *testing.T) {
		calls := 0
		for range openIDPages(t.Context(), func(next string) ([]string, string, error) {
			calls++
			return []string{next + "a", next + "b"}, next + "b", nil
		}) {
			break
		}
		if calls != 1 {
			t.Errorf("%d pages asked for after a break on the first item, want 1", calls)
		}
	})
}

// TestOffsetPages: offsets advance by the items seen until the total is
// reached or a page is empty; an error ends the iteration once.
func TestOffsetPages(t *testing.T) {
	t.Parallel()
	list := func(total, size int, offsets *[]int) func(int) ([]int, int, error) {
		return func(off int) ([]int, int, error) {
			*offsets = append(*offsets, off)
			var items []int
			for i := off; i < min(off+size, total); i++ {
				items = append(items, i)
			}
			return items, total, nil
		}
	}
	var offsets []int
	var got []int
	for p, err := range offsetPages(t.Context(), list(45, 20, &offsets)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *p)
	}
	if len(got) != 45 || got[44] != 44 || !slices.Equal(offsets, []int{0, 20, 40}) {
		t.Errorf("got %d items (last %v), offsets %v; want 45 items and offsets [0 20 40]", len(got), got[len(got)-1:], offsets)
	}

	// A total larger than what the list holds: the empty page ends it.
	offsets = nil
	n := 0
	for _, err := range offsetPages(t.Context(), func(off int) ([]int, int, error) {
		offsets = append(offsets, off)
		if off >= 3 {
			return nil, 100, nil
		}
		return []int{1, 2, 3}, 100, nil
	}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 || !slices.Equal(offsets, []int{0, 3}) {
		t.Errorf("%d items, offsets %v; want 3 and [0 3]", n, offsets)
	}

	// An error on the second page.
	boom := errors.New("boom")
	var errs []error
	items := 0
	for p, err := range offsetPages(t.Context(), func(off int) ([]string, int, error) {
		if off > 0 {
			return nil, 0, boom
		}
		return []string{strconv.Itoa(off)}, 5, nil
	}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p == nil {
			t.Fatal("nil item without an error")
		}
		items++
	}
	if items != 1 || len(errs) != 1 || !errors.Is(errs[0], boom) {
		t.Errorf("items %d, errors %v; want 1 item and one boom", items, errs)
	}
}
