package emulator

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"github.com/wxkit/wxkit"
)

// mpUserState is what the user APIs add to a follower: remark and tags.
type mpUserState struct {
	remark string
	tags   []int
}

// tagState is the per-app state of the user APIs (guarded by app.mu).
type tagState struct {
	users    map[string]*mpUserState
	tags     map[int]string // user-created tags by id
	lastTag  int
	pageSize int // user/get and user/tag/get page size; 10000 when 0
}

func init() {
	handle("/cgi-bin/user/info", (*Emulator).serveUserInfo)
	handle("/cgi-bin/user/info/batchget", (*Emulator).serveUserBatchGet)
	handle("/cgi-bin/user/get", (*Emulator).serveUserList)
	handle("/cgi-bin/user/info/updateremark", (*Emulator).serveUpdateRemark)
	handle("/cgi-bin/tags/create", (*Emulator).serveTagCreate)
	handle("/cgi-bin/tags/get", (*Emulator).serveTagList)
	handle("/cgi-bin/tags/update", (*Emulator).serveTagUpdate)
	handle("/cgi-bin/tags/delete", (*Emulator).serveTagDelete)
	handle("/cgi-bin/tags/members/batchtagging", (*Emulator).serveBatchTagging)
	handle("/cgi-bin/tags/members/batchuntagging", (*Emulator).serveBatchUntagging)
	handle("/cgi-bin/user/tag/get", (*Emulator).serveTagUsers)
	handle("/cgi-bin/tags/getidlist", (*Emulator).serveUserTagIDs)
}

// Limits of the user and tag APIs.
const (
	maxUserPage       = 10000 // OpenIDs per user/get page
	maxBatchGet       = 100   // user_list of user/info/batchget
	maxTagsPerApp     = 100   // tags/create: 45056 beyond
	maxTagsPerUser    = 20    // batchtagging: 45059 beyond
	maxTagNameBytes   = 30    // tags/create, update: 45158 beyond
	maxTagBatch       = 50    // batchtagging: 40032 beyond
	maxRemarkBytes    = 29    // updateremark: "must be less than 30 bytes"
	starTagID         = 2     // 星标组, the system tag that can be put on users
	firstUserTagID    = 100   // the platform numbers user-created tags from about 100
	starTagName       = "星标组"
	defaultSubscribed = 24 * time.Hour // how long before first use a configured follower subscribed
)

// tagsOf returns the tag state of a. a.mu must be held.
func tagsOf(a *app) *tagState {
	st := appExt[tagState](a, "mp_tags")
	if st.users == nil {
		st.users = map[string]*mpUserState{}
		st.tags = map[int]string{}
		st.lastTag = firstUserTagID - 1
	}
	return st
}

// userState returns the remark/tags of openID. a.mu must be held.
func userState(a *app, openID string) *mpUserState {
	st := tagsOf(a)
	u := st.users[openID]
	if u == nil {
		u = &mpUserState{}
		st.users[openID] = u
	}
	return u
}

// SetUserPageSize sets how many OpenIDs user/get and user/tag/get return per
// page for every app (10000, the platform's page size, when n <= 0), so that
// tests can walk several pages with few users.
func (e *Emulator) SetUserPageSize(n int) {
	for _, a := range e.apps {
		a.mu.Lock()
		tagsOf(a).pageSize = n
		a.mu.Unlock()
	}
}

func (st *tagState) page() int {
	if st.pageSize <= 0 {
		return maxUserPage
	}
	return st.pageSize
}

// userInfo is the answer of user/info, as the platform gives it since
// 2021-12-27 (no nickname, sex, place or head image).
type userInfo struct {
	Subscribe      int    `json:"subscribe"`
	OpenID         string `json:"openid"`
	Language       string `json:"language,omitempty"`
	SubscribeTime  int64  `json:"subscribe_time,omitempty"`
	UnionID        string `json:"unionid,omitempty"`
	Remark         string `json:"remark"`
	GroupID        int    `json:"groupid"`
	TagIDs         []int  `json:"tagid_list"`
	SubscribeScene string `json:"subscribe_scene,omitempty"`
	QRScene        int    `json:"qr_scene"`
	QRSceneStr     string `json:"qr_scene_str"`
}

