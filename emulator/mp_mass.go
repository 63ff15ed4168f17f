package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Limits of mass messages (群发).
const (
	// massJobDelay is how long (emulator time) a mass job runs before its
	// messages are delivered and MASSSENDJOBFINISH is pushed.
	massJobDelay = 10 * time.Second
	// massSubscriptionDaily is the mass sends a subscription account may
	// make a day, massServiceMonthly those of a service account a month
	// (45028 beyond).
	massSubscriptionDaily = 1
	massServiceMonthly    = 4
	// massClientMsgIDWindow is how long a clientmsgid is remembered (45065).
	massClientMsgIDWindow = 24 * time.Hour
	// massClientMsgIDRetry is how long a repeat of a clientmsgid waits
	// after the previous attempt ("请间隔1分钟重试"; 45066 sooner).
	massClientMsgIDRetry = time.Minute
	// massMaxClientMsgID is the longest clientmsgid, in bytes (45067).
	massMaxClientMsgID = 64
	// massMinOpenIDs and massMaxOpenIDs bound the touser list of mass/send.
	massMinOpenIDs = 2
	massMaxOpenIDs = 10000
	// massMaxText is the largest text mass message, in bytes (45002).
	massMaxText = 2048
)

// massRealSpeeds are the real speeds (10k messages a minute) of the speed
// levels 0..4 of mass/speed.
var massRealSpeeds = []int{80, 60, 45, 30, 10}

// Statuses of a mass job (mass/get).
const (
	massSending  = "SENDING"
	massSuccess  = "SEND_SUCCESS"
	massFail     = "SEND_FAIL"
	massDeleted  = "DELETE"
	eventMassJob = EventType("MASSSENDJOBFINISH")
)

// MassJob is one mass send of an app, as the emulator ran it.
type MassJob struct {
	MsgID     int64  `json:"msg_id"`
	MsgDataID int64  `json:"msg_data_id,omitempty"`
	MsgType   string `json:"msgtype"`
	// Text is what each user sees in the chat.
	Text        string    `json:"text"`
	Status      string    `json:"status"`
	ClientMsgID string    `json:"clientmsgid,omitempty"`
	Created     time.Time `json:"created"`
	// TotalCount is the users aimed at; FilterCount those left after
	// leaving out the users who do not follow or are blacklisted;
	// SentCount those the message reached; ErrorCount those it did not.
	TotalCount  int `json:"total_count"`
	FilterCount int `json:"filter_count"`
	SentCount   int `json:"sent_count"`
	ErrorCount  int `json:"error_count"`
	// Recipients are the OpenIDs the message is delivered to.
	Recipients []string `json:"recipients"`
	// Articles are the articles of an mpnews job (the draft it sent).
	Articles []MassArticle `json:"articles,omitempty"`

	// lastTry is the latest send with the job's clientmsgid that was
	// answered with the job: the one that started it, or a repeat that
	// got 45065.
	lastTry time.Time
}

// MassArticle is an article of an mpnews mass send: its title, its
// address (ArticleUrlResult of MASSSENDJOBFINISH) and whether mass/delete
// withdrew it.
type MassArticle struct {
	Title   string `json:"title"`
	URL     string `json:"url"`
	Deleted bool   `json:"deleted,omitempty"`
}

// massState is the per-app state of the mass APIs (guarded by app.mu).
type massState struct {
	jobs      map[int64]*MassJob
	order     []int64
	lastID    int64
	speed     int
	quotaKey  string // the day or month of sends
	quotaUsed int
}

func init() {
	handle("/cgi-bin/message/mass/sendall", (*Emulator).serveMassSendAll)
	handle("/cgi-bin/message/mass/send", (*Emulator).serveMassSend)
	handle("/cgi-bin/message/mass/preview", (*Emulator).serveMassPreview)
	handle("/cgi-bin/message/mass/delete", (*Emulator).serveMassDelete)
	handle("/cgi-bin/message/mass/get", (*Emulator).serveMassGet)
	handle("/cgi-bin/message/mass/speed/get", (*Emulator).serveMassSpeedGet)
	handle("/cgi-bin/message/mass/speed/set", (*Emulator).serveMassSpeedSet)
}

