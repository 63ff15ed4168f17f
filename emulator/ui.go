package emulator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// The web UI: a page that looks like the WeChat mobile app, in which a
// simulated user chats with a hosted account (text, menu, events), with a
// dev drawer that shows the raw XML of every exchange. It is plain HTML, CSS
// and JavaScript embedded in the binary: no build step, no CDN, no font
// download, so that it works on an offline machine.
//
//	GET  /, /ui/                 the page (index.html)
//	GET  /ui/{asset}             app.js, style.css (ETag, Cache-Control: no-cache)
//	GET  /ui/api/menu            ?appid=&user= → UserMenu ({"menuid":0,"button":[]} without a menu)
//	POST /ui/api/click           {"appid","user","button"} → PushResult (see ClickMenu)
//
// The phone's web view loads the account's pages in a frame, at their own
// URL; their JS-SDK calls reach the page by postMessage (jsapi.go,
// webview.go, paysheet.go).
//
// The page drives the control API (/_emulator/apps, .../push, .../messages)
// and the two /ui/api routes above. Everything the server sends is rendered
// with textContent, never as HTML.

//go:embed web
var webFS embed.FS

// uiAsset is one embedded file, ready to serve.
type uiAsset struct {
	body        []byte
	contentType string
	etag        string
}

// uiAssets are the embedded files by URL path ("/ui/app.js"); the page is
// also served at "/" and "/ui/".
var uiAssets = loadUIAssets()

// uiContentTypes maps the extensions of embedded files to their types.
var uiContentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// uiCSP is the Content-Security-Policy of the page: own scripts and styles
// only; images may come from anywhere (article thumbnails are the account's
// URLs), and so may the web view's frame (the account's pages).
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; " +
	"frame-src http: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

func loadUIAssets() map[string]*uiAsset {
	out := map[string]*uiAsset{}
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := uiContentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(b)
		out["/ui/"+strings.TrimPrefix(p, "web/")] = &uiAsset{
			body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		// The files are embedded at build time: a failure here is a build
		// defect, not input.
		panic("emulator: embedded web UI: " + err.Error())
	}
	return out
}

func init() {
	for p := range uiAssets {
		handle(p, (*Emulator).serveUIAsset)
	}
	handle("/", (*Emulator).serveUIAsset)
	handle("/ui", (*Emulator).serveUIAsset)
	handle("/ui/", (*Emulator).serveUIAsset)
	handle("/ui/api/menu", (*Emulator).serveUIMenu)
	handle("/ui/api/click", (*Emulator).serveUIClick)
}

// serveUIAsset serves the page and its assets (GET and HEAD only). Assets
// carry a strong ETag and Cache-Control: no-cache, so that a browser
// revalidates (304) and never runs a stale script after an upgrade.
func (e *Emulator) serveUIAsset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch p {
	case "/ui":
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
		return
	case "/", "/ui/":
		p = "/ui/index.html"
	}
	a := uiAssets[p]
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("Referrer-Policy", "no-referrer")
	}
	http.ServeContent(w, r, path.Base(p), time.Time{}, bytes.NewReader(a.body))
}

// serveUIMenu serves GET /ui/api/menu?appid=&user=: the menu the user sees
// (MenuFor), {"menuid":0,"button":[]} when the app has none. An unknown app
// or user is a 404 with {"error":...}.
func (e *Emulator) serveUIMenu(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		controlFail(w, http.StatusMethodNotAllowed, errors.New("emulator: GET only"))
		return
	}
	q := r.URL.Query()
	m, err := e.MenuFor(q.Get("appid"), q.Get("user"))
	if err != nil {
		controlFail(w, http.StatusNotFound, err)
		return
	}
	if m == nil {
		m = &UserMenu{Buttons: []MenuButton{}}
	}
	writeJSON(w, m)
}

// serveUIClick serves POST /ui/api/click {"appid","user","button"}: the user
// taps a menu button (by key, URL or name; see ClickMenu) and the pushed
// event's PushResult is returned. Errors are {"error":...} with 404 (unknown
// app or user), 409 (no push URL) or 400.
func (e *Emulator) serveUIClick(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		controlFail(w, http.StatusMethodNotAllowed, errors.New("emulator: POST only"))
		return
	}
	var req struct {
		AppID  string `json:"appid"`
		User   string `json:"user"`
		Button string `json:"button"`
	}
	if err := decodeControl(r, &req); err != nil {
		controlFail(w, http.StatusBadRequest, err)
		return
	}
	res, err := e.ClickMenu(r.Context(), req.AppID, req.User, req.Button)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrUnknownUser):
			status = http.StatusNotFound
		case errors.Is(err, ErrNoPushURL), errors.Is(err, ErrNotSubscribed):
			status = http.StatusConflict
		}
		controlFail(w, status, err)
		return
	}
	writeJSON(w, res)
}