// info renders u. a.mu must be held.
func (e *Emulator) info(a *app, u *user, now time.Time) any {
	if !u.subscribed {
		return struct {
			Subscribe int    `json:"subscribe"`
			OpenID    string `json:"openid"`
			UnionID   string `json:"unionid,omitempty"`
		}{0, u.OpenID, u.UnionID}
	}
	if u.subscribeTime.IsZero() {
		// A configured follower: give a stable subscribe time on first use.
		u.subscribeTime = now.Add(-defaultSubscribed).Truncate(time.Second)
	}
	us := userState(a, u.OpenID)
	lang := u.Language
	if lang == "" {
		lang = "zh_CN"
	}
	return userInfo{
		Subscribe: 1, OpenID: u.OpenID, Language: lang, SubscribeTime: u.subscribeTime.Unix(),
		UnionID: u.UnionID, Remark: us.remark, TagIDs: append([]int{}, us.tags...),
		SubscribeScene: "ADD_SCENE_OTHERS",
	}
}

// validLang reports whether lang is accepted by the user APIs.
func validLang(lang string) bool {
	return lang == "" || lang == "zh_CN" || lang == "zh_TW" || lang == "en"
}

// serveUserInfo serves GET /cgi-bin/user/info?openid&lang. An OpenID that
// is not a user of the app gives 40003; a bad lang 40097.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
func (e *Emulator) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	q := r.URL.Query()
	if !validLang(q.Get("lang")) {
		e.writeAPIError(w, apiErr(40097))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(q.Get("openid"))
	if u == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	writeJSON(w, e.info(a, u, e.Now()))
}

// serveUserBatchGet serves POST /cgi-bin/user/info/batchget: 1 to 100
// users (else 40032), all of the app (else 40003).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
func (e *Emulator) serveUserBatchGet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserList []struct {
			OpenID string `json:"openid"`
			Lang   string `json:"lang"`
		} `json:"user_list"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if len(req.UserList) == 0 || len(req.UserList) > maxBatchGet {
		e.writeAPIError(w, mpErr(40032))
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]any, 0, len(req.UserList))
	for _, it := range req.UserList {
		if !validLang(it.Lang) {
			e.writeAPIError(w, apiErr(40097))
			return
		}
		u := a.user(it.OpenID)
		if u == nil {
			e.writeAPIError(w, apiErr(40003))
			return
		}
		out = append(out, e.info(a, u, now))
	}
	writeJSON(w, map[string]any{"user_info_list": out})
}

// openIDPage is a page of OpenIDs (user/get, user/tag/get).
type openIDPage struct {
	Total *int `json:"total,omitempty"`
	Count int  `json:"count"`
	Data  *struct {
		OpenID []string `json:"openid"`
	} `json:"data,omitempty"`
	NextOpenID string `json:"next_openid"`
}

// pageAfter returns the page of ids after next ("" = from the start) of at
// most size entries, and false when next is not in ids. The platform's
// next_openid is the last OpenID of the page, and "" once a page is empty.
func pageAfter(ids []string, next string, size int) (openIDPage, bool) {
	start := 0
	if next != "" {
		i := slices.Index(ids, next)
		if i < 0 {
			return openIDPage{}, false
		}
		start = i + 1
	}
	end := min(start+size, len(ids))
	p := openIDPage{Count: end - start}
	if p.Count > 0 {
		p.Data = &struct {
			OpenID []string `json:"openid"`
		}{ids[start:end]}
		p.NextOpenID = ids[end-1]
	}
	return p, true
}

// followers returns the OpenIDs of the app's followers in order. a.mu must
// be held.
func followers(a *app) []string {
	var ids []string
	for _, u := range a.users {
		if u.subscribed {
			ids = append(ids, u.OpenID)
		}
	}
	return ids
}

// serveUserList serves GET /cgi-bin/user/get?next_openid: the followers
// after next_openid, 10000 a page (see SetUserPageSize). An unknown
// next_openid gives 40003.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Getting_a_User_List.html
func (e *Emulator) serveUserList(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := followers(a)
	p, ok := pageAfter(ids, r.URL.Query().Get("next_openid"), tagsOf(a).page())
	if !ok {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	total := len(ids)
	p.Total = &total
	writeJSON(w, p)
}

// serveUpdateRemark serves POST /cgi-bin/user/info/updateremark. The
// remark must be shorter than 30 bytes; the platform's errcode for a longer
// one is undocumented, the emulator answers 40035.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Configuring_user_notes.html
func (e *Emulator) serveUpdateRemark(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID string `json:"openid"`
		Remark string `json:"remark"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.user(req.OpenID) == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	if len(req.Remark) > maxRemarkBytes {
		e.writeAPIError(w, mpErr(40035))
		return
	}
	userState(a, req.OpenID).remark = req.Remark
	writeJSON(w, okBody)
}

