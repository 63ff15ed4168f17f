package emulator

import (
	"maps"
	"sync"
)

// Stats are the emulator's counters since start (or the last ResetStats).
type Stats struct {
	// Calls counts platform API calls by path, then by appid ("" when the
	// call could not be tied to an app).
	Calls map[string]map[string]CallCount `json:"calls"`
	// TokenFetches counts access tokens issued, by appid.
	TokenFetches map[string]TokenFetches `json:"token_fetches"`
	// Pushes counts pushed messages by appid.
	Pushes map[string]PushCounts `json:"pushes"`
	// Pay counts the merchant platform's orders and notifies by mch_id
	// (omitted from JSON when there are none).
	Pay map[string]PayCounts `json:"pay,omitempty"`
	// Components counts what happened to each third-party platform, by
	// component_appid (omitted from JSON when there are none).
	Components map[string]ComponentCounts `json:"components,omitempty"`
}

// ComponentCounts counts the pushes to one third-party platform (tickets
// and authorization events, deliveries including retries, and pushes
// answered "success"), and the pre_auth_codes and authorizer_access_tokens
// it was issued (its component_access_tokens are in TokenFetches under its
// AppID).
type ComponentCounts struct {
	TicketPushes     int `json:"ticket_pushes"`
	EventPushes      int `json:"event_pushes"`
	Deliveries       int `json:"deliveries"`
	Acknowledged     int `json:"acknowledged"`
	PreAuthCodes     int `json:"pre_auth_codes"`
	AuthorizerTokens int `json:"authorizer_tokens"`
}

// PayCounts counts what happened to one merchant: orders created, orders
// paid, refunds, and notify deliveries (retries and copies included), of
// which Acknowledged were answered as received.
type PayCounts struct {
	Orders           int `json:"orders"`
	Paid             int `json:"paid"`
	Refunds          int `json:"refunds"`
	NotifyDeliveries int `json:"notify_deliveries"`
	Acknowledged     int `json:"acknowledged"`
}

// CallCount counts the calls of one path by one app; Errors are the calls
// answered with a non-zero errcode or an HTTP status >= 400.
type CallCount struct {
	Calls  int `json:"calls"`
	Errors int `json:"errors"`
}

// TokenFetches counts the access tokens issued to one app: by
// /cgi-bin/token, by stable_token (only calls that produced a new token),
// as authorizer_access_tokens to third-party platforms (api_query_auth and
// api_authorizer_token), and in total. Under a component_appid it counts
// the platform's component_access_tokens.
type TokenFetches struct {
	Total           int `json:"total"`
	CGIBinToken     int `json:"cgi_bin_token"`
	StableToken     int `json:"stable_token"`
	AuthorizerToken int `json:"authorizer_token,omitempty"`
	ComponentToken  int `json:"component_token,omitempty"`
}

// PushCounts counts the messages pushed to one app: messages, HTTP
// deliveries (including retries) and messages whose user saw the error
// text "该公众号暂时无法提供服务，请稍后再试".
type PushCounts struct {
	Messages   int `json:"messages"`
	Deliveries int `json:"deliveries"`
	Failed     int `json:"failed"`
}

// Count returns the counters of path for appID.
func (s Stats) Count(path, appID string) CallCount { return s.Calls[path][appID] }

type statTokenKind int

const (
	statTokenCGI statTokenKind = iota
	statTokenStable
	statTokenAuthorizer
	statTokenComponent
)

// statsRecorder holds the counters.
type statsRecorder struct {
	mu     sync.Mutex
	calls  map[string]map[string]CallCount
	tokens map[string]TokenFetches
	pushes map[string]PushCounts
	pay    map[string]PayCounts
	comps  map[string]ComponentCounts
}

// recordComponent applies f to the counters of componentAppID.
func (s *statsRecorder) recordComponent(componentAppID string, f func(*ComponentCounts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.comps == nil {
		s.comps = map[string]ComponentCounts{}
	}
	c := s.comps[componentAppID]
	f(&c)
	s.comps[componentAppID] = c
}

// recordComponentPush counts one push of infoType to componentAppID.
func (s *statsRecorder) recordComponentPush(componentAppID, infoType string, deliveries int, acknowledged bool) {
	s.recordComponent(componentAppID, func(c *ComponentCounts) {
		if infoType == InfoTypeComponentVerifyTicket {
			c.TicketPushes++
		} else {
			c.EventPushes++
		}
		c.Deliveries += deliveries
		if acknowledged {
			c.Acknowledged++
		}
	})
}

// recordPay applies f to the counters of mchID.
func (s *statsRecorder) recordPay(mchID string, f func(*PayCounts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pay == nil {
		s.pay = map[string]PayCounts{}
	}
	c := s.pay[mchID]
	f(&c)
	s.pay[mchID] = c
}

func (s *statsRecorder) recordPayOrder(mchID string) {
	s.recordPay(mchID, func(c *PayCounts) { c.Orders++ })
}

func (s *statsRecorder) recordPayPaid(mchID string) {
	s.recordPay(mchID, func(c *PayCounts) { c.Paid++ })
}

func (s *statsRecorder) recordPayRefund(mchID string) {
	s.recordPay(mchID, func(c *PayCounts) { c.Refunds++ })
}

func (s *statsRecorder) recordPayNotify(mchID string, acknowledged bool) {
	s.recordPay(mchID, func(c *PayCounts) {
		c.NotifyDeliveries++
		if acknowledged {
			c.Acknowledged++
		}
	})
}

func (s *statsRecorder) recordCall(path, appID string, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]map[string]CallCount{}
	}
	m := s.calls[path]
	if m == nil {
		m = map[string]CallCount{}
		s.calls[path] = m
	}
	c := m[appID]
	c.Calls++
	if failed {
		c.Errors++
	}
	m[appID] = c
}

func (s *statsRecorder) recordTokenFetch(appID string, kind statTokenKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		s.tokens = map[string]TokenFetches{}
	}
	t := s.tokens[appID]
	t.Total++
	switch kind {
	case statTokenStable:
		t.StableToken++
	case statTokenAuthorizer:
		t.AuthorizerToken++
	case statTokenComponent:
		t.ComponentToken++
	default:
		t.CGIBinToken++
	}
	s.tokens[appID] = t
}

func (s *statsRecorder) recordPush(appID string, deliveries int, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pushes == nil {
		s.pushes = map[string]PushCounts{}
	}
	p := s.pushes[appID]
	p.Messages++
	p.Deliveries += deliveries
	if failed {
		p.Failed++
	}
	s.pushes[appID] = p
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	s := &e.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{
		Calls:        make(map[string]map[string]CallCount, len(s.calls)),
		TokenFetches: maps.Clone(s.tokens),
		Pushes:       maps.Clone(s.pushes),
		Pay:          maps.Clone(s.pay),
		Components:   maps.Clone(s.comps),
	}
	for p, m := range s.calls {
		out.Calls[p] = maps.Clone(m)
	}
	if out.TokenFetches == nil {
		out.TokenFetches = map[string]TokenFetches{}
	}
	if out.Pushes == nil {
		out.Pushes = map[string]PushCounts{}
	}
	if out.Pay == nil {
		out.Pay = map[string]PayCounts{}
	}
	if out.Components == nil {
		out.Components = map[string]ComponentCounts{}
	}
	return out
}

// ResetStats sets every counter back to zero.
func (e *Emulator) ResetStats() {
	s := &e.stats
	s.mu.Lock()
	s.calls, s.tokens, s.pushes, s.pay, s.comps = nil, nil, nil, nil, nil
	s.mu.Unlock()
}
