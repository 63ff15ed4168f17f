package mp

import (
	"context"
	"time"
)

// DataCubeService handles the data APIs (数据统计, /datacube/...): follower,
// article, message and server statistics by day, as the statistics pages
// of mp.weixin.qq.com show them.
//
// Every call takes a range of days, begin to end (both included), each
// the calendar date of the time.Time in its own location, sent as
// yyyy-mm-dd; the platform counts days in China time (UTC+8). A range may
// span at most the days each method gives (1 to 30); end must be before
// today: the data of a day is ready the next morning (the platform asks
// to query after 08:00 China time). Errors: 61500 (a date the platform
// cannot read), 61501 (begin after end, end not before today, or a range
// longer than the method's span), 48001 (an account without the
// permission). A day with nothing to report is left out of the list or
// reported with zeros, as each method says.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html
type DataCubeService service

// DataCube returns the service for the data APIs.
func (c *Client) DataCube() *DataCubeService { return (*DataCubeService)(&c.common) }

// The largest spans (in days) of the data APIs.
const (
	MaxSpanUserSummary          = 7
	MaxSpanUserCumulate         = 7
	MaxSpanArticleSummary       = 1
	MaxSpanArticleTotal         = 1
	MaxSpanUserRead             = 3
	MaxSpanUserReadHour         = 1
	MaxSpanUserShare            = 7
	MaxSpanUserShareHour        = 1
	MaxSpanUpstreamMsg          = 7
	MaxSpanUpstreamMsgHour      = 1
	MaxSpanUpstreamMsgWeek      = 30
	MaxSpanUpstreamMsgMonth     = 30
	MaxSpanUpstreamMsgDist      = 15
	MaxSpanUpstreamMsgDistWeek  = 30
	MaxSpanUpstreamMsgDistMonth = 30
	MaxSpanInterfaceSummary     = 30
	MaxSpanInterfaceSummaryHour = 1
)

// dataCubeList posts {"begin_date","end_date"} to path and decodes
// {"list":[...]}. Every data API only reads.
func dataCubeList[T any](ctx context.Context, s *DataCubeService, path string, begin, end time.Time) ([]T, error) {
	body := struct {
		BeginDate string `json:"begin_date"`
		EndDate   string `json:"end_date"`
	}{begin.Format(time.DateOnly), end.Format(time.DateOnly)}
	req, err := s.client.NewRequest(ctx, "POST", path, &body)
	if err != nil {
		return nil, err
	}
	var res struct {
		List []T `json:"list"`
	}
	if err := s.client.Do(req, &res, Idempotent()); err != nil {
		return nil, err
	}
	return res.List, nil
}

// Follow sources (UserSummary.UserSource), as the platform numbers them.
const (
	FollowSourceOther       = 0   // 其他合计
	FollowSourceSearch      = 1   // 公众号搜索
	FollowSourceCard        = 17  // 名片分享
	FollowSourceQRCode      = 30  // 扫描二维码
	FollowSourceArticleName = 57  // 文章内账号名称
	FollowSourceAd          = 100 // 微信广告
	FollowSourceMiniProgram = 149 // 小程序关注
	FollowSourceRepost      = 161 // 他人转载
	FollowSourceChannels    = 200 // 视频号
	FollowSourceLive        = 201 // 直播
)

// UserSummary is one row of UserSummary: the follows and unfollows of a
// day through one source.
type UserSummary struct {
	// RefDate is the day, yyyy-mm-dd.
	RefDate    string `json:"ref_date"`
	UserSource int    `json:"user_source"`
	NewUser    int    `json:"new_user"`
	CancelUser int    `json:"cancel_user"`
}

// UserSummary returns the follows and unfollows of each day of up to 7
// days, by source: a row for source 0 every day (with zeros), and one for
// each other source that had any.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html
func (s *DataCubeService) UserSummary(ctx context.Context, begin, end time.Time) ([]UserSummary, error) {
	return dataCubeList[UserSummary](ctx, s, "datacube/getusersummary", begin, end)
}

// UserCumulate is one row of UserCumulate.
type UserCumulate struct {
	RefDate string `json:"ref_date"`
	// CumulateUser is the number of followers at the end of the day.
	CumulateUser int `json:"cumulate_user"`
}

