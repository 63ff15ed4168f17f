package gateway

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"
)

// The demo page (web.demo): /demo/ serves index.html, demo.js and
// demo.css, embedded. The page runs in WeChat's web view (or the
// emulator's): it signs in with /oauth/login, shows /api/me, runs
// wx.config with /jssdk/config and pays 0.01 CNY with /pay/orders and
// wx.chooseWXPay. It has no inline script, so that it runs under its
// Content-Security-Policy.

//go:embed demo/index.html demo/demo.js demo/demo.css
var demoFiles embed.FS

// demoAsset is one file of the demo page, ready to serve.
type demoAsset struct {
	body        []byte
	contentType string
	etag        string
	cache       string
}

// demoPage holds the demo page's files and its Content-Security-Policy.
type demoPage struct {
	index, js, css demoAsset
	csp            string
}

// demoModTime is the time the embedded files claim (embed.FS has none):
// the ETag decides freshness.
var demoModTime = time.Time{}

// registerDemo registers GET /demo/ (and /demo/demo.js, /demo/demo.css)
// when web.demo is true. index.html is a template of the JS-SDK script's
// URL (Config.JWeixinURL) and of the assets' version (a hash of their
// contents, so that they may be cached for a day).
func (g *Gateway) registerDemo() error {
	if !g.cfg.Web.Demo {
		return nil
	}
	p, err := newDemoPage(g.cfg.JWeixinURL())
	if err != nil {
		return fmt.Errorf("web.demo: %w", err)
	}
	g.mux.HandleFunc("GET /demo/{$}", p.serve(&p.index))
	g.mux.HandleFunc("GET /demo/demo.js", p.serve(&p.js))
	g.mux.HandleFunc("GET /demo/demo.css", p.serve(&p.css))
	return nil
}

func newDemoPage(jweixin string) (*demoPage, error) {
	ju, err := url.Parse(jweixin)
	if err != nil || ju.Host == "" {
		return nil, fmt.Errorf("JS-SDK script URL %q is not absolute", jweixin)
	}
	js, err := demoFiles.ReadFile("demo/demo.js")
	if err != nil {
		return nil, err
	}
	css, err := demoFiles.ReadFile("demo/demo.css")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.ParseFS(demoFiles, "demo/index.html")
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	sum.Write(js)
	sum.Write(css)
	version := hex.EncodeToString(sum.Sum(nil))[:12]
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]string{"JWeixinURL": jweixin, "Version": version}); err != nil {
		return nil, err
	}
	const day = "public, max-age=86400"
	p := &demoPage{
		index: newDemoAsset(b.Bytes(), "text/html; charset=utf-8", "no-cache"),
		js:    newDemoAsset(js, "text/javascript; charset=utf-8", day),
		css:   newDemoAsset(css, "text/css; charset=utf-8", day),
		// The page is framed by the web view: no frame-ancestors.
		csp: "default-src 'none'; script-src 'self' " + ju.Scheme + "://" + ju.Host + "; style-src 'self'; " +
			"img-src 'self' data: http: https:; connect-src 'self'; base-uri 'none'; form-action 'none'",
	}
	return p, nil
}

func newDemoAsset(body []byte, contentType, cache string) demoAsset {
	sum := sha256.Sum256(body)
	return demoAsset{body: body, contentType: contentType, cache: cache, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// serve answers GET (and HEAD) of a with its type, cache policy and ETag
// (304 on a matching If-None-Match).
func (p *demoPage) serve(a *demoAsset) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", a.cache)
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if a == &p.index {
			h.Set("Content-Security-Policy", p.csp)
		}
		http.ServeContent(w, r, "", demoModTime, bytes.NewReader(a.body))
	}
}
