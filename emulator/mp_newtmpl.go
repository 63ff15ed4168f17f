package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

func init() {
	handle("/wxaapi/newtmpl/getcategory", (*Emulator).serveNewTmplCategory)
	handle("/wxaapi/newtmpl/getpubtemplatetitles", (*Emulator).serveNewTmplTitles)
	handle("/wxaapi/newtmpl/getpubtemplatekeywords", (*Emulator).serveNewTmplKeywords)
	handle("/wxaapi/newtmpl/addtemplate", (*Emulator).serveNewTmplAdd)
	handle("/wxaapi/newtmpl/deltemplate", (*Emulator).serveNewTmplDelete)
	handle("/wxaapi/newtmpl/gettemplate", (*Emulator).serveNewTmplList)
}

// Limits of the subscription-template APIs.
const (
	// maxSubscribeTemplates is how many subscription templates an account
	// may hold (200012 beyond).
	maxSubscribeTemplates = 25
	// maxTitlesLimit is the largest limit of getpubtemplatetitles.
	maxTitlesLimit = 30
	// maxSceneDesc is the longest sceneDesc of addtemplate, in characters.
	maxSceneDesc = 15
)

// newTmplCategory is a service category (类目) of the account.
type newTmplCategory struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// newTmplCategories are the categories every account is given.
var newTmplCategories = []newTmplCategory{{ID: 616, Name: "公交"}, {ID: 664, Name: "软件服务提供商"}}

// newTmplKeyword is a keyword of a public template title.
type newTmplKeyword struct {
	KID     int    `json:"kid"`
	Name    string `json:"name"`
	Example string `json:"example"`
	Rule    string `json:"rule"`
}

// newTmplTitle is a public template title of the library.
type newTmplTitle struct {
	TID        int    `json:"tid"`
	Title      string `json:"title"`
	Type       int    `json:"type"` // 2 one-time, 3 long-term
	CategoryID string `json:"categoryId"`
	keywords   []newTmplKeyword
}

// newTmplLibrary is the public template library of the categories above.
var newTmplLibrary = []newTmplTitle{
	{TID: 401, Title: "审核结果通知", Type: 2, CategoryID: "664", keywords: []newTmplKeyword{
		{1, "审核结果", "通过", "phrase"}, {2, "申请项目", "会员认证", "thing"},
		{3, "审核时间", "2025-03-01 10:00", "time"}, {4, "备注", "请留意后续通知", "thing"},
	}},
	{TID: 1535, Title: "订单发货通知", Type: 2, CategoryID: "664", keywords: []newTmplKeyword{
		{1, "订单编号", "2025030112345", "character_string"}, {2, "商品名称", "运动鞋", "thing"},
		{3, "快递公司", "顺丰速运", "thing"}, {4, "快递单号", "SF1234567890", "character_string"},
		{5, "发货时间", "2025-03-01 10:00", "time"},
	}},
	{TID: 2206, Title: "车辆到站提醒", Type: 3, CategoryID: "616", keywords: []newTmplKeyword{
		{1, "线路", "1路", "thing"}, {2, "站点", "人民广场", "thing"},
		{3, "到站时间", "10:05", "time"}, {4, "温馨提示", "请提前候车", "thing"},
	}},
	{TID: 2207, Title: "公交卡余额提醒", Type: 3, CategoryID: "616", keywords: []newTmplKeyword{
		{1, "卡号", "31000001", "character_string"}, {2, "余额", "5.00元", "amount"},
		{3, "提醒时间", "2025-03-01 10:00", "time"},
	}},
}

// newTmplTitleByID returns the library title tid, or nil.
func newTmplTitleByID(tid string) *newTmplTitle {
	n, err := strconv.Atoi(strings.TrimSpace(tid))
	if err != nil {
		return nil
	}
	for i := range newTmplLibrary {
		if newTmplLibrary[i].TID == n {
			return &newTmplLibrary[i]
		}
	}
	return nil
}

// serveNewTmplCategory serves GET /wxaapi/newtmpl/getcategory:
// {"data":[{"id":616,"name":"公交"},...]}, the account's categories.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_getcategory.html
func (e *Emulator) serveNewTmplCategory(w http.ResponseWriter, r *http.Request) {
	if a := e.mpCall(w, r, http.MethodGet, nil); a == nil {
		return
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "data": newTmplCategories})
}

// serveNewTmplTitles serves GET /wxaapi/newtmpl/getpubtemplatetitles?
// ids=616,664&start=0&limit=30: {"count":N,"data":[{"tid","title","type",
// "categoryId"}]}, the public titles of the categories, a page of them.
// Errors: 200018 ids missing, 200019 an id that is not one of the
// account's categories, 200016 start not a number ≥ 0, 200017 limit not
// 1..30.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_getpubtemplatetitles.html
func (e *Emulator) serveNewTmplTitles(w http.ResponseWriter, r *http.Request) {
	if a := e.mpCall(w, r, http.MethodGet, nil); a == nil {
		return
	}
	q := r.URL.Query()
	if q.Get("ids") == "" {
		e.writeErrMsg(w, 200018, "ids missing")
		return
	}
	var ids []string
	for _, id := range strings.Split(q.Get("ids"), ",") {
		id = strings.TrimSpace(id)
		n, err := strconv.Atoi(id)
		if err != nil || !slices.ContainsFunc(newTmplCategories, func(c newTmplCategory) bool { return c.ID == n }) {
			e.writeErrMsg(w, 200019, "ids invalid")
			return
		}
		ids = append(ids, id)
	}
	start, err := strconv.Atoi(q.Get("start"))
	if err != nil || start < 0 {
		e.writeErrMsg(w, 200016, "start invalid")
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > maxTitlesLimit {
		e.writeErrMsg(w, 200017, "limit invalid")
		return
	}
	var all []newTmplTitle
	for _, t := range newTmplLibrary {
		if slices.Contains(ids, t.CategoryID) {
			all = append(all, t)
		}
	}
	page := []newTmplTitle{}
	if start < len(all) {
		page = all[start:min(start+limit, len(all))]
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "count": len(all), "data": page})
}

