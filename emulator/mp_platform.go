package emulator

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits of rid/get.
const (
	// ridLifetime is how long the request of a rid can be queried (76004
	// after).
	ridLifetime = 7 * 24 * time.Hour
	// maxRIDs is how many failed calls are remembered per app (the oldest
	// are forgotten first: 76001).
	maxRIDs = 1000
	// maxTraceBody is how much of a request and response body a rid keeps.
	maxTraceBody = 8 << 10
)

func init() {
	handle("/cgi-bin/getcallbackip", (*Emulator).serveCallbackIP)
	handle("/cgi-bin/get_api_domain_ip", (*Emulator).serveAPIDomainIP)
	handle("/cgi-bin/openapi/rid/get", (*Emulator).serveRIDGet)
}

// callTrace is what the emulator keeps of one platform call while it is
// served, for rid/get: the request, the start time and the first bytes of
// both bodies.
type callTrace struct {
	start    time.Time // emulator time
	wall     time.Time // for cost_in_ms
	path     string
	query    string // with the credentials masked
	clientIP string
	secret   bool // the body carries credentials: it is not kept
	req      limitedBuffer
	resp     limitedBuffer
}

// limitedBuffer keeps the first maxTraceBody bytes written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxTraceBody - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ridRecord is the request behind one rid, as rid/get reports it.
type ridRecord struct {
	RID          string `json:"-"`
	InvokeTime   int64  `json:"invoke_time"`
	CostInMS     int64  `json:"cost_in_ms"`
	RequestURL   string `json:"request_url"`
	RequestBody  string `json:"request_body"`
	ResponseBody string `json:"response_body"`
	ClientIP     string `json:"client_ip"`
}

// ridState is the per-app store of failed calls by rid (guarded by app.mu).
type ridState struct {
	byRID map[string]*ridRecord
	order []string
}

// credentialParams are query parameters whose values a trace masks.
var credentialParams = []string{"access_token", "secret", "appsecret", "component_appsecret"}

// credentialPaths are the routes whose bodies carry secrets: their
// bodies are not kept.
var credentialPaths = map[string]bool{
	"/cgi-bin/stable_token": true, "/cgi-bin/clear_quota/v2": true,
	"/cgi-bin/component/api_component_token": true,
}

// maskQuery returns raw with the values of credentialParams replaced by
// "***", the other parameters as sent.
func maskQuery(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		for _, c := range credentialParams {
			if strings.EqualFold(name, c) {
				parts[i] = k + "=***"
			}
		}
	}
	return strings.Join(parts, "&")
}

// beginTrace starts the trace of a platform call: the request body the
// route reads is copied (up to maxTraceBody bytes), and so is the answer.
func (e *Emulator) beginTrace(rec *callRecorder, r *http.Request) *callTrace {
	t := &callTrace{
		start: e.Now(), wall: time.Now(), path: r.URL.Path, query: maskQuery(r.URL.RawQuery),
		secret: credentialPaths[r.URL.Path],
	}
	if ip := remoteIP(r); ip != nil {
		t.clientIP = ip.String()
	}
	if r.Body != nil && !t.secret {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &t.req), r.Body}
	}
	rec.trace = t
	return t
}

