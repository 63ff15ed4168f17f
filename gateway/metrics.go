package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// metrics are the gateway's Prometheus metrics, on a registry of its own
// (not the global default), so that several gateways in one process keep
// separate counts. The names and labels are a contract that dashboards rely
// on:
//
//	wxkit_webhook_pushes_total{appid,outcome}   pushes by webhook.Outcome: replied, duplicate, rejected, error, late
//	wxkit_webhook_duration_seconds{appid}       histogram of the time to answer a push
//	wxkit_webhook_unknown_path_total            requests to /wx/<an AppID not configured>
//	wxkit_token_fetches_total{appid,kind}       upstream token fetches (kind: access_token, jsapi_ticket)
//	wxkit_token_fetch_errors_total{appid,kind}  those that failed
//	wxkit_api_errors_total{errcode}             non-zero errcodes in WeChat API replies
//	wxkit_store_errors_total{store,op}          failed store calls (store: tokens, dedup, message_log, outbox; op: get, claim, append_messages…)
//	wxkit_message_log_dropped_total             message-log rows dropped (queue full, store down at shutdown)
//	wxkit_outbox_jobs_total{kind,outcome}       outbox jobs run (kind: late_reply…; outcome: done, retry, dead)
//	wxkit_http_rate_limited_total{route}        requests answered 429 by a rate limit
//	wxkit_pay_notifies_total{mch_id,version,outcome}
//	                                            pay and refund notifies (version: v2, v3) by outcome:
//	                                            applied, duplicate, rejected, error, ignored (see payNotify);
//	                                            mch_id "unknown" for the notify URL of a merchant not configured
//
// plus the Go runtime (go_*) and process (process_*) collectors.
type metrics struct {
	reg *prometheus.Registry

	pushes        *prometheus.CounterVec
	pushDuration  *prometheus.HistogramVec
	unknownPath   prometheus.Counter
	tokenFetches  *prometheus.CounterVec
	tokenFailures *prometheus.CounterVec
	apiErrors     *prometheus.CounterVec
	storeErrors   *prometheus.CounterVec
	logDropped    prometheus.Counter
	outboxJobs    *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	payNotifies   *prometheus.CounterVec
}

// pushDurationBuckets are the buckets of wxkit_webhook_duration_seconds,
// from 100 µs (an in-process reply) to 5 s (WeChat's limit).
var pushDurationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
}

// newMetrics registers the gateway's metrics on a new registry.
func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_webhook_pushes_total",
			Help: "Message pushes (POST /wx/{appid}) answered, by outcome: replied, duplicate (a retry answered from dedup), rejected (4xx), error (5xx), late (the handler missed the deadline).",
		}, []string{"appid", "outcome"}),
		pushDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wxkit_webhook_duration_seconds",
			Help:    "Time to answer a message push, in seconds.",
			Buckets: pushDurationBuckets,
		}, []string{"appid"}),
		unknownPath: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wxkit_webhook_unknown_path_total",
			Help: "Requests to /wx/{appid} for an AppID this gateway does not serve.",
		}),
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_token_fetches_total",
			Help: "Upstream token fetches (one per token lifetime across instances sharing a store), by app and kind (access_token, jsapi_ticket).",
		}, []string{"appid", "kind"}),
		tokenFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_token_fetch_errors_total",
			Help: "Upstream token fetches that failed, by app and kind.",
		}, []string{"appid", "kind"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_api_errors_total",
			Help: "WeChat API replies with a non-zero errcode, by errcode (each retried attempt counts).",
		}, []string{"errcode"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_store_errors_total",
			Help: "Failed store operations, by store (tokens, dedup, message_log, ...) and operation.",
		}, []string{"store", "op"}),
		logDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wxkit_message_log_dropped_total",
			Help: "Message-log rows dropped (the write queue was full, or the store was down at shutdown).",
		}),
		outboxJobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_outbox_jobs_total",
			Help: "Outbox jobs run, by kind (late_reply, ...) and outcome: done, retry (failed, will be retried), dead (given up).",
		}, []string{"kind", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_http_rate_limited_total",
			Help: "Requests answered 429 Too Many Requests, by rate-limited route.",
		}, []string{"route"}),
		payNotifies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxkit_pay_notifies_total",
			Help: "WeChat Pay notifies (pay and refund) answered, by merchant, API version (v2, v3) and outcome: applied (the order or refund changed), duplicate (a repeat, acknowledged), rejected (forged or not matching the order: 4xx/FAIL, alerted), error (store unavailable: 5xx, the platform retries), ignored (acknowledged without a change, such as a failed payment).",
		}, []string{"mch_id", "version", "outcome"}),
	}
	m.reg.MustRegister(
		m.pushes, m.pushDuration, m.unknownPath,
		m.tokenFetches, m.tokenFailures, m.apiErrors, m.storeErrors, m.logDropped, m.outboxJobs, m.rateLimited, m.payNotifies,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the registry in the Prometheus text (or OpenMetrics)
// format; scrape errors are logged.
func (m *metrics) handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		Registry:          m.reg,
		EnableOpenMetrics: true,
	})
}