// massOf returns the mass state of a. a.mu must be held.
func massOf(a *app) *massState {
	st := appExt[massState](a, "mp_mass")
	if st.jobs == nil {
		st.jobs = map[int64]*MassJob{}
		st.lastID = int64(randomInt(1000000000, 1999999999))
	}
	return st
}

// massContent is the message part of a mass request.
type massContent struct {
	MsgType string `json:"msgtype"`
	MPNews  *struct {
		MediaID string `json:"media_id"`
	} `json:"mpnews"`
	Text *struct {
		Content string `json:"content"`
	} `json:"text"`
	Voice *struct {
		MediaID string `json:"media_id"`
	} `json:"voice"`
	Image *struct {
		MediaID string `json:"media_id"`
	} `json:"image"`
	Images *struct {
		MediaIDs []string `json:"media_ids"`
	} `json:"images"`
	MPVideo *struct {
		MediaID string `json:"media_id"`
	} `json:"mpvideo"`
	WXCard *struct {
		CardID string `json:"card_id"`
	} `json:"wxcard"`
	ClientMsgID string `json:"clientmsgid"`
}

// massText validates the message and returns its type in the
// conversation log and what the user sees: 40008 (msgtype), 44004/45002
// (text empty / too long), 40007 (a media_id the app does not have),
// 40073 (wxcard without card_id). a.mu must be held.
func (e *Emulator) massText(a *app, c *massContent, now time.Time) (MsgType, string, error) {
	media := func(id string) error {
		if id == "" || e.lookupMedia(a, id, now) == nil {
			return apiErr(40007)
		}
		return nil
	}
	switch c.MsgType {
	case "mpnews":
		// A draft of the drafts box (draft/add); the user sees the card
		// of its first article.
		if c.MPNews == nil || c.MPNews.MediaID == "" {
			return "", "", apiErr(40007)
		}
		d := draftsOf(a).drafts[c.MPNews.MediaID]
		if d == nil || len(d.articles) == 0 {
			return "", "", apiErr(40007)
		}
		return MsgTypeNews, d.articles[0].Title, nil
	case "text":
		switch {
		case c.Text == nil || c.Text.Content == "":
			return "", "", mpErr(44004)
		case len(c.Text.Content) > massMaxText:
			return "", "", mpErr(45002)
		}
		return MsgTypeText, c.Text.Content, nil
	case "voice":
		if c.Voice == nil {
			return "", "", apiErr(40007)
		}
		return MsgTypeVoice, "[语音]", media(c.Voice.MediaID)
	case "image":
		ids := []string{}
		if c.Image != nil {
			ids = append(ids, c.Image.MediaID)
		}
		if c.Images != nil {
			ids = append(ids, c.Images.MediaIDs...)
		}
		if len(ids) == 0 {
			return "", "", apiErr(40007)
		}
		for _, id := range ids {
			if err := media(id); err != nil {
				return "", "", err
			}
		}
		return MsgTypeImage, "[图片]", nil
	case "mpvideo":
		if c.MPVideo == nil {
			return "", "", apiErr(40007)
		}
		return MsgTypeVideo, "[视频]", media(c.MPVideo.MediaID)
	case "wxcard":
		if c.WXCard == nil || c.WXCard.CardID == "" {
			return "", "", mpErr(40073)
		}
		return MsgTypeText, "[卡券]", nil
	}
	return "", "", mpErr(40008)
}

// massAllowed answers 48001 for accounts that may not mass send:
// Mini Programs, unverified accounts and, for mass/send, subscription
// accounts.
func massAllowed(a *app, byOpenID bool) error {
	if a.cfg.Type == AppTypeMiniProgram || a.cfg.Unverified || (byOpenID && a.cfg.Subscription) {
		return apiErr(48001)
	}
	return nil
}

