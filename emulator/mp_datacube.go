package emulator

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The data APIs (数据统计, /datacube/...) report what the emulator has seen,
// counted per day of China time: follows and unfollows and the messages
// users sent (from Push), the deliveries of those messages to the push URL,
// and the article reads and shares recorded with RecordArticleEvent. A day
// can be asked for once it is over: end_date must be before today.

func init() {
	for path := range cubeRoutes {
		handle(path, (*Emulator).serveDataCube)
	}
}

// cubeRoute is one data API: its largest span in days and what it reports
// for a query.
type cubeRoute struct {
	span  int
	build func(*cubeState, cubeQuery) any
}

// cubeQuery is a query of a data API: the days [from, to] (midnights, China
// time, both included), asked for on the day today.
type cubeQuery struct {
	a               *app
	from, to, today time.Time
}

// cubeRoutes are the data APIs served, with the spans of the platform.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html
// (and Graphic_Analysis_Data_Interface.html, Message_analysis_data_interface.html, Analytics_API.html)
var cubeRoutes = map[string]cubeRoute{
	"/datacube/getusersummary":          {7, (*cubeState).userSummary},
	"/datacube/getusercumulate":         {7, (*cubeState).userCumulate},
	"/datacube/getarticlesummary":       {1, (*cubeState).articleSummary},
	"/datacube/getarticletotal":         {1, (*cubeState).articleTotal},
	"/datacube/getuserread":             {3, (*cubeState).userReadDaily},
	"/datacube/getuserreadhour":         {1, (*cubeState).userReadHourly},
	"/datacube/getusershare":            {7, (*cubeState).userShareDaily},
	"/datacube/getusersharehour":        {1, (*cubeState).userShareHourly},
	"/datacube/getupstreammsg":          {7, (*cubeState).upstreamDaily},
	"/datacube/getupstreammsghour":      {1, (*cubeState).upstreamHourly},
	"/datacube/getupstreammsgweek":      {30, (*cubeState).upstreamWeekly},
	"/datacube/getupstreammsgmonth":     {30, (*cubeState).upstreamMonthly},
	"/datacube/getupstreammsgdist":      {15, (*cubeState).distDaily},
	"/datacube/getupstreammsgdistweek":  {30, (*cubeState).distWeekly},
	"/datacube/getupstreammsgdistmonth": {30, (*cubeState).distMonthly},
	"/datacube/getinterfacesummary":     {30, (*cubeState).interfaceDaily},
	"/datacube/getinterfacesummaryhour": {1, (*cubeState).interfaceHourly},
}

// The variants of the data APIs.
func (st *cubeState) userReadDaily(q cubeQuery) any   { return st.userRead(q, false) }
func (st *cubeState) userReadHourly(q cubeQuery) any  { return st.userRead(q, true) }
func (st *cubeState) userShareDaily(q cubeQuery) any  { return st.userShare(q, false) }
func (st *cubeState) userShareHourly(q cubeQuery) any { return st.userShare(q, true) }
func (st *cubeState) upstreamDaily(q cubeQuery) any   { return st.upstream(q, periodDay) }
func (st *cubeState) upstreamWeekly(q cubeQuery) any  { return st.upstream(q, periodWeek) }
func (st *cubeState) upstreamMonthly(q cubeQuery) any { return st.upstream(q, periodMonth) }
func (st *cubeState) distDaily(q cubeQuery) any       { return st.upstreamDist(q, periodDay) }
func (st *cubeState) distWeekly(q cubeQuery) any      { return st.upstreamDist(q, periodWeek) }
func (st *cubeState) distMonthly(q cubeQuery) any     { return st.upstreamDist(q, periodMonth) }
func (st *cubeState) interfaceDaily(q cubeQuery) any  { return st.interfaceSummary(q, false) }
func (st *cubeState) interfaceHourly(q cubeQuery) any { return st.interfaceSummary(q, true) }

// Errors of the data APIs.
var (
	errCubeDateFormat = mpErrf(61500, "date format error")
	errCubeDateRange  = mpErrf(61501, "date range error")
)