// UserCumulate returns the number of followers at the end of each day of
// up to 7 days.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html
func (s *DataCubeService) UserCumulate(ctx context.Context, begin, end time.Time) ([]UserCumulate, error) {
	return dataCubeList[UserCumulate](ctx, s, "datacube/getusercumulate", begin, end)
}

// ArticleReadStats are the reading counters of the article APIs: readers
// (…User, distinct users) and reads (…Count) of the article page
// (IntPage), of its original link (OriPage), shares, and additions to
// favorites.
type ArticleReadStats struct {
	IntPageReadUser  int `json:"int_page_read_user"`
	IntPageReadCount int `json:"int_page_read_count"`
	OriPageReadUser  int `json:"ori_page_read_user"`
	OriPageReadCount int `json:"ori_page_read_count"`
	ShareUser        int `json:"share_user"`
	ShareCount       int `json:"share_count"`
	AddToFavUser     int `json:"add_to_fav_user"`
	AddToFavCount    int `json:"add_to_fav_count"`
}

// ArticleSummary is the reading of one mass-sent article on one day.
type ArticleSummary struct {
	RefDate string `json:"ref_date"`
	// MsgID is the article's id, "<msg_data_id>_<index>" (index from 1).
	MsgID string `json:"msgid"`
	Title string `json:"title"`
	ArticleReadStats
}

// ArticleSummary returns the reading, that day, of each mass-sent article
// read that day (a span of 1 day). The platform leaves out articles whose
// IntPageReadUser + OriPageReadUser + ShareUser + ShareCount +
// AddToFavCount is below 3.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html
func (s *DataCubeService) ArticleSummary(ctx context.Context, begin, end time.Time) ([]ArticleSummary, error) {
	return dataCubeList[ArticleSummary](ctx, s, "datacube/getarticlesummary", begin, end)
}

// ArticleTotal is a mass-sent article with its statistics since it was
// sent.
type ArticleTotal struct {
	// RefDate is the day the article was sent.
	RefDate string `json:"ref_date"`
	MsgID   string `json:"msgid"`
	Title   string `json:"title"`
	// Details holds the totals up to each day from RefDate (up to 7 days).
	Details []ArticleTotalDetail `json:"details"`
}