// pushObserver is the webhook.Observer of one app: its counters and
// histogram are resolved once, so that an observation is three atomic
// operations and no allocation.
type pushObserver struct {
	byOutcome [len(webhook.Outcomes) + 1]prometheus.Counter // indexed by webhook.Outcome
	duration  prometheus.Observer
}

var _ webhook.Observer = (*pushObserver)(nil)

// pushObserver returns the Observer for appID's webhook.Server
// (srv.Observer = g.ops.metrics.pushObserver(appID)). Every outcome's
// series exists from the start, at zero.
func (m *metrics) pushObserver(appID string) *pushObserver {
	o := &pushObserver{duration: m.pushDuration.WithLabelValues(appID)}
	for _, oc := range webhook.Outcomes {
		o.byOutcome[oc] = m.pushes.WithLabelValues(appID, oc.String())
	}
	return o
}

// ObservePush implements webhook.Observer.
func (o *pushObserver) ObservePush(_ context.Context, oc webhook.Outcome, d time.Duration) {
	if int(oc) < len(o.byOutcome) && o.byOutcome[oc] != nil {
		o.byOutcome[oc].Inc()
	}
	o.duration.Observe(d.Seconds())
}

// unknownApp answers requests to /wx/{appid} for an AppID that is not
// configured: 404, counted in wxkit_webhook_unknown_path_total. Register
// it on "/wx/{appid}": the apps' own "/wx/<appid>" patterns are more
// specific and win.
func (m *metrics) unknownApp(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.unknownPath.Inc()
		logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: request for an unknown app",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr))
		http.Error(w, "unknown app", http.StatusNotFound)
	})
}

// countFetches wraps an upstream token provider so that each fetch counts
// in wxkit_token_fetches_total{appid,kind} (and, failed,
// wxkit_token_fetch_errors_total). Give the result to
// token.NewCachedSource in place of the provider.
func (m *metrics) countFetches(appID string, kind token.Kind, fetch token.Source) token.Source {
	fetches := m.tokenFetches.WithLabelValues(appID, string(kind))
	failures := m.tokenFailures.WithLabelValues(appID, string(kind))
	return token.ObserveFetches(fetch, func(_ context.Context, err error) {
		fetches.Inc()
		if err != nil {
			failures.Inc()
		}
	})
}

// apiError counts errcode in wxkit_api_errors_total; it is the hook of
// mp.WithAPIErrorHook (and wxhttp.Client.OnAPIError).
func (m *metrics) apiError(errcode int) {
	m.apiErrors.WithLabelValues(strconv.Itoa(errcode)).Inc()
}

// storeError counts a failed operation op ("get", "claim", …) of the
// store named store ("tokens", "dedup", "message_log", "outbox", …) in
// wxkit_store_errors_total.
func (m *metrics) storeError(store, op string) {
	m.storeErrors.WithLabelValues(store, op).Inc()
}

// storeErrorFunc returns storeError bound to store, for the storeError
// hooks (tieredDedup.storeError).
func (m *metrics) storeErrorFunc(store string) func(op string) {
	return func(op string) { m.storeError(store, op) }
}

// Logical store names (the store label of wxkit_store_errors_total).
const (
	storeTokens     = "tokens"
	storeDedup      = "dedup"
	storeMessageLog = "message_log"
	storeOutbox     = "outbox"
)

// messageLogHooks are the hooks of the message-log writer: its write
// failures count in wxkit_store_errors_total{store="message_log"}, its
// dropped rows in wxkit_message_log_dropped_total.
func (m *metrics) messageLogHooks() logHooks {
	return logHooks{
		storeError: m.storeErrorFunc(storeMessageLog),
		dropped:    func(n int) { m.logDropped.Add(float64(n)) },
	}
}

// drainHooks are the hooks of an outbox drainer: its store failures count
// in wxkit_store_errors_total{store="outbox"}, its jobs in
// wxkit_outbox_jobs_total{kind,outcome}.
func (m *metrics) drainHooks() drainHooks {
	return drainHooks{
		storeError: m.storeErrorFunc(storeOutbox),
		outcome:    func(kind, outcome string) { m.outboxJobs.WithLabelValues(kind, outcome).Inc() },
	}
}

