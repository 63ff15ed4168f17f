package gateway

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit/token"
)

// limiter is a set of token buckets, one per key (a client IP, an app):
// each holds at most burst tokens, refills at rate tokens per second, and
// every allowed request takes one token. Memory is bounded: a bucket idle
// long enough to be full again is forgotten (a full bucket and no bucket
// behave alike), and at most maxKeys buckets are kept, the least recently
// used being dropped first to make room (that key then starts afresh with a
// full bucket). The clock is injectable. A limiter is safe for concurrent
// use.
type limiter struct {
	rate     float64       // tokens per second, > 0
	burst    float64       // bucket size, >= 1
	fullIn   time.Duration // time for an empty bucket to fill: idle keys older than this are dropped
	maxKeys  int
	now      func() time.Time
	buckets  map[string]*bucket
	mu       sync.Mutex
	lru      bucket // sentinel of the circular list, most recent at lru.next
	recycled *bucket
}

// bucket is one key's state, in the limiter's LRU list.
type bucket struct {
	key        string
	tokens     float64
	last       time.Time // last refill
	prev, next *bucket
}

// defaultMaxKeys bounds the buckets of a per-client limiter: about 10 MB
// at the worst.
const defaultMaxKeys = 65536

// newLimiter returns a limiter of rate tokens per second (> 0) and bucket
// size burst (at least 1) keeping at most maxKeys buckets (defaultMaxKeys
// when <= 0). now == nil means time.Now.
func newLimiter(rate float64, burst, maxKeys int, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = defaultMaxKeys
	}
	b := float64(max(burst, 1))
	l := &limiter{
		rate:    rate,
		burst:   b,
		fullIn:  time.Duration(math.Ceil(b / rate * float64(time.Second))),
		maxKeys: maxKeys,
		now:     now,
		buckets: make(map[string]*bucket),
	}
	l.lru.next, l.lru.prev = &l.lru, &l.lru
	return l
}

// allow takes a token from key's bucket. When the bucket is empty it
// returns false and how long until a token is there.
func (l *limiter) allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.remove(l.lru.prev)
		}
		b = l.recycled
		if b != nil {
			l.recycled = nil
		} else {
			b = new(bucket)
		}
		b.key, b.tokens, b.last = key, l.burst, now
		l.buckets[key] = b
	} else {
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
			b.last = now
		}
		l.unlink(b)
	}
	l.pushFront(b)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
}

// len returns the number of buckets kept.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// dropIdle forgets the buckets, least recently used first, that have been
// idle long enough to be full again.
func (l *limiter) dropIdle(now time.Time) {
	for b := l.lru.prev; b != &l.lru && now.Sub(b.last) >= l.fullIn; b = l.lru.prev {
		l.remove(b)
	}
}

func (l *limiter) remove(b *bucket) {
	l.unlink(b)
	delete(l.buckets, b.key)
	*b = bucket{}
	l.recycled = b
}

func (l *limiter) unlink(b *bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (l *limiter) pushFront(b *bucket) {
	b.prev, b.next = &l.lru, l.lru.next
	l.lru.next.prev = b
	l.lru.next = b
}

// retryAfterSeconds is d in whole seconds, rounded up, at least 1: the
// value of a Retry-After header.
func retryAfterSeconds(d time.Duration) int64 {
	return max(int64(math.Ceil(d.Seconds())), 1)
}

// clientIPs finds the client address of a request: the connection's peer,
// or, when the peer is a trusted proxy, the first address of
// X-Forwarded-For, from the right, that is not one (see
// LimitsConfig.TrustedProxies).
type clientIPs struct {
	trusted []netip.Prefix
}

// isTrusted reports whether a is a trusted proxy.
func (c clientIPs) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addr returns the client's address, or an invalid Addr when RemoteAddr
// is not an IP address (a Unix socket).
func (c clientIPs) addr(r *http.Request) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || len(c.trusted) == 0 || !c.isTrusted(peer) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		line := hops[i]
		for line != "" {
			var hop string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				line, hop = line[:j], line[j+1:]
			} else {
				line, hop = "", line
			}
			a := parseHostAddr(strings.TrimSpace(hop))
			if !a.IsValid() {
				// Not written by a trusted proxy: stop at the proxy that
				// passed it on.
				return client
			}
			client = a
			if !c.isTrusted(a) {
				return client
			}
		}
	}
	return client
}

// key returns the rate-limit key of r's client: its IPv4 address, or the
// /64 prefix of its IPv6 address (one subscriber's network, which a client
// can roam freely), or "remote:"+RemoteAddr when that is not an address.
func (c clientIPs) key(r *http.Request) string {
	a := c.addr(r)
	switch {
	case !a.IsValid():
		return "remote:" + r.RemoteAddr
	case a.Is4():
		return a.String()
	default:
		p, _ := a.Prefix(64)
		return p.String()
	}
}

// parseHostAddr parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80" or
// "[fe80::1%eth0]:80" to an address without zone, IPv4-mapped IPv6 taken as
// IPv4; anything else gives an invalid Addr.
func parseHostAddr(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// rateLimit lets a request through to next when its key's bucket in l has
// a token, and answers 429 Too Many Requests otherwise, with Retry-After
// (seconds, rounded up) and a JSON body {"error": …, "request_id": …};
// onLimited, when set, is called for each refused request (a metric).
func rateLimit(next http.Handler, l *limiter, key func(*http.Request) string, onLimited func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.allow(key(r))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		if onLimited != nil {
			onLimited(r)
		}
		secs := retryAfterSeconds(wait)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeJSONError(w, r, http.StatusTooManyRequests, "too many requests; retry after "+strconv.FormatInt(secs, 10)+" s")
	})
}

// limitJSONBody caps the body of requests to next at n bytes: a body
// declared or found larger is answered 413 with a JSON error, before next
// runs; otherwise next gets the body, read into memory. Requests without
// a body pass through.
func limitJSONBody(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := "request body larger than " + strconv.FormatInt(n, 10) + " bytes"
		if r.ContentLength > n {
			writeJSONError(w, r, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, n))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeJSONError(w, r, http.StatusRequestEntityTooLarge, tooLarge)
				return
			}
			writeJSONError(w, r, http.StatusBadRequest, "reading the request body failed")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		next.ServeHTTP(w, r)
	})
}

// invalidateGate limits the upstream token refreshes that reports of
// rejected tokens (POST /token/{appid}/invalidate) can cause: at most one
// per app and token type per interval (limits.token_invalidate_interval).
// A report within the interval after the last one let through must leave
// the current token in place; the caller's next GET then gets that token.
// A nil *invalidateGate lets everything through.
type invalidateGate struct {
	l *limiter
}

// newInvalidateGate returns a gate of one refresh per interval, or nil
// when interval <= 0 (no limit).
func newInvalidateGate(interval time.Duration, now func() time.Time) *invalidateGate {
	if interval <= 0 {
		return nil
	}
	return &invalidateGate{l: newLimiter(1/interval.Seconds(), 1, 4096, now)}
}

// allow reports whether a rejected token of appID's kind may be
// invalidated now, and if not, how long until it may.
func (g *invalidateGate) allow(appID string, kind token.Kind) (bool, time.Duration) {
	if g == nil {
		return true, 0
	}
	return g.l.allow(string(kind) + "\x00" + appID)
}
