package emulator

import (
	"net/http"
	"regexp"
	"strings"
)

func init() {
	handle("/cgi-bin/template/api_add_template", (*Emulator).serveAddTemplate)
}

// maxPrivateTemplates is how many template-message templates an account
// may hold (45026 beyond).
const maxPrivateTemplates = 25

// shortIDRE matches a template library number: "TM00015" (old library)
// or "OPENTM200000000" (open library).
var shortIDRE = regexp.MustCompile(`^(?:TM\d{5}|OPENTM\d{9})$`)

// libraryTemplate is a template of the template library.
type libraryTemplate struct {
	title, content, example string
}

// templateLibrary holds the library numbers the emulator knows by title;
// any other well-formed number is added as a generic template with the
// classic first/keyword/remark layout (or the given keyword names).
var templateLibrary = map[string]libraryTemplate{
	"TM00015": {"订单支付成功",
		"{{first.DATA}}\n支付金额：{{orderMoneySum.DATA}}\n商品信息：{{orderProductName.DATA}}\n{{Remark.DATA}}",
		"我们已收到您的货款，开始为您打包商品，请耐心等待: )\n支付金额：30.00元\n商品信息：我是商品名字\n如有问题请致电400-828-1878或直接在微信留言，小易将第一时间为您服务！"},
	"TM00001": {"购买成功通知",
		"{{first.DATA}}\n商品名称：{{product.DATA}}\n商品价格：{{price.DATA}}\n购买时间：{{time.DATA}}\n{{remark.DATA}}",
		"您好，您已购买成功。\n商品名称：微信小店\n商品价格：99.00元\n购买时间：2025年3月1日 10:00\n欢迎再次购买！"},
	"OPENTM207498902": {"订单发货提醒",
		"{{first.DATA}}\n订单编号：{{keyword1.DATA}}\n物流公司：{{keyword2.DATA}}\n物流单号：{{keyword3.DATA}}\n{{remark.DATA}}",
		"您的订单已发货\n订单编号：2025030112345\n物流公司：顺丰速运\n物流单号：SF1234567890\n请注意查收"},
}

// libraryContent returns the title, content and example of library number
// shortID, keywords naming the keywords of a category template.
func libraryContent(shortID string, keywords []string) libraryTemplate {
	if t, ok := templateLibrary[shortID]; ok && len(keywords) == 0 {
		return t
	}
	t := libraryTemplate{title: "模板" + shortID}
	if known, ok := templateLibrary[shortID]; ok {
		t.title = known.title
	}
	var c strings.Builder
	if len(keywords) == 0 {
		c.WriteString("{{first.DATA}}\n")
		for _, k := range []string{"keyword1", "keyword2", "keyword3"} {
			c.WriteString(k + "：{{" + k + ".DATA}}\n")
		}
		c.WriteString("{{remark.DATA}}")
	} else {
		for i, k := range keywords {
			if i > 0 {
				c.WriteString("\n")
			}
			c.WriteString(k + "：{{keyword" + itoa64(int64(i+1)) + ".DATA}}")
		}
	}
	t.content = c.String()
	return t
}

// serveAddTemplate serves POST /cgi-bin/template/api_add_template
// {"template_id_short":"TM00015","keyword_name_list":["..."]} → {"template_id"}.
// The template gets the account's primary industry. Errors: the access_token
// errors, 48001 for a Mini Program, 44002/47001 a missing or bad body,
// 40037 a template_id_short that is not a library number (TM + 5 digits,
// OPENTM + 9 digits), 47001 more than 10 or empty keyword names, 45026
// when the account already holds 25 templates.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (e *Emulator) serveAddTemplate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ShortID  string   `json:"template_id_short"`
		Keywords []string `json:"keyword_name_list"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	if !shortIDRE.MatchString(req.ShortID) {
		e.writeAPIError(w, mpErr(40037))
		return
	}
	if len(req.Keywords) > 10 || hasBlank(req.Keywords) {
		e.writeAPIError(w, apiErr(47001))
		return
	}
	lib := libraryContent(req.ShortID, req.Keywords)
	a.mu.Lock()
	defer a.mu.Unlock()
	st := templatesOf(a)
	if len(st.templates) >= maxPrivateTemplates {
		e.writeAPIError(w, mpErr(45026))
		return
	}
	ind := industryOf(a)
	p := industries[ind.primary-1]
	t := TemplateInfo{
		TemplateID: randomString(43, tokenAlphabet), Title: lib.title,
		PrimaryIndustry: p.FirstClass, DeputyIndustry: p.SecondClass,
		Content: lib.content, Example: lib.example,
	}
	st.templates = append(st.templates, t)
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "template_id": t.TemplateID})
}

// hasBlank reports whether list has an empty or blank name.
func hasBlank(list []string) bool {
	for _, s := range list {
		if strings.TrimSpace(s) == "" {
			return true
		}
	}
	return false
}