// countError counts err against store and op when it is a failure of the
// store: not nil, not a "not found"/"locked" answer and not the caller's
// context ending. It returns err.
func (m *metrics) countError(store, op string, err error) error {
	if err != nil && !errors.Is(err, token.ErrNotFound) && !errors.Is(err, token.ErrLocked) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		m.storeError(store, op)
	}
	return err
}

// tokenStore wraps a token.Store so that its failures count in
// wxkit_store_errors_total{store=name, op=get|set|delete|delete_value|lock|unlock}.
// The result implements token.ValueDeleter when s does.
func (m *metrics) tokenStore(name string, s token.Store) token.Store {
	cs := countedTokenStore{s: s, m: m, name: name}
	if vd, ok := s.(token.ValueDeleter); ok {
		return countedValueDeleter{countedTokenStore: cs, vd: vd}
	}
	return cs
}

type countedTokenStore struct {
	s    token.Store
	m    *metrics
	name string
}

func (c countedTokenStore) Get(ctx context.Context, key string) (*token.Token, error) {
	t, err := c.s.Get(ctx, key)
	return t, c.m.countError(c.name, "get", err)
}

func (c countedTokenStore) Set(ctx context.Context, key string, t *token.Token) error {
	return c.m.countError(c.name, "set", c.s.Set(ctx, key, t))
}

func (c countedTokenStore) Delete(ctx context.Context, key string) error {
	return c.m.countError(c.name, "delete", c.s.Delete(ctx, key))
}

func (c countedTokenStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	unlock, err := c.s.Lock(ctx, key, ttl)
	if err != nil {
		return nil, c.m.countError(c.name, "lock", err)
	}
	return func(ctx context.Context) error { return c.m.countError(c.name, "unlock", unlock(ctx)) }, nil
}

type countedValueDeleter struct {
	countedTokenStore
	vd token.ValueDeleter
}

func (c countedValueDeleter) DeleteValue(ctx context.Context, key, value string) (bool, error) {
	ok, err := c.vd.DeleteValue(ctx, key, value)
	return ok, c.m.countError(c.name, "delete_value", err)
}

// Outcomes of wxkit_pay_notifies_total.
const (
	payApplied   = "applied"
	payDuplicate = "duplicate"
	payRejected  = "rejected"
	payError     = "error"
	payIgnored   = "ignored"
)

// payOutcomes lists the outcomes of wxkit_pay_notifies_total.
var payOutcomes = []string{payApplied, payDuplicate, payRejected, payError, payIgnored}

// payNotify counts one notify of merchant mchID (version v2 or v3) in
// wxkit_pay_notifies_total.
func (m *metrics) payNotify(mchID, version, outcome string) {
	m.payNotifies.WithLabelValues(mchID, version, outcome).Inc()
}

// payMerchant makes the series of merchant mchID exist from the start, at
// zero, so that rates and alerts see them before the first notify.
func (m *metrics) payMerchant(mchID, version string) {
	for _, o := range payOutcomes {
		m.payNotifies.WithLabelValues(mchID, version, o)
	}
}

// dedupStore wraps a webhook.DedupStore so that its failures count in
// wxkit_store_errors_total{store=name, op=claim|complete|release|wait}.
// The result implements webhook.DedupWaiter when d does.
func (m *metrics) dedupStore(name string, d webhook.DedupStore) webhook.DedupStore {
	cd := countedDedup{d: d, m: m, name: name}
	if w, ok := d.(webhook.DedupWaiter); ok {
		return countedDedupWaiter{countedDedup: cd, w: w}
	}
	return cd
}

type countedDedup struct {
	d    webhook.DedupStore
	m    *metrics
	name string
}

func (c countedDedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	cl, err := c.d.Claim(ctx, key, ttl)
	return cl, c.m.countError(c.name, "claim", err)
}

func (c countedDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	return c.m.countError(c.name, "complete", c.d.Complete(ctx, key, reply, ttl))
}

func (c countedDedup) Release(ctx context.Context, key string) error {
	return c.m.countError(c.name, "release", c.d.Release(ctx, key))
}

type countedDedupWaiter struct {
	countedDedup
	w webhook.DedupWaiter
}

func (c countedDedupWaiter) Wait(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	cl, err := c.w.Wait(ctx, key, ttl)
	return cl, c.m.countError(c.name, "wait", err)
}