// takeMassQuota counts one mass send: a subscription account has one a
// day, a service account four a month (45028 beyond). a.mu must be held.
func takeMassQuota(a *app, st *massState, now time.Time) error {
	key, limit := now.In(beijing).Format("2006-01"), massServiceMonthly
	if a.cfg.Subscription {
		key, limit = quotaDay(now), massSubscriptionDaily
	}
	if st.quotaKey != key {
		st.quotaKey, st.quotaUsed = key, 0
	}
	if st.quotaUsed >= limit {
		return mpErr(45028)
	}
	st.quotaUsed++
	return nil
}

// writeMassDuplicate answers a repeat of the clientmsgid of job at now: 45066
// within a minute of the previous attempt (which leaves the clock as it
// was), else 45065 with the msg_id of job, as the platform does.
func (e *Emulator) writeMassDuplicate(w http.ResponseWriter, job *MassJob, now time.Time) {
	if now.Sub(job.lastTry) < massClientMsgIDRetry {
		e.writeAPIError(w, mpErr(45066))
		return
	}
	job.lastTry = now
	if rec, ok := w.(*callRecorder); ok {
		rec.errCode = 45065
	}
	writeJSON(w, map[string]any{"errcode": 45065, "errmsg": withRID(mpErrMsgs[45065], now), "msg_id": job.MsgID})
}

// startMass validates c and the recipients (already chosen as candidates)
// and starts a job. It writes the answer. a.mu must be held.
func (e *Emulator) startMass(w http.ResponseWriter, a *app, c *massContent, candidates []string, now time.Time) {
	st := massOf(a)
	if len(c.ClientMsgID) > massMaxClientMsgID {
		e.writeAPIError(w, mpErr(45067))
		return
	}
	if c.ClientMsgID != "" {
		for _, id := range slices.Backward(st.order) {
			if j := st.jobs[id]; j.ClientMsgID == c.ClientMsgID && now.Sub(j.Created) < massClientMsgIDWindow {
				e.writeMassDuplicate(w, j, now)
				return
			}
		}
	}
	typ, text, err := e.massText(a, c, now)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	if err := takeMassQuota(a, st, now); err != nil {
		e.writeAPIError(w, err)
		return
	}
	st.lastID++
	job := &MassJob{
		MsgID: st.lastID, MsgType: c.MsgType, Text: text, Status: massSending, ClientMsgID: c.ClientMsgID,
		Created: now, TotalCount: len(candidates), lastTry: now,
	}
	for _, id := range candidates {
		if u := a.user(id); u != nil && u.subscribed && !a.blacklisted(id) {
			job.Recipients = append(job.Recipients, id)
		}
	}
	job.FilterCount = len(job.Recipients)
	if c.MsgType == "mpnews" {
		// The draft leaves the box; its articles get a msg_data_id from
		// the same sequence as published ones, and their addresses.
		d, err := takeDraft(a, c.MPNews.MediaID)
		if err != nil {
			e.writeAPIError(w, err)
			return
		}
		ps := publishOf(a)
		ps.nextID++
		job.MsgDataID = ps.nextID
		biz, sn := bizOf(a), randomString(32, "0123456789abcdef")
		for i, art := range d.articles {
			job.Articles = append(job.Articles, MassArticle{Title: art.Title,
				URL: fmt.Sprintf("https://mp.weixin.qq.com/s?__biz=%s&mid=%d&idx=%d&sn=%s", biz, job.MsgDataID, i+1, sn)})
		}
	}
	st.jobs[job.MsgID] = job
	st.order = append(st.order, job.MsgID)
	appID := a.cfg.AppID
	msgID := job.MsgID
	e.pay.sched.at(now.Add(massJobDelay), func(due time.Time) { e.finishMass(appID, msgID, typ, due) })
	out := map[string]any{"errcode": 0, "errmsg": "send job submission success", "msg_id": job.MsgID}
	if job.MsgDataID != 0 {
		out["msg_data_id"] = job.MsgDataID
	}
	writeJSON(w, out)
}