// serveDataCube serves POST /datacube/... {"begin_date","end_date"}
// (yyyy-mm-dd, China time): {"list":[...]}. Errors: 61500 for a missing or
// malformed date; 61501 when begin_date is after end_date, end_date is not
// before today, or the range is longer than the API's span (1 to 30 days).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html
func (e *Emulator) serveDataCube(w http.ResponseWriter, r *http.Request) {
	rt := cubeRoutes[r.URL.Path]
	var req struct {
		BeginDate string `json:"begin_date"`
		EndDate   string `json:"end_date"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	from, ok1 := parseCubeDate(req.BeginDate)
	to, ok2 := parseCubeDate(req.EndDate)
	if !ok1 || !ok2 {
		e.writeAPIError(w, errCubeDateFormat)
		return
	}
	now := e.Now()
	today := cubeDate(now)
	if from.After(to) || !to.Before(today) || daysBetween(from, to)+1 > rt.span {
		e.writeAPIError(w, errCubeDateRange)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	writeJSON(w, map[string]any{"list": rt.build(cubeOf(a), cubeQuery{a: a, from: from, to: to, today: today})})
}

// parseCubeDate parses a yyyy-mm-dd date as midnight China time.
func parseCubeDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, beijing)
	return t, err == nil
}

// cubeDate returns midnight (China time) of the day of t.
func cubeDate(t time.Time) time.Time {
	y, m, d := t.In(beijing).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, beijing)
}

// daysBetween returns the number of days from a to b (both midnights).
func daysBetween(a, b time.Time) int { return int(b.Sub(a).Round(time.Hour).Hours()) / 24 }

// eachDay calls f for every day from from to to, both included.
func eachDay(from, to time.Time, f func(day time.Time)) {
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		f(d)
	}
}

func dateString(t time.Time) string { return t.Format(time.DateOnly) }

// User sources (user_source) of getusersummary.
const (
	cubeSourceOther  = 0  // 其他合计
	cubeSourceQRCode = 30 // 扫描二维码
)

// Message types (msg_type) of getupstreammsg.
const (
	cubeMsgText  = 1
	cubeMsgImage = 2
	cubeMsgVoice = 3
	cubeMsgVideo = 4
	cubeMsgLink  = 6 // 第三方应用消息（链接消息）
)

// cubeUserSourceAll is the user_source of the total row of getuserread.
const cubeUserSourceAll = 99999999

// cubeState holds the per-day counters of an app (guarded by app.mu).
type cubeState struct {
	days map[string]*cubeDay // by yyyy-mm-dd (China time)
	// base is the number of followers before the first recorded change.
	base    int
	hasBase bool
	// source is the user_source of each user's last follow.
	source   map[string]int
	articles map[string]*cubeArticle // sent articles by msgid
	titles   map[string]string       // titles given with article events, by msgid
}

// cubeDay counts what happened on one day.
type cubeDay struct {
	newUser, cancelUser map[int]int // by user_source
	// followers is the number of followers after the day's last change,
	// -1 when there was none.
	followers int
	msgs      map[cubeMsgKey]int // messages sent in
	acts      map[cubeActKey]int // article reads, shares, favorites
	calls     [24]cubeCalls      // deliveries to the push URL by hour
}

type cubeMsgKey struct {
	hour, typ int
	user      string
}

type cubeActKey struct {
	msgID  string
	hour   int
	action ArticleAction
	source int // user_source: where the reader came from
	scene  int // share_scene of a share
	user   string
}

// cubeCalls counts the deliveries of one hour (getinterfacesummary).
type cubeCalls struct {
	count, fail int
	totalMS     int64
	maxMS       int64
}

// cubeArticle is an article sent to followers (RecordArticleSent).
type cubeArticle struct {
	title  string
	sentAt time.Time
	target int
}

// cubeOf returns the data counters of a. a.mu must be held.
func cubeOf(a *app) *cubeState {
	st := appExt[cubeState](a, "mp_datacube")
	if st.days == nil {
		st.days = map[string]*cubeDay{}
		st.source = map[string]int{}
		st.articles = map[string]*cubeArticle{}
		st.titles = map[string]string{}
	}
	return st
}

// day returns the counters of the day of t, creating them.
func (st *cubeState) day(t time.Time) *cubeDay {
	key := quotaDay(t)
	d := st.days[key]
	if d == nil {
		d = &cubeDay{newUser: map[int]int{}, cancelUser: map[int]int{}, followers: -1,
			msgs: map[cubeMsgKey]int{}, acts: map[cubeActKey]int{}}
		st.days[key] = d
	}
	return d
}

// peek returns the counters of day, or nil.
func (st *cubeState) peek(day time.Time) *cubeDay { return st.days[dateString(day)] }

// recordFollow counts a follow or unfollow of u at now, when its push
// changed the relation (was is the state before). a.mu must be held.
func recordFollow(a *app, u *user, was bool, in *InboundMessage, now time.Time) {
	if was == u.subscribed {
		return
	}
	st := cubeOf(a)
	n := len(followers(a))
	if !st.hasBase {
		st.base, st.hasBase = n+1, true
		if u.subscribed {
			st.base = n - 1
		}
	}
	d := st.day(now)
	if u.subscribed {
		src := cubeSourceOther
		if strings.HasPrefix(in.EventKey, "qrscene_") {
			src = cubeSourceQRCode
		}
		st.source[u.OpenID] = src
		d.newUser[src]++
	} else {
		d.cancelUser[st.source[u.OpenID]]++
	}
	d.followers = n
}

// cubeMsgType returns the msg_type of getupstreammsg for t, or 0 for
// messages the statistics leave out (events, locations).
func cubeMsgType(t MsgType) int {
	switch t {
	case MsgTypeText:
		return cubeMsgText
	case MsgTypeImage:
		return cubeMsgImage
	case MsgTypeVoice:
		return cubeMsgVoice
	case MsgTypeVideo, MsgTypeShortVideo:
		return cubeMsgVideo
	case MsgTypeLink:
		return cubeMsgLink
	}
	return 0
}

// recordInbound counts a message a user sent in at now.
func recordInbound(a *app, in *InboundMessage, now time.Time) {
	typ := cubeMsgType(in.MsgType)
	if typ == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cubeOf(a).day(now).msgs[cubeMsgKey{hour: now.In(beijing).Hour(), typ: typ, user: in.FromUserName}]++
}

// recordDeliveries counts the deliveries of one push made at now.
func recordDeliveries(a *app, atts []Attempt, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &cubeOf(a).day(now).calls[now.In(beijing).Hour()]
	for _, at := range atts {
		ms := time.Duration(at.Duration).Milliseconds()
		c.count++
		if at.Error != "" {
			c.fail++
		}
		c.totalMS += ms
		c.maxMS = max(c.maxMS, ms)
	}
}

// followersAt returns the number of followers at the end of day. a.mu
// must be held.
func (st *cubeState) followersAt(a *app, day time.Time) int {
	key := dateString(day)
	best := ""
	for k, d := range st.days {
		if d.followers >= 0 && k <= key && k > best {
			best = k
		}
	}
	switch {
	case best != "":
		return st.days[best].followers
	case st.hasBase:
		return st.base
	}
	return len(followers(a))
}

type cubeUserSummary struct {
	RefDate    string `json:"ref_date"`
	UserSource int    `json:"user_source"`
	NewUser    int    `json:"new_user"`
	CancelUser int    `json:"cancel_user"`
}

// userSummary is getusersummary: for each day a row for user_source 0
// (zeros included) and one for every other source with a follow or an
// unfollow. An unfollow counts against the source of the user's follow.
func (st *cubeState) userSummary(q cubeQuery) any {
	out := []cubeUserSummary{}
	eachDay(q.from, q.to, func(day time.Time) {
		d := st.peek(day)
		srcs := map[int]bool{cubeSourceOther: true}
		if d != nil {
			for s := range d.newUser {
				srcs[s] = true
			}
			for s := range d.cancelUser {
				srcs[s] = true
			}
		}
		for _, s := range slices.Sorted(maps.Keys(srcs)) {
			row := cubeUserSummary{RefDate: dateString(day), UserSource: s}
			if d != nil {
				row.NewUser, row.CancelUser = d.newUser[s], d.cancelUser[s]
			}
			out = append(out, row)
		}
	})
	return out
}

// userCumulate is getusercumulate: the number of followers at the end of
// each day.
func (st *cubeState) userCumulate(q cubeQuery) any {
	type row struct {
		RefDate      string `json:"ref_date"`
		CumulateUser int    `json:"cumulate_user"`
	}
	out := []row{}
	eachDay(q.from, q.to, func(day time.Time) {
		out = append(out, row{dateString(day), st.followersAt(q.a, day)})
	})
	return out
}

// period groups days for the week and month variants.
type period int

const (
	periodDay period = iota
	periodWeek
	periodMonth
)

// start returns the first day of the period of day: itself, its Monday or
// the first of its month.
func (p period) start(day time.Time) time.Time {
	switch p {
	case periodWeek:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case periodMonth:
		return day.AddDate(0, 0, 1-day.Day())
	}
	return day
}

// next returns the first day of the period after the one starting at s.
func (p period) next(s time.Time) time.Time {
	switch p {
	case periodWeek:
		return s.AddDate(0, 0, 7)
	case periodMonth:
		return s.AddDate(0, 1, 0)
	}
	return s.AddDate(0, 0, 1)
}

// eachPeriod calls f with the first and last day of every period that
// overlaps [from, to]; the last day is capped at the day before today,
// whose data is the latest there is.
func eachPeriod(p period, from, to, today time.Time, f func(start, end time.Time)) {
	for s := p.start(from); !s.After(to); s = p.next(s) {
		end := p.next(s).AddDate(0, 0, -1)
		if !end.Before(today) {
			end = today.AddDate(0, 0, -1)
		}
		f(s, end)
	}
}

type cubeUpstream struct {
	RefDate  string `json:"ref_date"`
	RefHour  *int   `json:"ref_hour,omitempty"`
	MsgType  int    `json:"msg_type"`
	MsgUser  int    `json:"msg_user"`
	MsgCount int    `json:"msg_count"`
}

// msgTotals adds up the messages of [from, to] whose key keep accepts, by
// msg_type: senders and messages.
func (st *cubeState) msgTotals(from, to time.Time, keep func(cubeMsgKey) bool) (users map[int]map[string]bool, counts map[int]int) {
	users, counts = map[int]map[string]bool{}, map[int]int{}
	eachDay(from, to, func(day time.Time) {
		d := st.peek(day)
		if d == nil {
			return
		}
		for k, n := range d.msgs {
			if keep != nil && !keep(k) {
				continue
			}
			if users[k.typ] == nil {
				users[k.typ] = map[string]bool{}
			}
			users[k.typ][k.user] = true
			counts[k.typ] += n
		}
	})
	return users, counts
}

// upstream is getupstreammsg and its week and month variants: for each
// day (week from Monday, month from the 1st) the senders and messages of
// each msg_type that was sent.
func (st *cubeState) upstream(q cubeQuery, p period) any {
	out := []cubeUpstream{}
	eachPeriod(p, q.from, q.to, q.today, func(s, e time.Time) {
		users, counts := st.msgTotals(s, e, nil)
		for _, typ := range slices.Sorted(maps.Keys(counts)) {
			out = append(out, cubeUpstream{RefDate: dateString(s), MsgType: typ, MsgUser: len(users[typ]), MsgCount: counts[typ]})
		}
	})
	return out
}

// upstreamHourly is getupstreammsghour: the same by hour (ref_hour 0, 100,
// ..., 2300).
func (st *cubeState) upstreamHourly(q cubeQuery) any {
	out := []cubeUpstream{}
	eachDay(q.from, q.to, func(day time.Time) {
		for h := range 24 {
			users, counts := st.msgTotals(day, day, func(k cubeMsgKey) bool { return k.hour == h })
			for _, typ := range slices.Sorted(maps.Keys(counts)) {
				out = append(out, cubeUpstream{RefDate: dateString(day), RefHour: new(h * 100), MsgType: typ,
					MsgUser: len(users[typ]), MsgCount: counts[typ]})
			}
		}
	})
	return out
}

// distInterval is the count_interval of a user who sent n messages: 1 for
// 1-5, 2 for 6-10, 3 for more than 10 (0 is "none").
func distInterval(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 5:
		return 1
	case n <= 10:
		return 2
	}
	return 3
}

// upstreamDist is getupstreammsgdist and its week and month variants: how
// many users sent 1-5, 6-10 or more than 10 messages in each day (week,
// month). Users who sent nothing are not listed.
func (st *cubeState) upstreamDist(q cubeQuery, p period) any {
	type row struct {
		RefDate       string `json:"ref_date"`
		CountInterval int    `json:"count_interval"`
		MsgUser       int    `json:"msg_user"`
	}
	out := []row{}
	eachPeriod(p, q.from, q.to, q.today, func(s, e time.Time) {
		perUser := map[string]int{}
		eachDay(s, e, func(day time.Time) {
			if d := st.peek(day); d != nil {
				for k, n := range d.msgs {
					perUser[k.user] += n
				}
			}
		})
		byInterval := map[int]int{}
		for _, n := range perUser {
			byInterval[distInterval(n)]++
		}
		for _, iv := range slices.Sorted(maps.Keys(byInterval)) {
			out = append(out, row{dateString(s), iv, byInterval[iv]})
		}
	})
	return out
}

// interfaceSummary is getinterfacesummary (by day) and
// getinterfacesummaryhour: the deliveries of pushes to the push URL, the
// failed ones (timeout, connection error, bad HTTP status), and their time
// in milliseconds.
func (st *cubeState) interfaceSummary(q cubeQuery, byHour bool) any {
	type row struct {
		RefDate       string `json:"ref_date"`
		RefHour       *int   `json:"ref_hour,omitempty"`
		CallbackCount int    `json:"callback_count"`
		FailCount     int    `json:"fail_count"`
		TotalTimeCost int64  `json:"total_time_cost"`
		MaxTimeCost   int64  `json:"max_time_cost"`
	}
	out := []row{}
	eachDay(q.from, q.to, func(day time.Time) {
		d := st.peek(day)
		if d == nil {
			return
		}
		var sum row
		for h, c := range d.calls {
			if c.count == 0 {
				continue
			}
			if byHour {
				out = append(out, row{dateString(day), new(h * 100), c.count, c.fail, c.totalMS, c.maxMS})
				continue
			}
			sum.CallbackCount += c.count
			sum.FailCount += c.fail
			sum.TotalTimeCost += c.totalMS
			sum.MaxTimeCost = max(sum.MaxTimeCost, c.maxMS)
		}
		if !byHour && sum.CallbackCount > 0 {
			sum.RefDate = dateString(day)
			out = append(out, sum)
		}
	})
	return out
}

// ArticleAction is what a reader does with an article, for the article
// statistics (getarticlesummary, getuserread, getusershare, ...).
type ArticleAction string

// The article actions.
const (
	// ArticleRead opens the article (图文页, int_page_read_*).
	ArticleRead ArticleAction = "read"
	// ArticleReadOriginal opens the article's original link (原文页,
	// ori_page_read_*).
	ArticleReadOriginal ArticleAction = "read_original"
	// ArticleShare shares or forwards the article (share_*).
	ArticleShare ArticleAction = "share"
	// ArticleFavorite adds the article to the reader's favorites (收藏,
	// add_to_fav_*).
	ArticleFavorite ArticleAction = "favorite"
)

// Share scenes (share_scene) of ArticleEvent.
const (
	ShareSceneFriend  = 1   // 好友转发
	ShareSceneMoments = 2   // 朋友圈
	ShareSceneOther   = 255 // 其他
)

// Limits of the article records.
const (
	shareSceneDefault  = ShareSceneFriend
	maxArticleUserSrc  = 7 // 搜一搜, the highest documented user_source of a read
	maxArticleMsgIDLen = 64
)

// ErrBadArticle: an ArticleEvent or SentArticle is invalid.
var ErrBadArticle = errors.New("emulator: bad article record")

// ArticleEvent is one thing a reader did with an article of an app, at the
// emulator's time, for the article statistics.
type ArticleEvent struct {
	// User is the reader's openid (any reader, follower or not); the app's
	// first user when empty.
	User string `json:"user,omitempty"`
	// MsgID is the article's msgid in the statistics,
	// "<msg_data_id>_<index>" (index from 1) for a mass-sent article.
	MsgID string `json:"msgid"`
	// Title is the article's title, used when the article was not recorded
	// with RecordArticleSent.
	Title  string        `json:"title,omitempty"`
	Action ArticleAction `json:"action"`
	// UserSource is where the reader opened the article: 0 会话 (the
	// default), 1 好友, 2 朋友圈, 4 历史消息页, 5 其他, 6 看一看, 7 搜一搜.
	UserSource int `json:"user_source,omitempty"`
	// ShareScene is where a share went: 1 好友转发 (the default), 2 朋友圈,
	// 255 其他.
	ShareScene int `json:"share_scene,omitempty"`
}

// SentArticle is an article an app sent to its followers, for
// getarticletotal (the article's statistics from the day it was sent).
type SentArticle struct {
	// MsgID is the article's msgid, "<msg_data_id>_<index>".
	MsgID string `json:"msgid"`
	Title string `json:"title"`
	// TargetUser is the number of users it was sent to.
	TargetUser int `json:"target_user"`
	// SentAt is when it was sent; the emulator's time when zero.
	SentAt time.Time `json:"sent_at,omitzero"`
}

// RecordArticleSent records that appID sent an article to TargetUser
// users. Mass sends call it for each article of a news message; tests and
// the control API may too. Recording a msgid again replaces it.
func (e *Emulator) RecordArticleSent(appID string, s SentArticle) error {
	a := e.app(appID)
	if a == nil {
		return fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if s.MsgID == "" || len(s.MsgID) > maxArticleMsgIDLen || s.TargetUser < 0 {
		return fmt.Errorf("%w: a msgid (at most %d bytes) and a target_user >= 0 are required", ErrBadArticle, maxArticleMsgIDLen)
	}
	if s.SentAt.IsZero() {
		s.SentAt = e.Now()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cubeOf(a).articles[s.MsgID] = &cubeArticle{title: s.Title, sentAt: s.SentAt, target: s.TargetUser}
	return nil
}

// RecordArticleEvent records that a reader read, shared or saved an
// article of appID now (the emulator's time), and returns the event with
// its defaults filled in. Errors: ErrUnknownApp, ErrUnknownUser (no User
// and the app has no users), ErrBadArticle.
func (e *Emulator) RecordArticleEvent(appID string, ev ArticleEvent) (ArticleEvent, error) {
	a := e.app(appID)
	if a == nil {
		return ev, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	switch ev.Action {
	case ArticleRead, ArticleReadOriginal, ArticleShare, ArticleFavorite:
	default:
		return ev, fmt.Errorf("%w: action must be read, read_original, share or favorite, got %q", ErrBadArticle, ev.Action)
	}
	if ev.MsgID == "" || len(ev.MsgID) > maxArticleMsgIDLen {
		return ev, fmt.Errorf("%w: a msgid of at most %d bytes is required", ErrBadArticle, maxArticleMsgIDLen)
	}
	if ev.UserSource < 0 || ev.UserSource > maxArticleUserSrc {
		return ev, fmt.Errorf("%w: user_source must be 0..%d, got %d", ErrBadArticle, maxArticleUserSrc, ev.UserSource)
	}
	switch ev.ShareScene {
	case 0:
		if ev.Action == ArticleShare {
			ev.ShareScene = shareSceneDefault
		}
	case ShareSceneFriend, ShareSceneMoments, ShareSceneOther:
		if ev.Action != ArticleShare {
			return ev, fmt.Errorf("%w: share_scene is for shares only", ErrBadArticle)
		}
	default:
		return ev, fmt.Errorf("%w: share_scene must be 1, 2 or 255, got %d", ErrBadArticle, ev.ShareScene)
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if ev.User == "" {
		if len(a.users) == 0 {
			return ev, fmt.Errorf("%w: app %s has no users", ErrUnknownUser, appID)
		}
		ev.User = a.users[0].OpenID
	}
	st := cubeOf(a)
	if ev.Title != "" {
		st.titles[ev.MsgID] = ev.Title
	}
	st.day(now).acts[cubeActKey{msgID: ev.MsgID, hour: now.In(beijing).Hour(), action: ev.Action,
		source: ev.UserSource, scene: ev.ShareScene, user: ev.User}]++
	return ev, nil
}

// title returns the title of msgid: the sent article's, else the latest
// given with an event.
func (st *cubeState) title(msgID string) string {
	if art := st.articles[msgID]; art != nil && art.title != "" {
		return art.title
	}
	return st.titles[msgID]
}

// cubeArticleStats are the reading counters of the article APIs.
type cubeArticleStats struct {
	IntPageReadUser  int `json:"int_page_read_user"`
	IntPageReadCount int `json:"int_page_read_count"`
	OriPageReadUser  int `json:"ori_page_read_user"`
	OriPageReadCount int `json:"ori_page_read_count"`
	ShareUser        int `json:"share_user"`
	ShareCount       int `json:"share_count"`
	AddToFavUser     int `json:"add_to_fav_user"`
	AddToFavCount    int `json:"add_to_fav_count"`
}

// actTotals adds up the article actions of [from, to] that keep accepts.
func (st *cubeState) actTotals(from, to time.Time, keep func(cubeActKey) bool) (cubeArticleStats, bool) {
	users := map[ArticleAction]map[string]bool{}
	counts := map[ArticleAction]int{}
	seen := false
	eachDay(from, to, func(day time.Time) {
		d := st.peek(day)
		if d == nil {
			return
		}
		for k, n := range d.acts {
			if !keep(k) {
				continue
			}
			seen = true
			if users[k.action] == nil {
				users[k.action] = map[string]bool{}
			}
			users[k.action][k.user] = true
			counts[k.action] += n
		}
	})
	return cubeArticleStats{
		IntPageReadUser: len(users[ArticleRead]), IntPageReadCount: counts[ArticleRead],
		OriPageReadUser: len(users[ArticleReadOriginal]), OriPageReadCount: counts[ArticleReadOriginal],
		ShareUser: len(users[ArticleShare]), ShareCount: counts[ArticleShare],
		AddToFavUser: len(users[ArticleFavorite]), AddToFavCount: counts[ArticleFavorite],
	}, seen
}

// articleSummaryMin is the platform's floor for getarticlesummary: an
// article is listed only when int_page_read_user + ori_page_read_user +
// share_user + share_count + add_to_fav_count is at least 3.
const articleSummaryMin = 3

// articleSummary is getarticlesummary: each article read, shared or saved
// that day, when its counters reach articleSummaryMin.
func (st *cubeState) articleSummary(q cubeQuery) any {
	type row struct {
		RefDate string `json:"ref_date"`
		MsgID   string `json:"msgid"`
		Title   string `json:"title"`
		cubeArticleStats
	}
	out := []row{}
	eachDay(q.from, q.to, func(day time.Time) {
		d := st.peek(day)
		if d == nil {
			return
		}
		ids := map[string]bool{}
		for k := range d.acts {
			ids[k.msgID] = true
		}
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			s, _ := st.actTotals(day, day, func(k cubeActKey) bool { return k.msgID == id })
			if s.IntPageReadUser+s.OriPageReadUser+s.ShareUser+s.ShareCount+s.AddToFavCount < articleSummaryMin {
				continue
			}
			out = append(out, row{dateString(day), id, st.title(id), s})
		}
	})
	return out
}

// articleTotalDays is how many days getarticletotal follows an article
// (the day it was sent and six more).
const articleTotalDays = 7

// Read sources (ArticleEvent.UserSource) that getarticletotal breaks
// reading down by.
const (
	readSourceSession = 0 // 会话
	readSourceFriends = 1 // 好友
	readSourceMoments = 2 // 朋友圈 ("feed")
	readSourceHistory = 4 // 历史消息页
)

// articleTotal is getarticletotal: the articles sent that day, each with
// its counters accumulated from that day to each stat_date (up to six days
// later, and no later than yesterday), reads broken down by where readers
// came from and shares to Moments by where the sharer read the article.
func (st *cubeState) articleTotal(q cubeQuery) any {
	type detail struct {
		StatDate   string `json:"stat_date"`
		TargetUser int    `json:"target_user"`
		cubeArticleStats
		IntPageFromSessionReadUser  int `json:"int_page_from_session_read_user"`
		IntPageFromSessionReadCount int `json:"int_page_from_session_read_count"`
		IntPageFromHistMsgReadUser  int `json:"int_page_from_hist_msg_read_user"`
		IntPageFromHistMsgReadCount int `json:"int_page_from_hist_msg_read_count"`
		IntPageFromFeedReadUser     int `json:"int_page_from_feed_read_user"`
		IntPageFromFeedReadCount    int `json:"int_page_from_feed_read_count"`
		IntPageFromFriendsReadUser  int `json:"int_page_from_friends_read_user"`
		IntPageFromFriendsReadCount int `json:"int_page_from_friends_read_count"`
		IntPageFromOtherReadUser    int `json:"int_page_from_other_read_user"`
		IntPageFromOtherReadCount   int `json:"int_page_from_other_read_count"`
		FeedShareFromSessionUser    int `json:"feed_share_from_session_user"`
		FeedShareFromSessionCnt     int `json:"feed_share_from_session_cnt"`
		FeedShareFromFeedUser       int `json:"feed_share_from_feed_user"`
		FeedShareFromFeedCnt        int `json:"feed_share_from_feed_cnt"`
		FeedShareFromOtherUser      int `json:"feed_share_from_other_user"`
		FeedShareFromOtherCnt       int `json:"feed_share_from_other_cnt"`
	}
	type row struct {
		RefDate string   `json:"ref_date"`
		MsgID   string   `json:"msgid"`
		Title   string   `json:"title"`
		Details []detail `json:"details"`
	}
	named := func(src int) bool {
		return src == readSourceSession || src == readSourceFriends || src == readSourceMoments || src == readSourceHistory
	}
	out := []row{}
	eachDay(q.from, q.to, func(day time.Time) {
		var ids []string
		for id, art := range st.articles {
			if cubeDate(art.sentAt).Equal(day) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			art := st.articles[id]
			r := row{RefDate: dateString(day), MsgID: id, Title: st.title(id), Details: []detail{}}
			for i := range articleTotalDays {
				stat := day.AddDate(0, 0, i)
				if !stat.Before(q.today) {
					break
				}
				sum := func(keep func(k cubeActKey) bool) cubeArticleStats {
					s, _ := st.actTotals(day, stat, func(k cubeActKey) bool { return k.msgID == id && keep(k) })
					return s
				}
				from := func(src int) func(cubeActKey) bool {
					return func(k cubeActKey) bool { return k.source == src }
				}
				other := func(k cubeActKey) bool { return !named(k.source) }
				toMoments := func(keep func(cubeActKey) bool) func(cubeActKey) bool {
					return func(k cubeActKey) bool { return k.scene == ShareSceneMoments && keep(k) }
				}
				session, hist, feed, friends, rest := sum(from(readSourceSession)), sum(from(readSourceHistory)),
					sum(from(readSourceMoments)), sum(from(readSourceFriends)), sum(other)
				shSession := sum(toMoments(from(readSourceSession)))
				shFeed := sum(toMoments(from(readSourceMoments)))
				shOther := sum(toMoments(func(k cubeActKey) bool {
					return k.source != readSourceSession && k.source != readSourceMoments
				}))
				r.Details = append(r.Details, detail{
					StatDate: dateString(stat), TargetUser: art.target, cubeArticleStats: sum(func(cubeActKey) bool { return true }),
					IntPageFromSessionReadUser: session.IntPageReadUser, IntPageFromSessionReadCount: session.IntPageReadCount,
					IntPageFromHistMsgReadUser: hist.IntPageReadUser, IntPageFromHistMsgReadCount: hist.IntPageReadCount,
					IntPageFromFeedReadUser: feed.IntPageReadUser, IntPageFromFeedReadCount: feed.IntPageReadCount,
					IntPageFromFriendsReadUser: friends.IntPageReadUser, IntPageFromFriendsReadCount: friends.IntPageReadCount,
					IntPageFromOtherReadUser: rest.IntPageReadUser, IntPageFromOtherReadCount: rest.IntPageReadCount,
					FeedShareFromSessionUser: shSession.ShareUser, FeedShareFromSessionCnt: shSession.ShareCount,
					FeedShareFromFeedUser: shFeed.ShareUser, FeedShareFromFeedCnt: shFeed.ShareCount,
					FeedShareFromOtherUser: shOther.ShareUser, FeedShareFromOtherCnt: shOther.ShareCount,
				})
			}
			out = append(out, r)
		}
	})
	return out
}

// userRead is getuserread (byHour false) and getuserreadhour: for each day
// (hour) with reading, a row for every source (user_source) the readers
// came from and a total row with user_source 99999999.
func (st *cubeState) userRead(q cubeQuery, byHour bool) any {
	type row struct {
		RefDate    string `json:"ref_date"`
		RefHour    *int   `json:"ref_hour,omitempty"`
		UserSource int    `json:"user_source"`
		cubeArticleStats
	}
	out := []row{}
	eachDay(q.from, q.to, func(day time.Time) {
		d := st.peek(day)
		if d == nil {
			return
		}
		hours := []int{-1}
		if byHour {
			set := map[int]bool{}
			for k := range d.acts {
				set[k.hour] = true
			}
			hours = slices.Sorted(maps.Keys(set))
		}
		for _, h := range hours {
			inHour := func(k cubeActKey) bool { return h < 0 || k.hour == h }
			var ref *int
			if h >= 0 {
				ref = new(h * 100)
			}
			total, seen := st.actTotals(day, day, inHour)
			if !seen {
				continue
			}
			out = append(out, row{dateString(day), ref, cubeUserSourceAll, total})
			srcs := map[int]bool{}
			for k := range d.acts {
				if inHour(k) {
					srcs[k.source] = true
				}
			}
			for _, src := range slices.Sorted(maps.Keys(srcs)) {
				s, _ := st.actTotals(day, day, func(k cubeActKey) bool { return inHour(k) && k.source == src })
				out = append(out, row{dateString(day), ref, src, s})
			}
		}
	})
	return out
}

// userShare is getusershare (byHour false) and getusersharehour: the
// shares of each day (hour) by share_scene.
func (st *cubeState) userShare(q cubeQuery, byHour bool) any {
	type row struct {
		RefDate    string `json:"ref_date"`
		RefHour    *int   `json:"ref_hour,omitempty"`
		ShareScene int    `json:"share_scene"`
		ShareCount int    `json:"share_count"`
		ShareUser  int    `json:"share_user"`
	}
	type key struct{ hour, scene int }
	out := []row{}
	eachDay(q.from, q.to, func(day time.Time) {
		d := st.peek(day)
		if d == nil {
			return
		}
		users := map[key]map[string]bool{}
		counts := map[key]int{}
		for k, n := range d.acts {
			if k.action != ArticleShare {
				continue
			}
			kk := key{-1, k.scene}
			if byHour {
				kk.hour = k.hour
			}
			if users[kk] == nil {
				users[kk] = map[string]bool{}
			}
			users[kk][k.user] = true
			counts[kk] += n
		}
		keys := slices.SortedFunc(maps.Keys(counts), func(x, y key) int {
			return cmp.Or(cmp.Compare(x.hour, y.hour), cmp.Compare(x.scene, y.scene))
		})
		for _, k := range keys {
			var ref *int
			if byHour {
				ref = new(k.hour * 100)
			}
			out = append(out, row{dateString(day), ref, k.scene, counts[k], len(users[k])})
		}
	})
	return out
}
