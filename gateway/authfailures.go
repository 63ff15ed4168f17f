package gateway

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// authFailures brakes and summarizes failed authentications on the token
// service, per client (clientIPs.key: an IPv4 address, or an IPv6 /64).
//
// Brake (limits.auth_failures_per_minute and auth_failures_burst): every
// failure takes a token from the client's bucket; while the bucket is
// empty, every request of the client, with the right secret or not, is
// refused 429 with Retry-After before the secret is looked at, so that
// guessing on gains nothing. Refusals take no token: the client may try
// again once Retry-After has passed.
//
// Log: the first failure of a client is logged at once, as one warn line
// "token service: failed authentications" with client, failures (1),
// throttled (0) and path; further failures and refusals of that client are
// counted and logged as one such line, with the counts, once a minute has
// passed since its last line (at most one line per client a minute). At
// most maxFailureLogKeys clients are tracked; beyond them, counts go to one
// line for "other clients". The summary runs on the wall clock.
type authFailures struct {
	limit   *limiter // nil: no brake
	clients clientIPs
	logger  *slog.Logger
	every   time.Duration // summary interval; authLogInterval

	mu       sync.Mutex
	counts   map[string]*failureCounts
	others   failureCounts // clients beyond maxFailureLogKeys
	flushing bool          // a flush is scheduled
}

// failureCounts are one client's events since its last log line.
type failureCounts struct {
	last      time.Time // time of the last line
	failures  int
	throttled int
	path      string // of the latest event
}

const (
	// authLogInterval is the least time between two log lines about one
	// client's failed authentications.
	authLogInterval = time.Minute
	// maxFailureLogKeys bounds the clients whose counts are kept apart.
	maxFailureLogKeys = 4096
	// otherClients names the line of clients beyond maxFailureLogKeys.
	otherClients = "other clients"
)

// newAuthFailures returns the brake and log of failed authentications
// configured by l (normalized); now is the gateway's clock, used by the
// brake.
func newAuthFailures(l *LimitsConfig, logger *slog.Logger, now func() time.Time) *authFailures {
	a := &authFailures{
		clients: clientIPs{trusted: l.trusted},
		logger:  logger,
		every:   authLogInterval,
		counts:  make(map[string]*failureCounts),
	}
	if l.AuthFailuresPerMinute > 0 {
		a.limit = newLimiter(float64(l.AuthFailuresPerMinute)/60, l.AuthFailuresBurst, defaultMaxKeys, now)
	}
	return a
}

// refuse answers r 429 when its client has no failures left, and reports
// whether it did; key is the client's key either way. A nil *authFailures
// refuses nothing.
func (a *authFailures) refuse(w http.ResponseWriter, r *http.Request) (key string, refused bool) {
	if a == nil {
		return "", false
	}
	key = a.clients.key(r)
	if a.limit == nil {
		return key, false
	}
	wait := a.limit.wait(key)
	if wait <= 0 {
		return key, false
	}
	a.note(r.Context(), key, r.URL.Path, false)
	secs := retryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeJSON(w, http.StatusTooManyRequests, tokenError{ErrCode: 45011,
		ErrMsg: "too many failed authentications from this address; retry after " + strconv.FormatInt(secs, 10) + " s"})
	return key, true
}

// failed records a failed authentication of the client key.
func (a *authFailures) failed(r *http.Request, key string) {
	if a == nil {
		return
	}
	if a.limit != nil {
		a.limit.allow(key)
	}
	a.note(r.Context(), key, r.URL.Path, true)
}

// note counts one event of key (a failure, or else a refusal) and logs
// what is due.
func (a *authFailures) note(ctx context.Context, key, path string, failure bool) {
	now := time.Now()
	a.mu.Lock()
	c := a.counts[key]
	if c == nil {
		if len(a.counts) >= maxFailureLogKeys {
			c = &a.others
			key = otherClients
		} else {
			c = &failureCounts{}
			a.counts[key] = c
		}
	}
	if failure {
		c.failures++
	} else {
		c.throttled++
	}
	c.path = path
	var line failureCounts
	due := now.Sub(c.last) >= a.every
	if due {
		line = *c
		c.last, c.failures, c.throttled = now, 0, 0
	}
	if !a.flushing {
		a.flushing = true
		time.AfterFunc(a.every, a.flush)
	}
	a.mu.Unlock()
	if due {
		a.log(ctx, key, line)
	}
}

// flush logs the counts that are due, forgets the clients that have been
// quiet for a whole interval, and schedules itself again while any is
// left.
func (a *authFailures) flush() {
	now := time.Now()
	type due struct {
		key string
		c   failureCounts
	}
	var lines []due
	a.mu.Lock()
	for key, c := range a.counts {
		if now.Sub(c.last) < a.every {
			continue
		}
		if c.failures+c.throttled == 0 {
			delete(a.counts, key)
			continue
		}
		lines = append(lines, due{key, *c})
		c.last, c.failures, c.throttled = now, 0, 0
	}
	if o := &a.others; o.failures+o.throttled > 0 && now.Sub(o.last) >= a.every {
		lines = append(lines, due{otherClients, *o})
		o.last, o.failures, o.throttled = now, 0, 0
	}
	a.flushing = len(a.counts) > 0 || a.others.failures+a.others.throttled > 0
	if a.flushing {
		time.AfterFunc(a.every, a.flush)
	}
	a.mu.Unlock()
	for _, l := range lines {
		a.log(context.Background(), l.key, l.c)
	}
}

func (a *authFailures) log(ctx context.Context, key string, c failureCounts) {
	a.logger.LogAttrs(ctx, slog.LevelWarn, "token service: failed authentications",
		slog.String("client", key), slog.Int("failures", c.failures), slog.Int("throttled", c.throttled),
		slog.String("path", c.path))
}

// wait returns how long until key's bucket holds a token again, 0 when it
// holds one now, without taking it.
func (l *limiter) wait(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return 0
	}
	tokens := b.tokens
	if d := now.Sub(b.last); d > 0 {
		tokens = min(l.burst, tokens+d.Seconds()*l.rate)
	}
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / l.rate * float64(time.Second)))
}