// finishMass delivers the messages of a job to its recipients' chats and
// pushes MASSSENDJOBFINISH with the job's counts to the account.
func (e *Emulator) finishMass(appID string, msgID int64, typ MsgType, due time.Time) {
	a := e.app(appID)
	a.mu.Lock()
	job := massOf(a).jobs[msgID]
	if job == nil || job.Status != massSending {
		a.mu.Unlock()
		return
	}
	for _, id := range job.Recipients {
		a.appendConversation(id, ConversationEntry{
			Time: due, Direction: DirectionOut, Via: "mass", Type: typ, MsgID: job.MsgID, Text: job.Text,
		})
	}
	job.SentCount = len(job.Recipients)
	job.ErrorCount = job.FilterCount - job.SentCount
	job.Status = massSuccess
	// The event is about the account's own call; the emulator sends it
	// as from the account's first user and logs it in that user's chat.
	from := ""
	if len(a.users) > 0 {
		from = a.users[0].OpenID
	}
	var x xmlBuilder
	x.cdata("MsgType", string(MsgTypeEvent))
	x.cdata("Event", string(eventMassJob))
	x.num("MsgID", strconv.FormatInt(job.MsgID, 10))
	x.cdata("Status", "send success")
	x.num("TotalCount", strconv.Itoa(job.TotalCount))
	x.num("FilterCount", strconv.Itoa(job.FilterCount))
	x.num("SentCount", strconv.Itoa(job.SentCount))
	x.num("ErrorCount", strconv.Itoa(job.ErrorCount))
	if job.MsgType == "mpnews" {
		// Original content: nothing judged a reprint (CheckState 1); one
		// article, with the address of its page.
		x.b.WriteString("<CopyrightCheckResult>")
		x.num("Count", "0")
		x.b.WriteString("<ResultList></ResultList>")
		x.num("CheckState", "1")
		x.b.WriteString("</CopyrightCheckResult>")
		x.b.WriteString("<ArticleUrlResult>")
		x.num("Count", strconv.Itoa(len(job.Articles)))
		x.b.WriteString("<ResultList>")
		for i, art := range job.Articles {
			x.b.WriteString("<item>")
			x.num("ArticleIdx", strconv.Itoa(i+1))
			x.cdata("ArticleUrl", art.URL)
			x.b.WriteString("</item>")
		}
		x.b.WriteString("</ResultList></ArticleUrlResult>")
	}
	var sent []SentArticle
	for i, art := range job.Articles {
		sent = append(sent, SentArticle{MsgID: fmt.Sprintf("%d_%d", job.MsgDataID, i+1), Title: art.Title,
			TargetUser: job.SentCount, SentAt: due})
	}
	a.mu.Unlock()
	// The articles count in the data APIs (getarticlesummary, ...).
	for _, s := range sent {
		_ = e.RecordArticleSent(appID, s)
	}
	if from == "" {
		return
	}
	if _, err := e.pushPlatformEvent(context.Background(), appID, from, x.b.String()); err != nil {
		e.logger.Debug("emulator: MASSSENDJOBFINISH not pushed", "appid", appID, "err", err)
	}
}

// MassJobs returns the mass sends of appID, oldest first.
func (e *Emulator) MassJobs(appID string) ([]MassJob, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := massOf(a)
	out := make([]MassJob, 0, len(st.order))
	for _, id := range st.order {
		j := *st.jobs[id]
		j.Recipients = slices.Clone(j.Recipients)
		j.Articles = slices.Clone(j.Articles)
		out = append(out, j)
	}
	return out, nil
}