// ArticleTotalDetail is an article's totals from the day it was sent to
// StatDate: by where readers came from (the session, the account's
// history page, Moments (Feed), friends' shares, elsewhere) and the
// shares to Moments by where the sharer read it.
type ArticleTotalDetail struct {
	StatDate string `json:"stat_date"`
	// TargetUser is the number of users the article was sent to.
	TargetUser int `json:"target_user"`
	ArticleReadStats
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

// ArticleTotal returns the articles mass-sent on the day (a span of 1
// day), each with its totals on each day since (up to 7 days).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html
func (s *DataCubeService) ArticleTotal(ctx context.Context, begin, end time.Time) ([]ArticleTotal, error) {
	return dataCubeList[ArticleTotal](ctx, s, "datacube/getarticletotal", begin, end)
}

// Read sources (UserRead.UserSource): where readers opened an article.
const (
	ReadSourceSession  = 0        // 会话
	ReadSourceFriends  = 1        // 好友
	ReadSourceMoments  = 2        // 朋友圈
	ReadSourceWeibo    = 3        // 腾讯微博 (no longer used)
	ReadSourceHistory  = 4        // 历史消息页
	ReadSourceOther    = 5        // 其他
	ReadSourceTopStory = 6        // 看一看
	ReadSourceSearch   = 7        // 搜一搜
	ReadSourceAll      = 99999999 // the total of every source
)

// UserRead is the reading of every article on one day, by where readers
// came from (UserSource ReadSourceAll for the total).
type UserRead struct {
	RefDate    string `json:"ref_date"`
	UserSource int    `json:"user_source"`
	ArticleReadStats
}

// UserRead returns the reading of the account's articles on each day of up
// to 3 days: the total (UserSource ReadSourceAll) and each source. Days
// without reading are left out.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html
func (s *DataCubeService) UserRead(ctx context.Context, begin, end time.Time) ([]UserRead, error) {
	return dataCubeList[UserRead](ctx, s, "datacube/getuserread", begin, end)
}

// UserReadHour is UserRead for one hour.
type UserReadHour struct {
	RefDate string `json:"ref_date"`
	// RefHour is the hour as 0, 100, ..., 2300 (1300 is 13:00-14:00).
	RefHour    int `json:"ref_hour"`
	UserSource int `json:"user_source"`
	ArticleReadStats
}

// UserReadHour returns UserRead by hour for one day (a span of 1 day).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html
func (s *DataCubeService) UserReadHour(ctx context.Context, begin, end time.Time) ([]UserReadHour, error) {
	return dataCubeList[UserReadHour](ctx, s, "datacube/getuserreadhour", begin, end)
}

// Share scenes (UserShare.ShareScene).
const (
	ShareSceneFriend  = 1   // 好友转发
	ShareSceneMoments = 2   // 朋友圈
	ShareSceneWeibo   = 3   // 腾讯微博 (no longer used)
	ShareSceneOther   = 255 // 其他
)

// UserShare is the sharing of the account's articles on one day to one
// scene.
type UserShare struct {
	RefDate    string `json:"ref_date"`
	ShareScene int    `json:"share_scene"`
	ShareCount int    `json:"share_count"`
	ShareUser  int    `json:"share_user"`
}

// UserShare returns the shares of each day of up to 7 days by scene; days
// without shares are left out.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html
func (s *DataCubeService) UserShare(ctx context.Context, begin, end time.Time) ([]UserShare, error) {
	return dataCubeList[UserShare](ctx, s, "datacube/getusershare", begin, end)
}

// UserShareHour is UserShare for one hour (RefHour 0 to 2300).
type UserShareHour struct {
	RefDate    string `json:"ref_date"`
	RefHour    int    `json:"ref_hour"`
	ShareScene int    `json:"share_scene"`
	ShareCount int    `json:"share_count"`
	ShareUser  int    `json:"share_user"`
}

// UserShareHour returns UserShare by hour for one day (a span of 1 day).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html
func (s *DataCubeService) UserShareHour(ctx context.Context, begin, end time.Time) ([]UserShareHour, error) {
	return dataCubeList[UserShareHour](ctx, s, "datacube/getusersharehour", begin, end)
}

// Message types of the message statistics (UpstreamMsg.MsgType).
const (
	UpstreamMsgText  = 1 // 文字
	UpstreamMsgImage = 2 // 图片
	UpstreamMsgVoice = 3 // 语音
	UpstreamMsgVideo = 4 // 视频
	UpstreamMsgLink  = 6 // 第三方应用消息（链接消息）
)

// UpstreamMsg is the messages users sent the account in one day (week,
// month) of one type: senders and messages.
type UpstreamMsg struct {
	// RefDate is the day; for weeks their Monday, for months their first
	// day.
	RefDate  string `json:"ref_date"`
	MsgType  int    `json:"msg_type"`
	MsgUser  int    `json:"msg_user"`
	MsgCount int    `json:"msg_count"`
}

// UpstreamMsg returns the messages users sent on each day of up to 7
// days, by type; types without messages are left out.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsg(ctx context.Context, begin, end time.Time) ([]UpstreamMsg, error) {
	return dataCubeList[UpstreamMsg](ctx, s, "datacube/getupstreammsg", begin, end)
}

// UpstreamMsgHour is UpstreamMsg for one hour (RefHour 0 to 2300).
type UpstreamMsgHour struct {
	RefDate  string `json:"ref_date"`
	RefHour  int    `json:"ref_hour"`
	MsgType  int    `json:"msg_type"`
	MsgUser  int    `json:"msg_user"`
	MsgCount int    `json:"msg_count"`
}

// UpstreamMsgHour returns UpstreamMsg by hour for one day (a span of 1
// day).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsgHour(ctx context.Context, begin, end time.Time) ([]UpstreamMsgHour, error) {
	return dataCubeList[UpstreamMsgHour](ctx, s, "datacube/getupstreammsghour", begin, end)
}