// tagRequest is the {"tag":{...}} body of the tag APIs.
type tagRequest struct {
	Tag struct {
		ID   *int   `json:"id"`
		Name string `json:"name"`
	} `json:"tag"`
}

// checkTagName validates a new name for tag id (0 for a new tag): empty or
// taken gives 45157, longer than 30 bytes 45158. a.mu must be held.
func checkTagName(st *tagState, id int, name string) error {
	if name == "" {
		return mpErr(45157)
	}
	if len(name) > maxTagNameBytes {
		return mpErr(45158)
	}
	if name == starTagName {
		return mpErr(45157)
	}
	for tid, n := range st.tags {
		if n == name && tid != id {
			return mpErr(45157)
		}
	}
	return nil
}

// serveTagCreate serves POST /cgi-bin/tags/create {"tag":{"name":...}}.
// Errors: 45157 (empty or duplicate name), 45158 (over 30 bytes), 45056
// (100 tags already).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveTagCreate(w http.ResponseWriter, r *http.Request) {
	var req tagRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := tagsOf(a)
	if err := checkTagName(st, 0, req.Tag.Name); err != nil {
		e.writeAPIError(w, err)
		return
	}
	if len(st.tags) >= maxTagsPerApp {
		e.writeAPIError(w, mpErr(45056))
		return
	}
	st.lastTag++
	st.tags[st.lastTag] = req.Tag.Name
	writeJSON(w, map[string]any{"tag": map[string]any{"id": st.lastTag, "name": req.Tag.Name}})
}

// tagCount is how many users of a carry tag id. a.mu must be held.
func tagCount(a *app, id int) int {
	n := 0
	for _, us := range tagsOf(a).users {
		if slices.Contains(us.tags, id) {
			n++
		}
	}
	return n
}

// serveTagList serves GET /cgi-bin/tags/get: the system tag 星标组 (id 2)
// and the app's tags by id, with their user counts.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveTagList(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := tagsOf(a)
	type tag struct {
		ID    int    `json:"id"`
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tags := []tag{{starTagID, starTagName, tagCount(a, starTagID)}}
	for id, name := range st.tags {
		tags = append(tags, tag{id, name, tagCount(a, id)})
	}
	slices.SortFunc(tags, func(x, y tag) int { return cmp.Compare(x.ID, y.ID) })
	writeJSON(w, map[string]any{"tags": tags})
}

// isSystemTag reports whether id is one of the reserved tags 0, 1, 2.
func isSystemTag(id int) bool { return id >= 0 && id <= 2 }

// customTag returns the id of an existing tag that the account may change:
// 45159 when id is missing or unknown, 45058 for the system tags 0, 1, 2.
func (st *tagState) customTag(id *int) (int, *wxkit.APIError) {
	switch {
	case id == nil:
		return 0, mpErr(45159)
	case isSystemTag(*id):
		return 0, mpErr(45058)
	}
	if _, ok := st.tags[*id]; !ok {
		return 0, mpErr(45159)
	}
	return *id, nil
}

// serveTagUpdate serves POST /cgi-bin/tags/update {"tag":{"id","name"}}.
// Errors: 45058 (system tags 0, 1, 2), 45159 (unknown id), 45157, 45158.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveTagUpdate(w http.ResponseWriter, r *http.Request) {
	var req tagRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := tagsOf(a)
	id, err := st.customTag(req.Tag.ID)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	if err := checkTagName(st, id, req.Tag.Name); err != nil {
		e.writeAPIError(w, err)
		return
	}
	st.tags[id] = req.Tag.Name
	writeJSON(w, okBody)
}