// endTrace remembers a call that failed with a rid in its errmsg, for
// rid/get, under the app the call was for.
func (e *Emulator) endTrace(rec *callRecorder, t *callTrace) {
	if rec.errCode == 0 {
		return
	}
	a := e.app(rec.appID)
	if a == nil {
		return
	}
	var body struct {
		ErrMsg string `json:"errmsg"`
	}
	if json.Unmarshal(t.resp.b, &body) != nil {
		return
	}
	i := strings.LastIndex(body.ErrMsg, " rid: ")
	if i < 0 {
		return
	}
	rid := body.ErrMsg[i+len(" rid: "):]
	r := &ridRecord{
		RID: rid, InvokeTime: t.start.Unix(), CostInMS: time.Since(t.wall).Milliseconds(),
		RequestURL: t.query, ResponseBody: string(t.resp.b), ClientIP: t.clientIP,
	}
	if !t.secret {
		r.RequestBody = string(t.req.b)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := appExt[ridState](a, "mp_rid")
	if st.byRID == nil {
		st.byRID = map[string]*ridRecord{}
	}
	st.byRID[rid] = r
	st.order = append(st.order, rid)
	if len(st.order) > maxRIDs {
		delete(st.byRID, st.order[0])
		st.order = st.order[1:]
	}
}

// validRID reports whether s has the shape of a rid: three groups of 8
// hex digits.
func validRID(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if len(p) != 8 || strings.Trim(p, "0123456789abcdef") != "" {
			return false
		}
	}
	return true
}

// serveRIDGet serves POST /cgi-bin/openapi/rid/get {"rid"}: the request
// behind a failed call's rid, {"request":{"invoke_time","cost_in_ms",
// "request_url","request_body","response_body","client_ip"}}. The
// emulator remembers the last 1000 failed calls of each app; request_url
// is the query string with access_token (and secrets) masked, and the
// bodies of token calls are not kept. Errors: 76002 (rid empty or not of
// the rid shape), 76003 (a rid of another app), 76004 (older than 7
// days), 76001 (no such rid).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/get_rid_info.html
func (e *Emulator) serveRIDGet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RID string `json:"rid"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	rid := strings.TrimSpace(req.RID)
	if !validRID(rid) {
		e.writeAPIError(w, mpErr(76002))
		return
	}
	now := e.Now()
	a.mu.Lock()
	rec := appExt[ridState](a, "mp_rid").byRID[rid]
	a.mu.Unlock()
	if rec == nil {
		for _, other := range e.apps {
			if other == a {
				continue
			}
			other.mu.Lock()
			found := appExt[ridState](other, "mp_rid").byRID[rid] != nil
			other.mu.Unlock()
			if found {
				e.writeAPIError(w, mpErr(76003))
				return
			}
		}
		e.writeAPIError(w, mpErr(76001))
		return
	}
	if now.Sub(time.Unix(rec.InvokeTime, 0)) > ridLifetime {
		e.writeAPIError(w, mpErr(76004))
		return
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "request": rec})
}

// localIPv4s returns the IPv4 addresses of this host, loopback first.
func localIPv4s() []string {
	out := []string{"127.0.0.1"}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, ad := range addrs {
		n, ok := ad.(*net.IPNet)
		if !ok || n.IP.IsLoopback() {
			continue
		}
		if ip4 := n.IP.To4(); ip4 != nil {
			out = append(out, ip4.String())
		}
	}
	return out
}

// serveCallbackIP serves GET /cgi-bin/getcallbackip: {"ip_list":[...]},
// the addresses pushes come from. The emulator pushes from the host it
// runs on, so it lists that host's IPv4 addresses (127.0.0.1 first), which
// a server that checks the sender against the list must accept.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_the_WeChat_server_IP_address.html
func (e *Emulator) serveCallbackIP(w http.ResponseWriter, r *http.Request) {
	if e.mpCall(w, r, http.MethodGet, nil) == nil {
		return
	}
	writeJSON(w, map[string]any{"ip_list": localIPv4s()})
}

// serveAPIDomainIP serves GET /cgi-bin/get_api_domain_ip: {"ip_list":[...]},
// the addresses of the API host: the IP the call reached when the Host is
// one, else this host's IPv4 addresses.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_the_WeChat_server_IP_address.html
func (e *Emulator) serveAPIDomainIP(w http.ResponseWriter, r *http.Request) {
	if e.mpCall(w, r, http.MethodGet, nil) == nil {
		return
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		writeJSON(w, map[string]any{"ip_list": []string{ip.To4().String()}})
		return
	}
	writeJSON(w, map[string]any{"ip_list": localIPv4s()})
}
