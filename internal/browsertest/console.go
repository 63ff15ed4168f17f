package browsertest

import (
	"context"
	"strings"
	"sync"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// WatchConsole collects, from now on, the errors the tab's pages and
// their same-process frames report: console.error calls, uncaught
// exceptions, and the browser's own error entries (Content-Security-Policy
// violations, failed loads), each as one line "kind: text". It returns a
// function giving what was collected so far; it is safe for concurrent
// use.
func WatchConsole(ctx context.Context) func() []string {
	var (
		mu   sync.Mutex
		errs []string
	)
	add := func(s string) {
		mu.Lock()
		errs = append(errs, s)
		mu.Unlock()
	}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.APITypeError && ev.Type != runtime.APITypeAssert {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			add("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			add("exception: " + ev.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			if ev.Entry == nil || ev.Entry.Level != cdplog.LevelError {
				return
			}
			add(string(ev.Entry.Source) + ": " + ev.Entry.Text)
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}