// UpstreamMsgWeek returns UpstreamMsg by week (RefDate its Monday) for the
// weeks of a range of up to 30 days.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsgWeek(ctx context.Context, begin, end time.Time) ([]UpstreamMsg, error) {
	return dataCubeList[UpstreamMsg](ctx, s, "datacube/getupstreammsgweek", begin, end)
}

// UpstreamMsgMonth returns UpstreamMsg by month (RefDate its first day)
// for the months of a range of up to 30 days.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsgMonth(ctx context.Context, begin, end time.Time) ([]UpstreamMsg, error) {
	return dataCubeList[UpstreamMsg](ctx, s, "datacube/getupstreammsgmonth", begin, end)
}

// Count intervals of the message distribution (UpstreamMsgDist.CountInterval).
const (
	CountIntervalNone   = 0 // 0 messages
	CountInterval1To5   = 1 // 1-5 messages
	CountInterval6To10  = 2 // 6-10 messages
	CountIntervalOver10 = 3 // more than 10 messages
)

// UpstreamMsgDist is how many users sent a number of messages in the
// CountInterval in one day (week, month).
type UpstreamMsgDist struct {
	RefDate       string `json:"ref_date"`
	CountInterval int    `json:"count_interval"`
	MsgUser       int    `json:"msg_user"`
}

// UpstreamMsgDist returns the distribution of users by the messages they
// sent on each day of up to 15 days.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsgDist(ctx context.Context, begin, end time.Time) ([]UpstreamMsgDist, error) {
	return dataCubeList[UpstreamMsgDist](ctx, s, "datacube/getupstreammsgdist", begin, end)
}

// UpstreamMsgDistWeek returns UpstreamMsgDist by week (RefDate its Monday)
// for a range of up to 30 days.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsgDistWeek(ctx context.Context, begin, end time.Time) ([]UpstreamMsgDist, error) {
	return dataCubeList[UpstreamMsgDist](ctx, s, "datacube/getupstreammsgdistweek", begin, end)
}

// UpstreamMsgDistMonth returns UpstreamMsgDist by month (RefDate its first
// day) for a range of up to 30 days.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Message_analysis_data_interface.html
func (s *DataCubeService) UpstreamMsgDistMonth(ctx context.Context, begin, end time.Time) ([]UpstreamMsgDist, error) {
	return dataCubeList[UpstreamMsgDist](ctx, s, "datacube/getupstreammsgdistmonth", begin, end)
}

// InterfaceSummary is how the account's server handled the messages pushed
// to it in one day: pushes (CallbackCount), failed ones (no answer in
// time, bad answer), and the time they took in milliseconds (in total and
// the longest).
type InterfaceSummary struct {
	RefDate       string `json:"ref_date"`
	CallbackCount int    `json:"callback_count"`
	FailCount     int    `json:"fail_count"`
	TotalTimeCost int64  `json:"total_time_cost"`
	MaxTimeCost   int64  `json:"max_time_cost"`
}

// InterfaceSummary returns the server statistics of each day of up to 30
// days; days without pushes are left out.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Analytics_API.html
func (s *DataCubeService) InterfaceSummary(ctx context.Context, begin, end time.Time) ([]InterfaceSummary, error) {
	return dataCubeList[InterfaceSummary](ctx, s, "datacube/getinterfacesummary", begin, end)
}

// InterfaceSummaryHour is InterfaceSummary for one hour (RefHour 0 to
// 2300).
type InterfaceSummaryHour struct {
	RefDate       string `json:"ref_date"`
	RefHour       int    `json:"ref_hour"`
	CallbackCount int    `json:"callback_count"`
	FailCount     int    `json:"fail_count"`
	TotalTimeCost int64  `json:"total_time_cost"`
	MaxTimeCost   int64  `json:"max_time_cost"`
}

// InterfaceSummaryHour returns InterfaceSummary by hour for one day (a
// span of 1 day).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Analytics/Analytics_API.html
func (s *DataCubeService) InterfaceSummaryHour(ctx context.Context, begin, end time.Time) ([]InterfaceSummaryHour, error) {
	return dataCubeList[InterfaceSummaryHour](ctx, s, "datacube/getinterfacesummaryhour", begin, end)
}
