package emulator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit/wxcrypto"
)

// Emulator is the fake WeChat platform. It is an http.Handler serving, on
// one listener, the API host (api.weixin.qq.com: /cgi-bin/..., /sns/...,
// /wxa/...), the open host (open.weixin.qq.com: /connect/..., and the
// authorization pages of mp.weixin.qq.com), the pay host
// (api.mch.weixin.qq.com) and its own control API under /_emulator/. It also
// pushes messages to the apps' push URLs (Push). An Emulator is safe for
// concurrent use.
type Emulator struct {
	cfg    Config // defaults applied; immutable
	clock  Clock
	logger *slog.Logger
	client *http.Client // for pushes

	timeMu sync.Mutex
	offset time.Duration // added to clock by Advance

	apps     map[string]*app
	appOrder []string

	tokMu  sync.Mutex
	tokens map[string]*tokenRecord // every access_token issued, by value

	faultMu sync.Mutex
	faults  []*activeFault

	stats statsRecorder

	pay  *payState       // the merchant platform (WeChat Pay)
	comp *componentState // the Open Platform (third-party platforms)

	control *http.ServeMux
}

// Option configures an Emulator in New.
type Option func(*Emulator) error

// WithClock makes the emulator read time from c instead of the wall clock.
// Advance still moves the emulator's time forward on top of c.
func WithClock(c Clock) Option {
	return func(e *Emulator) error {
		if c == nil {
			return fmt.Errorf("emulator: WithClock: nil clock")
		}
		e.clock = c
		return nil
	}
}

// WithLogger sets the logger (slog.Default() when not given).
func WithLogger(l *slog.Logger) Option {
	return func(e *Emulator) error {
		if l == nil {
			return fmt.Errorf("emulator: WithLogger: nil logger")
		}
		e.logger = l
		return nil
	}
}

// WithHTTPClient sets the client used to push messages to the apps' push
// URLs. Its Timeout should be zero: the emulator applies the push timeout
// per delivery.
func WithHTTPClient(c *http.Client) Option {
	return func(e *Emulator) error {
		if c == nil {
			return fmt.Errorf("emulator: WithHTTPClient: nil client")
		}
		e.client = c
		return nil
	}
}

// New returns an Emulator for cfg. cfg is validated (see Config.Validate);
// zero limits take the real platform's defaults.
func New(cfg Config, opts ...Option) (*Emulator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Emulator{
		cfg:    cfg,
		clock:  systemClock{},
		logger: slog.Default(),
		client: &http.Client{
			// WeChat does not follow redirects of the push URL.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		apps:   make(map[string]*app, len(cfg.Apps)),
		tokens: make(map[string]*tokenRecord),
	}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	for _, ac := range cfg.Apps {
		a, err := newApp(ac)
		if err != nil {
			return nil, err
		}
		e.apps[ac.AppID] = a
		e.appOrder = append(e.appOrder, ac.AppID)
	}
	e.pay = newPayState(e, cfg.Merchants)
	comp, err := newComponentState(e, cfg.Components)
	if err != nil {
		return nil, err
	}
	e.comp = comp
	e.control = e.controlMux()
	e.comp.start()
	return e, nil
}

// Config returns the configuration in effect, with defaults applied.
func (e *Emulator) Config() Config { return e.cfg }

// Now returns the emulator's current time: the clock plus every Advance.
func (e *Emulator) Now() time.Time {
	e.timeMu.Lock()
	off := e.offset
	e.timeMu.Unlock()
	return e.clock.Now().Add(off)
}

// Advance moves the emulator's time forward by d, so that tokens expire,
// quotas reset and overlaps end without waiting. Pay notify retries and
// refunds that fall due are started (in the background: see WaitNotifies),
// and so is a due component_verify_ticket push (see WaitComponentPushes).
// It returns the new time. A negative d is refused with an error: the
// platform's time never goes back.
func (e *Emulator) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("emulator: Advance: negative duration %s", d)
	}
	e.timeMu.Lock()
	e.offset += d
	e.timeMu.Unlock()
	e.pay.sched.fire()
	e.comp.sched.fire()
	return e.Now(), nil
}

// Close stops the emulator's timed work: the component_verify_ticket
// schedule and the pay notify retries and refunds not yet due. Work under
// way finishes; the handler keeps serving. Tests that run an emulator on a
// clock that moves by itself call it, so that no timer outlives them (a
// testing/synctest bubble ends only when its timers do). It returns nil.
func (e *Emulator) Close() error {
	e.pay.sched.stop()
	e.comp.sched.stop()
	return nil
}