// serveNewTmplKeywords serves GET /wxaapi/newtmpl/getpubtemplatekeywords?tid=401:
// {"count":N,"data":[{"kid","name","example","rule"}]}. Errors: 200014 an
// unknown tid.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_getpubtemplatekeywords.html
func (e *Emulator) serveNewTmplKeywords(w http.ResponseWriter, r *http.Request) {
	if a := e.mpCall(w, r, http.MethodGet, nil); a == nil {
		return
	}
	t := newTmplTitleByID(r.URL.Query().Get("tid"))
	if t == nil {
		e.writeErrMsg(w, 200014, "tid invalid")
		return
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "count": len(t.keywords), "data": t.keywords})
}

// newTmplAddRequest is the body of addtemplate; tid comes as a string
// (as the docs show) or a number.
type newTmplAddRequest struct {
	TID       json.RawMessage `json:"tid"`
	KIDList   []int           `json:"kidList"`
	SceneDesc string          `json:"sceneDesc"`
}

// serveNewTmplAdd serves POST /wxaapi/newtmpl/addtemplate
// {"tid":"401","kidList":[1,2],"sceneDesc":"..."} → {"priTmplId"}: the
// template, made of the chosen keywords in the given order, becomes one
// of the account's subscription templates (for bizsend, or for a Mini
// Program message/subscribe/send). Keyword placeholders are the rule and
// the kid ("thing2.DATA"). Errors: 44002/47001 a missing or bad body,
// 200014 an unknown tid, 200020 kidList not 2 to 5 distinct kids of the
// title, 200021 a sceneDesc longer than 15 characters, 200012 when the
// account already holds 25 subscription templates.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_addtemplate.html
func (e *Emulator) serveNewTmplAdd(w http.ResponseWriter, r *http.Request) {
	var req newTmplAddRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	var tid string
	if json.Unmarshal(req.TID, &tid) != nil {
		tid = string(req.TID)
	}
	t := newTmplTitleByID(tid)
	if t == nil {
		e.writeErrMsg(w, 200014, "tid invalid")
		return
	}
	var content, example []string
	for i, kid := range req.KIDList {
		k := slices.IndexFunc(t.keywords, func(k newTmplKeyword) bool { return k.KID == kid })
		if k < 0 || slices.Contains(req.KIDList[:i], kid) {
			content = nil
			break
		}
		kw := t.keywords[k]
		content = append(content, kw.Name+"：{{"+kw.Rule+strconv.Itoa(kw.KID)+".DATA}}")
		example = append(example, kw.Name+"："+kw.Example)
	}
	if len(content) < 2 || len(content) > 5 {
		e.writeErrMsg(w, 200020, "kidList invalid")
		return
	}
	if utf8.RuneCountInString(req.SceneDesc) > maxSceneDesc {
		e.writeErrMsg(w, 200021, "sceneDesc invalid")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := templatesOf(a)
	if len(st.subscribe) >= maxSubscribeTemplates {
		e.writeErrMsg(w, 200012, "template count reach limit")
		return
	}
	info := TemplateInfo{
		TemplateID: randomString(43, tokenAlphabet), Title: t.Title, Type: t.Type,
		Content: strings.Join(content, "\n"), Example: strings.Join(example, "\n"),
	}
	st.subscribe = append(st.subscribe, info)
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "priTmplId": info.TemplateID})
}

// serveNewTmplDelete serves POST /wxaapi/newtmpl/deltemplate
// {"priTmplId"}. Errors: 44002/47001 a missing or bad body, 40037 an id
// that is not one of the account's subscription templates.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_deltemplate.html
func (e *Emulator) serveNewTmplDelete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PriTmplID string `json:"priTmplId"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := templatesOf(a)
	i := slices.IndexFunc(st.subscribe, func(t TemplateInfo) bool { return t.TemplateID == req.PriTmplID })
	if i < 0 {
		e.writeAPIError(w, mpErr(40037))
		return
	}
	st.subscribe = slices.Delete(st.subscribe, i, i+1)
	writeJSON(w, okBody)
}

// newTmplInfo is one template of gettemplate.
type newTmplInfo struct {
	PriTmplID string `json:"priTmplId"`
	Title     string `json:"title"`
	Content   string `json:"content"`
	Example   string `json:"example"`
	Type      int    `json:"type"`
}

// serveNewTmplList serves GET /wxaapi/newtmpl/gettemplate:
// {"data":[{"priTmplId","title","content","example","type"}]}, the
// account's subscription templates, oldest first.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_gettemplate.html
func (e *Emulator) serveNewTmplList(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	a.mu.Lock()
	out := make([]newTmplInfo, 0, len(templatesOf(a).subscribe))
	for _, t := range templatesOf(a).subscribe {
		typ := t.Type
		if typ == 0 {
			typ = 2
		}
		out = append(out, newTmplInfo{PriTmplID: t.TemplateID, Title: t.Title, Content: t.Content, Example: t.Example, Type: typ})
	}
	a.mu.Unlock()
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "data": out})
}
