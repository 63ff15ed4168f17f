package emulator

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/wxcrypto"
)

// Lifetimes of the Open Platform.
const (
	// PreAuthCodeLifetime is the lifetime of a pre_auth_code (expires_in).
	PreAuthCodeLifetime = 1800 * time.Second
	// AuthorizationCodeLifetime is the lifetime of an authorization code
	// (auth_code): expires_in of the redirect, AuthorizationCodeExpiredTime
	// of the authorized event.
	AuthorizationCodeLifetime = 3600 * time.Second
	// authPageLifetime is how long an authorization page stays answerable.
	authPageLifetime = 30 * time.Minute
	// maxComponentPushes is how many pushes a component keeps in its log.
	maxComponentPushes = 100
)

// Errors of the Open Platform control API and Go methods.
var (
	// ErrUnknownComponent: the component_appid is not a hosted third-party
	// platform.
	ErrUnknownComponent = errors.New("emulator: unknown component_appid")
	// ErrInvalidPreAuthCode: the pre_auth_code is unknown, expired, used,
	// or of another platform.
	ErrInvalidPreAuthCode = errors.New("emulator: invalid pre_auth_code")
	// ErrNotAuthorized: the account has not authorized the platform.
	ErrNotAuthorized = errors.New("emulator: the account has not authorized the platform")
	// ErrAccountNotOffered: the authorization page, as opened (auth_type,
	// biz_appid), does not offer the account.
	ErrAccountNotOffered = errors.New("emulator: the authorization page does not offer this account (auth_type, biz_appid)")
)

// tokenKindAuthorizer marks the authorizer_access_tokens a platform gets
// for an account: the account's APIs accept them like its own tokens.
const tokenKindAuthorizer tokenKind = "authorizer_access_token"

// compErrMsgs are the errmsg texts of the Open Platform APIs.
var compErrMsgs = map[int]string{
	61003: "component is not authorized by this account",
	61005: "component ticket is expired",
	61006: "component ticket is invalid",
	61009: "code is invalid",
	61010: "code is expired",
	61011: "invalid component",
	61023: "refresh_token is invalid",
}

// compErr returns the *wxkit.APIError of an Open Platform errcode.
func compErr(code int) *wxkit.APIError {
	if m, ok := compErrMsgs[code]; ok {
		return &wxkit.APIError{ErrCode: code, ErrMsg: m}
	}
	return apiErr(code)
}

// componentState is the Open Platform side of the emulator: the hosted
// third-party platforms and the component_access_tokens they were issued.
type componentState struct {
	e     *Emulator
	byID  map[string]*component
	order []string
	// sched runs the ticket pushes on the emulator clock.
	sched payScheduler

	tokMu  sync.Mutex
	tokens map[string]*componentToken // every component_access_token, by value
}

// component is the runtime state of one third-party platform. cfg and
// cipher never change; the rest is guarded by mu, which is never held
// while an app's mu, the token mutexes or a push are taken.
type component struct {
	cfg    ComponentConfig
	cipher *wxcrypto.Cipher // the platform's key and AppID

	mu         sync.Mutex
	pushURL    string
	messageURL string
	tickets    map[string]time.Time // issued tickets and when
	ticket     string               // the latest ticket
	ticketAt   time.Time
	nextTicket time.Time // when the next scheduled ticket push is due
	tokLatest  *componentToken
	tokPrev    *componentToken
	preAuth    map[string]*preAuthCode
	pages      map[string]*authPage
	codes      map[string]*authCode
	auths      map[string]*authorization // by authorizer AppID
	pushes     []ComponentPush
}

// componentToken is one component_access_token; revokedAt is guarded by
// componentState.tokMu.
type componentToken struct {
	value     string
	comp      *component
	expires   time.Time
	revokedAt time.Time
}

// preAuthCode is one pre_auth_code. redirectURI, authType and bizAppID
// are those of the last authorization page opened with it.
type preAuthCode struct {
	expires     time.Time
	used        bool
	redirectURI string
	authType    int
	bizAppID    string
}