// WaitMassJobs blocks until the mass jobs (and other timed platform work)
// that are due have finished, their MASSSENDJOBFINISH pushed; jobs not yet
// due (see Advance) do not count. It returns ctx's error if ctx ends first.
func (e *Emulator) WaitMassJobs(ctx context.Context) error { return e.pay.sched.wait(ctx) }

// serveMassSendAll serves POST /cgi-bin/message/mass/sendall: a message to
// every user (filter.is_to_all) or to the users with filter.tag_id.
// Errors: 48001 (a Mini Program or unverified account), 40050 (no such
// tag), 45067 (clientmsgid too long), 45066 (the clientmsgid repeated
// within a minute of the previous attempt), 45065 (clientmsgid already
// used within 24 hours, with the existing msg_id), 40008, 44004, 45002,
// 40007, 40073 (the message), 45028 (a subscription account's 1 a day, a
// service account's 4 a month). It answers {"msg_id"[, "msg_data_id" for mpnews]}; after
// 10 s of emulator time the users who follow and are not blacklisted get
// the message in their chat (via "mass") and MASSSENDJOBFINISH is pushed.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassSendAll(w http.ResponseWriter, r *http.Request) {
	var req struct {
		massContent
		Filter *struct {
			IsToAll bool `json:"is_to_all"`
			TagID   int  `json:"tag_id"`
		} `json:"filter"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if err := massAllowed(a, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	var candidates []string
	switch {
	case req.Filter != nil && req.Filter.IsToAll:
		for _, u := range a.users {
			candidates = append(candidates, u.OpenID)
		}
	case req.Filter != nil && req.Filter.TagID > 0:
		tags := tagsOf(a)
		if _, ok := tags.tags[req.Filter.TagID]; !ok && req.Filter.TagID != starTagID {
			e.writeAPIError(w, mpErr(40050))
			return
		}
		for _, u := range a.users {
			if us := tags.users[u.OpenID]; us != nil && slices.Contains(us.tags, req.Filter.TagID) {
				candidates = append(candidates, u.OpenID)
			}
		}
	default:
		e.writeAPIError(w, mpErr(40050))
		return
	}
	e.startMass(w, a, &req.massContent, candidates, now)
}

// serveMassSend serves POST /cgi-bin/message/mass/send: a message to a
// list of 2 to 10000 OpenIDs (touser). Errors: 48001 (also for a
// subscription account), 40130 (fewer than 2), 40032 (more than 10000),
// 40003 (an OpenID not of the account), then as mass/sendall.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		massContent
		ToUser []string `json:"touser"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if err := massAllowed(a, true); err != nil {
		e.writeAPIError(w, err)
		return
	}
	users := slices.Compact(slices.Sorted(slices.Values(req.ToUser)))
	switch {
	case len(users) < massMinOpenIDs:
		e.writeAPIError(w, mpErr(40130))
		return
	case len(users) > massMaxOpenIDs:
		e.writeAPIError(w, mpErr(40032))
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range users {
		if a.user(id) == nil {
			e.writeAPIError(w, apiErr(40003))
			return
		}
	}
	e.startMass(w, a, &req.massContent, users, now)
}

// serveMassPreview serves POST /cgi-bin/message/mass/preview: the message
// goes at once to one follower (touser, an OpenID; towxname is matched
// against the users' nicknames, the emulator's stand-in for WeChat IDs)
// and does not use the mass quota. Errors: 48001, 40003 (no such user),
// 43004 (the user does not follow), then the message's errors.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassPreview(w http.ResponseWriter, r *http.Request) {
	var req struct {
		massContent
		ToUser   string `json:"touser"`
		ToWXName string `json:"towxname"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if err := massAllowed(a, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(req.ToUser)
	if u == nil && req.ToWXName != "" {
		for _, c := range a.users {
			if c.Nickname == req.ToWXName {
				u = c
				break
			}
		}
	}
	if u == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	if !u.subscribed {
		e.writeAPIError(w, apiErr(43004))
		return
	}
	typ, text, err := e.massText(a, &req.massContent, now)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	st := massOf(a)
	st.lastID++
	a.appendConversation(u.OpenID, ConversationEntry{
		Time: now, Direction: DirectionOut, Via: "mass_preview", Type: typ, MsgID: st.lastID, Text: text,
	})
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "preview success", "msg_id": st.lastID})
}

// massMsgID reads msg_id, sent as a number or a string.
type massMsgID int64

func (m *massMsgID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n = json.Number(s)
	}
	v, err := n.Int64()
	if err != nil {
		return err
	}
	*m = massMsgID(v)
	return nil
}

// massJobOf returns the job of msgID or answers 40035 (missing or unknown
// msg_id) when there is none. a.mu must be held.
func (e *Emulator) massJobOf(w http.ResponseWriter, a *app, msgID massMsgID) *MassJob {
	job := massOf(a).jobs[int64(msgID)]
	if job == nil {
		e.writeAPIError(w, mpErr(40035))
	}
	return job
}

// serveMassDelete serves POST /cgi-bin/message/mass/delete {"msg_id",
// "article_idx"}: article_idx (from 1) of a sent mpnews job is withdrawn,
// or with 0 (or none) every article, or the whole mpvideo job; users keep
// the card in their chat. Once every article is withdrawn the job's
// status is DELETE. Errors: 40035 (unknown msg_id, a job of another type,
// or article_idx out of range).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassDelete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MsgID      massMsgID `json:"msg_id"`
		ArticleIdx int       `json:"article_idx"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if err := massAllowed(a, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	job := e.massJobOf(w, a, req.MsgID)
	if job == nil {
		return
	}
	if (job.MsgType != "mpnews" && job.MsgType != "mpvideo") || req.ArticleIdx < 0 ||
		(job.MsgType == "mpnews" && req.ArticleIdx > len(job.Articles)) {
		e.writeAPIError(w, mpErr(40035))
		return
	}
	for i := range job.Articles {
		if req.ArticleIdx == 0 || req.ArticleIdx == i+1 {
			job.Articles[i].Deleted = true
		}
	}
	if !slices.ContainsFunc(job.Articles, func(art MassArticle) bool { return !art.Deleted }) {
		job.Status = massDeleted
	}
	writeJSON(w, okBody)
}

// serveMassGet serves POST /cgi-bin/message/mass/get {"msg_id"}:
// {"msg_id","msg_status"} with SENDING, SEND_SUCCESS, SEND_FAIL or
// DELETE. Errors: 40035 (unknown msg_id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassGet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MsgID massMsgID `json:"msg_id"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if err := massAllowed(a, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	job := e.massJobOf(w, a, req.MsgID)
	if job == nil {
		return
	}
	writeJSON(w, map[string]any{"msg_id": job.MsgID, "msg_status": job.Status})
}

// serveMassSpeedGet serves POST /cgi-bin/message/mass/speed/get:
// {"speed":0..4,"realspeed":10k messages a minute}.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassSpeedGet(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodPost, nil)
	if a == nil {
		return
	}
	if err := massAllowed(a, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	a.mu.Lock()
	speed := massOf(a).speed
	a.mu.Unlock()
	writeJSON(w, map[string]any{"speed": speed, "realspeed": massRealSpeeds[speed]})
}

// serveMassSpeedSet serves POST /cgi-bin/message/mass/speed/set
// {"speed":0..4}. Errors: 45084 (no speed), 45083 (out of 0..4).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
func (e *Emulator) serveMassSpeedSet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Speed *int `json:"speed"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if err := massAllowed(a, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	switch {
	case req.Speed == nil:
		e.writeAPIError(w, mpErr(45084))
		return
	case *req.Speed < 0 || *req.Speed >= len(massRealSpeeds):
		e.writeAPIError(w, mpErr(45083))
		return
	}
	a.mu.Lock()
	massOf(a).speed = *req.Speed
	a.mu.Unlock()
	writeJSON(w, okBody)
}
