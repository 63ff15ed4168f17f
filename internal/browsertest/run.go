package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenJS gives what the page shows: the emulator's phone (#screen) when
// there is one, else the document, cut at 4000 characters.
const screenJS = `(document.getElementById('screen') || document.documentElement).outerHTML.slice(0, 4000)`

// Run runs actions in ctx with at most 20 s for them all; on an error it
// fails t with the error and what the page showed (the emulator's phone,
// or the document).
func Run(t testing.TB, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(tctx, actions...); err != nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var screen string
		_ = chromedp.Run(dctx, chromedp.Evaluate(screenJS, &screen))
		t.Fatalf("%v; the page showed:\n%s", err, screen)
	}
}
