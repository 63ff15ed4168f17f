package mp

import (
	"context"
	"net/url"
	"strconv"
	"strings"
)

// SubscribeCategory is a service category (类目) of the account.
type SubscribeCategory struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Kinds of subscription templates (the type field).
const (
	// SubscribeTypeOneTime: one message per acceptance (一次性订阅).
	SubscribeTypeOneTime = 2
	// SubscribeTypeLongTerm: messages until the user turns them off
	// (长期订阅, for public-service categories).
	SubscribeTypeLongTerm = 3
)

// PubTemplateTitle is a public template title of the library.
type PubTemplateTitle struct {
	TID        int    `json:"tid"`
	Title      string `json:"title"`
	Type       int    `json:"type"` // SubscribeTypeOneTime or SubscribeTypeLongTerm
	CategoryID string `json:"categoryId"`
}

// PubTemplateTitles is a page of public template titles; Count is the
// total over every page.
type PubTemplateTitles struct {
	Count  int                `json:"count"`
	Titles []PubTemplateTitle `json:"data"`
}

// PubTemplateKeyword is a keyword of a public template title. Rule is its
// kind ("thing", "time", "phrase", ...), which names the keyword in a
// message's data ("thing2": rule and KID).
type PubTemplateKeyword struct {
	KID     int    `json:"kid"`
	Name    string `json:"name"`
	Example string `json:"example"`
	Rule    string `json:"rule"`
}

// SubscribeTemplateAddRequest picks a public title (TID) and 2 to 5 of its
// keywords (KIDList, in the order they show); SceneDesc describes the use
// (at most 15 characters).
type SubscribeTemplateAddRequest struct {
	TID       string `json:"tid"`
	KIDList   []int  `json:"kidList"`
	SceneDesc string `json:"sceneDesc,omitempty"`
}

// SubscribeTemplate is one of the account's subscription templates.
type SubscribeTemplate struct {
	PriTmplID string `json:"priTmplId"`
	Title     string `json:"title"`
	// Content has {{keyword.DATA}} placeholders.
	Content string `json:"content"`
	Example string `json:"example"`
	Type    int    `json:"type"` // SubscribeTypeOneTime or SubscribeTypeLongTerm
}

// GetCategories returns the account's service categories. It is a read
// (retried on -1).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_getcategory.html
func (s *SubscribeService) GetCategories(ctx context.Context) ([]SubscribeCategory, error) {
	var res struct {
		Data []SubscribeCategory `json:"data"`
	}
	if err := s.get(ctx, "wxaapi/newtmpl/getcategory", &res); err != nil {
		return nil, err
	}
	return res.Data, nil
}

// ListPubTemplateTitles returns the public template titles of the
// categories, from start (0-based), at most limit (1 to 30). Errors:
// 200016 (bad start), 200017 (bad limit), 200018 (no category), 200019 (a
// category not of the account). It is a read (retried on -1).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_getpubtemplatetitles.html
func (s *SubscribeService) ListPubTemplateTitles(ctx context.Context, categoryIDs []int, start, limit int) (*PubTemplateTitles, error) {
	ids := make([]string, len(categoryIDs))
	for i, id := range categoryIDs {
		ids[i] = strconv.Itoa(id)
	}
	q := url.Values{"ids": {strings.Join(ids, ",")}, "start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(limit)}}
	var res PubTemplateTitles
	if err := s.get(ctx, "wxaapi/newtmpl/getpubtemplatetitles?"+q.Encode(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListPubTemplateKeywords returns the keywords of the public title tid.
// Errors: 200014 (unknown tid). It is a read (retried on -1).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_getpubtemplatekeywords.html
func (s *SubscribeService) ListPubTemplateKeywords(ctx context.Context, tid string) ([]PubTemplateKeyword, error) {
	var res struct {
		Data []PubTemplateKeyword `json:"data"`
	}
	if err := s.get(ctx, "wxaapi/newtmpl/getpubtemplatekeywords?"+url.Values{"tid": {tid}}.Encode(), &res); err != nil {
		return nil, err
	}
	return res.Data, nil
}

// AddTemplate adds a subscription template made of a public title's
// keywords and returns its priTmplId (the template_id of Send). Errors:
// 200012 (the account already holds 25), 200014 (unknown tid), 200020
// (bad kidList), 200021 (sceneDesc too long).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_addtemplate.html
func (s *SubscribeService) AddTemplate(ctx context.Context, tmpl *SubscribeTemplateAddRequest, opts ...CallOption) (string, error) {
	req, err := s.client.NewRequest(ctx, "POST", "wxaapi/newtmpl/addtemplate", tmpl)
	if err != nil {
		return "", err
	}
	var res struct {
		PriTmplID string `json:"priTmplId"`
	}
	if err := s.client.Do(req, &res, opts...); err != nil {
		return "", err
	}
	return res.PriTmplID, nil
}

// DeleteTemplate removes the subscription template priTmplID. Errors:
// 40037 (not one of the account's templates).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_deltemplate.html
func (s *SubscribeService) DeleteTemplate(ctx context.Context, priTmplID string, opts ...CallOption) error {
	body := struct {
		PriTmplID string `json:"priTmplId"`
	}{priTmplID}
	req, err := s.client.NewRequest(ctx, "POST", "wxaapi/newtmpl/deltemplate", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// ListTemplates returns the account's subscription templates. It is a
// read (retried on -1).
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_gettemplate.html
func (s *SubscribeService) ListTemplates(ctx context.Context) ([]SubscribeTemplate, error) {
	var res struct {
		Data []SubscribeTemplate `json:"data"`
	}
	if err := s.get(ctx, "wxaapi/newtmpl/gettemplate", &res); err != nil {
		return nil, err
	}
	return res.Data, nil
}

// get makes a read (GET, retried on -1) of path into v.
func (s *SubscribeService) get(ctx context.Context, path string, v any) error {
	req, err := s.client.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	return s.client.Do(req, v, Idempotent())
}
