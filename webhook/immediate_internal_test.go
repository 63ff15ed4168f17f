package webhook

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestReqCtx: the lazy deadline context ends at its deadline, with its
// parent, or when ended, as context.WithTimeout's would, whether or not
// Done was asked for before.
func TestReqCtx(t *testing.T) {
	type key struct{}
	for _, tc := range []struct {
		name      string
		earlyDone bool // call Done before the event
		event     func(c *reqCtx, cancelParent context.CancelFunc)
		want      error
	}{
		{"deadline, Err only", false, func(*reqCtx, context.CancelFunc) { time.Sleep(time.Second) }, context.DeadlineExceeded},
		{"deadline, Done armed", true, func(*reqCtx, context.CancelFunc) { time.Sleep(time.Second) }, context.DeadlineExceeded},
		{"parent canceled, Err only", false, func(_ *reqCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"parent canceled, Done armed", true, func(_ *reqCtx, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"ended", true, func(c *reqCtx, _ context.CancelFunc) { c.end(context.Canceled) }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "v"))
				defer cancel()
				c := newReqCtx(parent, time.Now().Add(time.Second))
				if dl, ok := c.Deadline(); !ok || !dl.Equal(time.Now().Add(time.Second)) {
					t.Errorf("Deadline = %v, %v", dl, ok)
				}
				if c.Value(key{}) != "v" {
					t.Errorf("Value lost")
				}
				if c.Err() != nil {
					t.Fatalf("Err before = %v", c.Err())
				}
				var done <-chan struct{}
				if tc.earlyDone {
					done = c.Done()
				}
				tc.event(c, cancel)
				synctest.Wait()
				if err := c.Err(); !errors.Is(err, tc.want) {
					t.Errorf("Err = %v, want %v", err, tc.want)
				}
				if done == nil {
					done = c.Done()
				}
				select {
				case <-done:
				default:
					t.Errorf("Done not closed")
				}
				c.end(context.Canceled) // idempotent
				if err := c.Err(); !errors.Is(err, tc.want) {
					t.Errorf("Err after end = %v, want %v", err, tc.want)
				}
			})
		})
	}
}