// app returns the hosted app with appID, or nil.
func (e *Emulator) app(appID string) *app { return e.apps[appID] }

// apiHandler serves one platform API. Handlers answer with writeJSON,
// writeErr, writeErrMsg or writeAPIError so that stats see the errcode.
type apiHandler func(e *Emulator, w http.ResponseWriter, r *http.Request)

// platformRoutes is the route table of the platform hosts, by exact path.
// Files of this package add to it from init() with handle.
var platformRoutes = map[string]apiHandler{}

// handle registers h for path (exact match, any method: a handler checks
// the method itself with requireMethod). It is meant to be called from
// init(); registering a path twice is a programming error and panics.
func handle(path string, h apiHandler) {
	if _, dup := platformRoutes[path]; dup {
		panic("emulator: route registered twice: " + path)
	}
	platformRoutes[path] = h
}

// prefixRoute serves every path under a prefix, for APIs whose paths carry
// ids (WeChat Pay v3). key names a request's route in stats (the pattern,
// not the path, so that ids do not make a counter each).
type prefixRoute struct {
	prefix string
	h      apiHandler
	key    func(*http.Request) string
}

// prefixRoutes are tried, in order, for paths with no exact route.
var prefixRoutes []prefixRoute

// handlePrefix registers h for every path under prefix (which ends in
// "/"). It is meant to be called from init().
func handlePrefix(prefix string, h apiHandler, key func(*http.Request) string) {
	prefixRoutes = append(prefixRoutes, prefixRoute{prefix: prefix, h: h, key: key})
}

// route returns the handler of r and the name of its route in stats.
func route(r *http.Request) (apiHandler, string, bool) {
	if h, ok := platformRoutes[r.URL.Path]; ok {
		return h, r.URL.Path, true
	}
	for _, pr := range prefixRoutes {
		if strings.HasPrefix(r.URL.Path, pr.prefix) {
			return pr.h, pr.key(r), true
		}
	}
	return nil, r.URL.Path, false
}

// ServeHTTP serves the platform APIs and the control API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emulator" || strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.control.ServeHTTP(w, r)
		return
	}
	if p := r.URL.Path; p == "/" || p == "/ui" || strings.HasPrefix(p, "/ui/") {
		// The browser page is not the platform: no stats, no faults.
		if h, ok := platformRoutes[p]; ok {
			h(e, w, r)
		} else {
			http.NotFound(w, r)
		}
		return
	}
	rec := &callRecorder{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), recorderKey{}, rec))
	rec.appID = e.requestAppID(r)
	path := r.URL.Path
	h, statsPath, ok := route(r)
	defer func() { e.stats.recordCall(statsPath, rec.appID, rec.failed()) }()
	defer e.endTrace(rec, e.beginTrace(rec, r))

	if f := e.takeFault(path, rec.appID); f != nil {
		if done := e.applyFault(rec, r, f); done {
			return
		}
	}
	if !ok {
		writeStatusErrMsg(rec, http.StatusNotFound, 48001,
			fmt.Sprintf("api unauthorized, the emulator does not serve %s %s", r.Method, path), e.Now())
		return
	}
	if !e.meterCall(rec, statsPath) {
		return
	}
	h(e, rec, r)
}

// requireMethod answers 43002 "require POST method" (or 43001 for GET) and
// returns false when r's method is not method.
func (e *Emulator) requireMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	if method == http.MethodPost {
		e.writeErr(w, 43002)
	} else {
		e.writeErr(w, 43001)
	}
	return false
}

// newApp builds the runtime state of one configured app.
func newApp(ac AppConfig) (*app, error) {
	a := &app{
		cfg:      ac,
		pushURL:  ac.PushURL,
		byOpenID: make(map[string]*user, len(ac.Users)),
		quotas:   make(map[string]*dayCounter),
		tickets:  make(map[string]*ticketRecord),
		conv:     make(map[string][]ConversationEntry),
		ext:      make(map[string]any),
		msgSeq:   uint64(randomInt(1, 1<<30)),
	}
	if ac.EncodingAESKey != "" {
		c, err := wxcrypto.NewCipher(ac.EncodingAESKey, ac.AppID)
		if err != nil {
			return nil, &ConfigError{Key: "encoding_aes_key", Err: err}
		}
		a.cipher = c
	}
	for _, uc := range ac.Users {
		u := &user{UserConfig: uc, subscribed: uc.Subscribed == nil || *uc.Subscribed}
		a.users = append(a.users, u)
		a.byOpenID[uc.OpenID] = u
	}
	return a, nil
}