// serveTagDelete serves POST /cgi-bin/tags/delete {"tag":{"id"}} and takes
// the tag off its users. Errors: 45058 (system tags), 45159 (unknown id).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveTagDelete(w http.ResponseWriter, r *http.Request) {
	var req tagRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := tagsOf(a)
	id, err := st.customTag(req.Tag.ID)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	delete(st.tags, id)
	for _, us := range st.users {
		us.tags = slices.DeleteFunc(us.tags, func(t int) bool { return t == id })
	}
	writeJSON(w, okBody)
}

// tagExists reports whether users can carry tag id. a.mu must be held.
func tagExists(st *tagState, id int) bool {
	_, ok := st.tags[id]
	return ok || id == starTagID
}

type batchTagRequest struct {
	OpenIDs []string `json:"openid_list"`
	TagID   int      `json:"tagid"`
}

// serveBatchTagging serves POST /cgi-bin/tags/members/batchtagging. All or
// nothing: 40032 (0 or more than 50 OpenIDs), 45159 (unknown tag), 40003
// (OpenID not of this app), 45059 (a user would carry more than 20 tags).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveBatchTagging(w http.ResponseWriter, r *http.Request) {
	e.serveBatchTag(w, r, true)
}

// serveBatchUntagging serves POST /cgi-bin/tags/members/batchuntagging,
// with the checks of batchtagging (but not the 20-tag limit).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveBatchUntagging(w http.ResponseWriter, r *http.Request) {
	e.serveBatchTag(w, r, false)
}

func (e *Emulator) serveBatchTag(w http.ResponseWriter, r *http.Request, add bool) {
	var req batchTagRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if len(req.OpenIDs) == 0 || len(req.OpenIDs) > maxTagBatch {
		e.writeAPIError(w, mpErr(40032))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := tagsOf(a)
	if !tagExists(st, req.TagID) {
		e.writeAPIError(w, mpErr(45159))
		return
	}
	for _, id := range req.OpenIDs {
		if a.user(id) == nil {
			e.writeAPIError(w, apiErr(40003))
			return
		}
		us := userState(a, id)
		if add && !slices.Contains(us.tags, req.TagID) && len(us.tags) >= maxTagsPerUser {
			e.writeAPIError(w, mpErr(45059))
			return
		}
	}
	for _, id := range req.OpenIDs {
		us := userState(a, id)
		has := slices.Contains(us.tags, req.TagID)
		switch {
		case add && !has:
			us.tags = append(us.tags, req.TagID)
		case !add && has:
			us.tags = slices.DeleteFunc(us.tags, func(t int) bool { return t == req.TagID })
		}
	}
	writeJSON(w, okBody)
}

// serveTagUsers serves POST /cgi-bin/user/tag/get {"tagid","next_openid"}:
// the users carrying the tag, a page at a time. Errors: 45159 (unknown
// tag), 40003 (next_openid not in the list).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveTagUsers(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TagID      int    `json:"tagid"`
		NextOpenID string `json:"next_openid"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := tagsOf(a)
	if !tagExists(st, req.TagID) {
		e.writeAPIError(w, mpErr(45159))
		return
	}
	var ids []string
	for _, u := range a.users {
		if slices.Contains(userState(a, u.OpenID).tags, req.TagID) {
			ids = append(ids, u.OpenID)
		}
	}
	p, ok := pageAfter(ids, req.NextOpenID, st.page())
	if !ok {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	writeJSON(w, p)
}

// serveUserTagIDs serves POST /cgi-bin/tags/getidlist {"openid"}: the tags
// of a user; 40003 for an OpenID not of this app.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
func (e *Emulator) serveUserTagIDs(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OpenID string `json:"openid"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.user(req.OpenID) == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	writeJSON(w, map[string]any{"tagid_list": append([]int{}, userState(a, req.OpenID).tags...)})
}

// UserTags returns the remark and tag ids of user openID of appID, as the
// user and tag APIs left them (for UIs and tests).
func (e *Emulator) UserTags(appID, openID string) (remark string, tagIDs []int, err error) {
	a := e.app(appID)
	if a == nil {
		return "", nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.user(openID) == nil {
		return "", nil, ErrUnknownUser
	}
	us := userState(a, openID)
	return us.remark, slices.Clone(us.tags), nil
}
