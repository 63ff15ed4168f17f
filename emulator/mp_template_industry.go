package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

func init() {
	handle("/cgi-bin/template/api_set_industry", (*Emulator).serveSetIndustry)
	handle("/cgi-bin/template/get_industry", (*Emulator).serveGetIndustry)
}

// Industry is one entry of the template-message industry table: its id
// (industry_id1/industry_id2 of api_set_industry) and classes.
type Industry struct {
	ID          int    `json:"-"`
	FirstClass  string `json:"first_class"`
	SecondClass string `json:"second_class"`
}

// industries is the platform's industry table (行业代码), ids 1 to 41.
var industries = []Industry{
	{1, "IT科技", "互联网|电子商务"}, {2, "IT科技", "IT软件与服务"}, {3, "IT科技", "IT硬件与设备"},
	{4, "IT科技", "电子技术"}, {5, "IT科技", "通信与运营商"}, {6, "IT科技", "网络游戏"},
	{7, "金融业", "银行"}, {8, "金融业", "基金|理财|信托"}, {9, "金融业", "保险"},
	{10, "餐饮", "餐饮"}, {11, "酒店旅游", "酒店"}, {12, "酒店旅游", "旅游"},
	{13, "运输与仓储", "快递"}, {14, "运输与仓储", "物流"}, {15, "运输与仓储", "仓储"},
	{16, "教育", "培训"}, {17, "教育", "院校"}, {18, "政府与公共事业", "学术科研"},
	{19, "政府与公共事业", "交警"}, {20, "政府与公共事业", "博物馆"}, {21, "政府与公共事业", "公共事业|非盈利机构"},
	{22, "医药护理", "医药医疗"}, {23, "医药护理", "护理美容"}, {24, "医药护理", "保健与卫生"},
	{25, "交通工具", "汽车相关"}, {26, "交通工具", "摩托车相关"}, {27, "交通工具", "火车相关"},
	{28, "交通工具", "飞机相关"}, {29, "房地产", "建筑"}, {30, "房地产", "物业"},
	{31, "消费品", "消费品"}, {32, "商业服务", "法律"}, {33, "商业服务", "会展"},
	{34, "商业服务", "中介服务"}, {35, "商业服务", "认证"}, {36, "商业服务", "审计"},
	{37, "文体娱乐", "传媒"}, {38, "文体娱乐", "体育"}, {39, "文体娱乐", "娱乐休闲"},
	{40, "印刷", "印刷"}, {41, "其它", "其它"},
}

// industryChangeInterval is how often the industry may be changed: once a
// month ("每月可修改行业1次").
const industryChangeInterval = 30 * 24 * time.Hour

// industryState is an app's industry setting (guarded by a.mu). The seeded
// setting is IT科技/互联网|电子商务 and IT科技/IT软件与服务, changeable at once.
type industryState struct {
	seeded             bool
	primary, secondary int
	changed            time.Time // zero: never changed through the API
}

func industryOf(a *app) *industryState {
	st := appExt[industryState](a, "mp_industry")
	if !st.seeded {
		st.seeded, st.primary, st.secondary = true, 1, 2
	}
	return st
}

// industryID reads an industry id given as a JSON string ("1", as the
// docs show) or number; 0 when absent or malformed.
func industryID(raw json.RawMessage) int {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > len(industries) {
		return 0
	}
	return n
}

// serveSetIndustry serves POST /cgi-bin/template/api_set_industry
// {"industry_id1":"1","industry_id2":"4"}. Errors: the access_token
// errors, 48001 for a Mini Program, 44002/47001 a missing or bad body,
// 40102 an id missing or outside 1..41, 43100 a change less than 30 days
// after the previous one (once a month).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (e *Emulator) serveSetIndustry(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID1 json.RawMessage `json:"industry_id1"`
		ID2 json.RawMessage `json:"industry_id2"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	id1, id2 := industryID(req.ID1), industryID(req.ID2)
	if id1 == 0 || id2 == 0 {
		e.writeAPIError(w, mpErr(40102))
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := industryOf(a)
	if !st.changed.IsZero() && now.Before(st.changed.Add(industryChangeInterval)) {
		e.writeAPIError(w, mpErr(43100))
		return
	}
	st.primary, st.secondary, st.changed = id1, id2, now
	writeJSON(w, okBody)
}

// serveGetIndustry serves GET /cgi-bin/template/get_industry:
// {"primary_industry":{"first_class","second_class"},"secondary_industry":{...}}.
// Errors: the access_token errors, 48001 for a Mini Program.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (e *Emulator) serveGetIndustry(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	st := industryOf(a)
	p, s := industries[st.primary-1], industries[st.secondary-1]
	a.mu.Unlock()
	writeJSON(w, map[string]Industry{"primary_industry": p, "secondary_industry": s})
}