// authPage is an open authorization page waiting for the admin's answer
// (the accounts it offers are recorded on its pre_auth_code).
type authPage struct {
	preAuthCode string
	redirectURI string
	expires     time.Time
}

// authCode is one authorization code (auth_code); it may be exchanged by
// api_query_auth any number of times while valid.
type authCode struct {
	authorizer string
	expires    time.Time
	exchanges  int
}

// authorization is an account's authorization of a platform.
type authorization struct {
	appID        string
	at           time.Time
	refreshToken string
	funcs        []int
	latest, prev *tokenRecord // authorizer_access_tokens
}

// newComponentState builds the platforms of cs and schedules their ticket
// pushes, the first one a ticket interval after start.
func newComponentState(e *Emulator, cs []ComponentConfig) (*componentState, error) {
	st := &componentState{e: e, byID: make(map[string]*component, len(cs)), tokens: make(map[string]*componentToken)}
	st.sched.p = e.pay
	for i, cc := range cs {
		ciph, err := wxcrypto.NewCipher(cc.EncodingAESKey, cc.AppID)
		if err != nil {
			return nil, &ConfigError{Key: fmt.Sprintf("components[%d].encoding_aes_key", i), Err: err}
		}
		c := &component{
			cfg: cc, cipher: ciph, pushURL: cc.PushURL, messageURL: cc.MessageURL,
			tickets: make(map[string]time.Time), preAuth: make(map[string]*preAuthCode),
			pages: make(map[string]*authPage), codes: make(map[string]*authCode),
			auths: make(map[string]*authorization),
		}
		st.byID[cc.AppID] = c
		st.order = append(st.order, cc.AppID)
	}
	return st, nil
}

// start schedules the first ticket push of every platform.
func (st *componentState) start() {
	for _, id := range st.order {
		st.e.scheduleTicket(st.byID[id])
	}
}

// component returns the platform with appID, or nil.
func (e *Emulator) component(appID string) *component { return e.comp.byID[appID] }

// messageComponent returns the platform whose message URL receives the
// messages of the account appID, and that URL with $APPID$ replaced: of
// the platforms the account authorized that have a message URL, the one
// authorized last. It returns nil when there is none.
func (st *componentState) messageComponent(appID string) (*component, string) {
	var best *component
	var bestAt time.Time
	var target string
	for _, id := range st.order {
		c := st.byID[id]
		c.mu.Lock()
		if au := c.auths[appID]; au != nil && c.messageURL != "" && (best == nil || au.at.After(bestAt)) {
			best, bestAt = c, au.at
			target = strings.ReplaceAll(c.messageURL, componentAppIDPlaceholder, appID)
		}
		c.mu.Unlock()
	}
	return best, target
}

// ComponentPush is one push of a third-party platform to its authorization
// event URL: a component_verify_ticket or an authorized, updateauthorized
// or unauthorized event.
type ComponentPush struct {
	At       time.Time `json:"at"`
	InfoType string    `json:"info_type"`
	// Ticket is the ComponentVerifyTicket of a ticket push.
	Ticket string `json:"ticket,omitempty"`
	// AuthorizerAppID and AuthorizationCode are those of an event.
	AuthorizerAppID   string `json:"authorizer_appid,omitempty"`
	AuthorizationCode string `json:"authorization_code,omitempty"`
	// XML is the plaintext pushed (encrypted on the wire).
	XML string `json:"xml"`
	// Attempts are the deliveries, retried on a timeout, a connection
	// error or a 5xx answer as messages are.
	Attempts []Attempt `json:"attempts"`
	// Acknowledged tells whether the platform answered "success".
	Acknowledged bool `json:"acknowledged"`
	// Error tells why the push was not acknowledged.
	Error string `json:"error,omitempty"`
}

// AuthorizerInfo is an account's authorization of a platform.
type AuthorizerInfo struct {
	AppID        string    `json:"authorizer_appid"`
	AuthorizedAt time.Time `json:"authorized_at"`
	// FuncInfo are the permission sets (权限集) granted.
	FuncInfo []int `json:"func_info"`
}

