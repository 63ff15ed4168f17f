package mp

import (
	"context"
	"strconv"
)

// Industry is one of the account's two template-message industries:
// FirstClass ("IT科技") and SecondClass ("互联网|电子商务").
type Industry struct {
	FirstClass  string `json:"first_class"`
	SecondClass string `json:"second_class"`
}

// IndustrySetting is the account's primary and secondary industry.
type IndustrySetting struct {
	Primary   Industry `json:"primary_industry"`
	Secondary Industry `json:"secondary_industry"`
}

// SetIndustry sets the account's primary and secondary industry by their
// codes in the platform's industry table (1 "IT科技/互联网|电子商务" ... 41
// "其它/其它"). The industry may be changed once a month. Errors: 40102
// (an id outside the table), 43100 (changed less than a month ago), 48001
// (a Mini Program).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *TemplateService) SetIndustry(ctx context.Context, primaryID, secondaryID int, opts ...CallOption) error {
	body := struct {
		ID1 string `json:"industry_id1"`
		ID2 string `json:"industry_id2"`
	}{strconv.Itoa(primaryID), strconv.Itoa(secondaryID)}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/template/api_set_industry", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil, opts...)
}

// GetIndustry returns the account's industries. It is a read (retried on
// -1).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *TemplateService) GetIndustry(ctx context.Context) (*IndustrySetting, error) {
	req, err := s.client.NewRequest(ctx, "GET", "cgi-bin/template/get_industry", nil)
	if err != nil {
		return nil, err
	}
	var res IndustrySetting
	if err := s.client.Do(req, &res, Idempotent()); err != nil {
		return nil, err
	}
	return &res, nil
}

// AddTemplate adds the library template shortID ("TM00015" or
// "OPENTM207498902", template_id_short) to the account and returns its
// template_id. KeywordNames (keyword_name_list) picks the keywords of a
// category template; nil for others. Errors: 40037 (not a library
// number), 45026 (the account already holds 25 templates), 48001 (a Mini
// Program).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *TemplateService) AddTemplate(ctx context.Context, shortID string, keywordNames []string, opts ...CallOption) (string, error) {
	body := struct {
		ShortID  string   `json:"template_id_short"`
		Keywords []string `json:"keyword_name_list,omitempty"`
	}{shortID, keywordNames}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/template/api_add_template", &body)
	if err != nil {
		return "", err
	}
	var res struct {
		TemplateID string `json:"template_id"`
	}
	if err := s.client.Do(req, &res, opts...); err != nil {
		return "", err
	}
	return res.TemplateID, nil
}
