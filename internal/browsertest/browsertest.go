// Package browsertest runs tests in the system's Chromium, headless, through
// chromedp. It is test support only.
//
// A test calls New to get a browser tab. When Chromium is not installed the
// test is skipped with a message saying how to install it, unless CI=true:
// then it fails, so that CI never passes without having run the browser
// tests. WXKIT_CHROMIUM names another binary.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Candidates are the Chromium binaries looked for, in order, when
// WXKIT_CHROMIUM is unset.
var Candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// SkipMessage is how a skipped test says what to do.
const SkipMessage = "browser tests need Chromium: install chromium (apt-get install -y chromium) or set CI=true"

// Chromium returns the path of the browser binary, or "" when there is none.
func Chromium() string {
	if p := os.Getenv("WXKIT_CHROMIUM"); p != "" {
		if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
		return ""
	}
	for _, c := range Candidates {
		if lp, err := exec.LookPath(c); err == nil {
			return lp
		}
	}
	return ""
}

// Options are the settings of a browser started by NewWith.
type Options struct {
	// Width and Height are the window size in CSS pixels (default 1440×960).
	Width, Height int
	// Timeout bounds the whole test's use of the tab (default 60 s).
	Timeout time.Duration
}

// New starts a headless Chromium with a fresh profile and returns the
// context of one tab, closed when t ends. See NewWith.
func New(t testing.TB) context.Context {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith is New with options. The browser runs with --headless
// --no-sandbox --disable-gpu --disable-background-networking
// --disable-component-update --no-first-run --disable-sync and a new
// --user-data-dir, removed when t ends.
func NewWith(t testing.TB, o Options) context.Context {
	t.Helper()
	bin := Chromium()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browsertest: Chromium not found (CI=true requires it): %s", SkipMessage)
		}
		t.Skip(SkipMessage)
	}
	if o.Width == 0 {
		o.Width, o.Height = 1440, 960
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	// Not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser exits, which fails the test.
	profile, err := os.MkdirTemp("", "wxkit-chromium-")
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(o.Width, o.Height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, o.Timeout)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // close the browser and wait for it
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// Start the browser now, so that a broken install fails here.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", bin, err)
	}
	return ctx
}