// ComponentInfo describes a third-party platform without its secrets.
type ComponentInfo struct {
	AppID      string `json:"appid"`
	Name       string `json:"name"`
	PushURL    string `json:"push_url"`
	MessageURL string `json:"message_url"`
	// Ticket is the latest component_verify_ticket issued, and TicketAt when.
	Ticket   string     `json:"ticket,omitempty"`
	TicketAt *time.Time `json:"ticket_at,omitempty"`
	// NextTicketAt is when the next ticket is due to be pushed.
	NextTicketAt *time.Time       `json:"next_ticket_at,omitempty"`
	Authorizers  []AuthorizerInfo `json:"authorizers"`
	// Pushes are the latest pushes (at most 100), oldest first.
	Pushes []ComponentPush `json:"pushes"`
}

// Components lists the hosted third-party platforms in configuration
// order, without secrets.
func (e *Emulator) Components() []ComponentInfo {
	out := make([]ComponentInfo, 0, len(e.comp.order))
	for _, id := range e.comp.order {
		out = append(out, e.componentInfo(e.comp.byID[id]))
	}
	return out
}

// Component describes the platform componentAppID, or returns
// ErrUnknownComponent.
func (e *Emulator) Component(componentAppID string) (ComponentInfo, error) {
	c := e.component(componentAppID)
	if c == nil {
		return ComponentInfo{}, fmt.Errorf("%w: %q", ErrUnknownComponent, componentAppID)
	}
	return e.componentInfo(c), nil
}

func (e *Emulator) componentInfo(c *component) ComponentInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := ComponentInfo{
		AppID: c.cfg.AppID, Name: c.cfg.Name, PushURL: c.pushURL, MessageURL: c.messageURL,
		Ticket: c.ticket, Authorizers: []AuthorizerInfo{}, Pushes: slices.Clone(c.pushes),
	}
	if info.Pushes == nil {
		info.Pushes = []ComponentPush{}
	}
	if !c.ticketAt.IsZero() {
		t := c.ticketAt
		info.TicketAt = &t
	}
	if !c.nextTicket.IsZero() {
		t := c.nextTicket
		info.NextTicketAt = &t
	}
	for _, au := range c.auths {
		info.Authorizers = append(info.Authorizers, AuthorizerInfo{AppID: au.appID, AuthorizedAt: au.at, FuncInfo: slices.Clone(au.funcs)})
	}
	sort.Slice(info.Authorizers, func(i, j int) bool { return info.Authorizers[i].AppID < info.Authorizers[j].AppID })
	return info
}

// SetComponentURLs sets the authorization event URL (push_url) and the
// message URL (message_url, with $APPID$) of componentAppID; nil leaves a
// URL as it is, "" clears it. Tests call it once their server's address is
// known.
func (e *Emulator) SetComponentURLs(componentAppID string, pushURL, messageURL *string) error {
	c := e.component(componentAppID)
	if c == nil {
		return fmt.Errorf("%w: %q", ErrUnknownComponent, componentAppID)
	}
	if pushURL != nil && *pushURL != "" && !absoluteHTTPURL(*pushURL) {
		return fmt.Errorf("emulator: push_url must be an absolute http(s) URL, got %q", *pushURL)
	}
	if messageURL != nil && *messageURL != "" && !absoluteHTTPURL(strings.ReplaceAll(*messageURL, componentAppIDPlaceholder, "wx0")) {
		return fmt.Errorf("emulator: message_url must be an absolute http(s) URL, got %q", *messageURL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if pushURL != nil {
		c.pushURL = *pushURL
	}
	if messageURL != nil {
		c.messageURL = *messageURL
	}
	return nil
}

// recordPush appends p to the push log of c.
func (c *component) recordPush(p ComponentPush) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pushes = append(c.pushes, p)
	if len(c.pushes) > maxComponentPushes {
		c.pushes = slices.Clone(c.pushes[len(c.pushes)-maxComponentPushes:])
	}
}
