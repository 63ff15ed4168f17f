package emulator

import (
	"net/http"
	"slices"
	"strings"
)

func init() {
	handle("/cgi-bin/media/uploadimg", (*Emulator).serveUploadImg)
	handle("/cgi-bin/material/batchget_material", (*Emulator).serveBatchGetMaterial)
	handlePrefix("/mmbiz_jpg/", (*Emulator).serveMmbizImage, mmbizRouteKey)
	handlePrefix("/mmbiz_png/", (*Emulator).serveMmbizImage, mmbizRouteKey)
	handlePrefix("/mpvideo/", (*Emulator).serveMaterialVideo, func(*http.Request) string { return "/mpvideo/" })
}

// uploadImgMaxBytes is the limit of media/uploadimg (1 MB, jpg or png).
const uploadImgMaxBytes = 1 << 20

// Limits of material/batchget_material (and of the draft and publish lists).
const (
	batchGetMaxCount = 20
)

// mmbizRouteKey names the image routes in stats (not one counter per image).
func mmbizRouteKey(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/mmbiz_png/") {
		return "/mmbiz_png/"
	}
	return "/mmbiz_jpg/"
}

// requestOrigin is scheme://host of the emulator as r reached it, the host
// of the addresses it hands out for the pages and images it serves.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// imageURL gives m an image key and returns the address at which the
// emulator serves it, shaped like the platform's
// http://mmbiz.qpic.cn/mmbiz_jpg/<key>/0?wx_fmt=jpeg.
func imageURL(r *http.Request, m *mediaItem) string {
	m.imgKey = randomString(54, tokenAlphabet[:62])
	kind, fmtName := "mmbiz_jpg", "jpeg"
	if strings.HasSuffix(strings.ToLower(m.filename), ".png") {
		kind, fmtName = "mmbiz_png", "png"
	}
	return requestOrigin(r) + "/" + kind + "/" + m.imgKey + "/0?wx_fmt=" + fmtName
}

// serveUploadImg serves POST /cgi-bin/media/uploadimg with a multipart
// "media" image for the body of articles: jpg or png, at most 1 MB. It
// does not count as a material. It answers {"url"}, an address the
// emulator serves. Errors: 41005 no media part, 44001 an empty file, 40005
// another file type, 40009 over 1 MB.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Adding_Permanent_Assets.html
func (e *Emulator) serveUploadImg(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodPost, nil)
	if a == nil {
		return
	}
	rule := mediaRule{maxBytes: uploadImgMaxBytes, sizeCode: 40009,
		permExts: []string{".jpg", ".jpeg", ".png"}}
	item, _, err := readUploadRule(w, r, "image", rule, true)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	item.id, item.created = newMediaID(), e.Now()
	item.url = imageURL(r, item)
	a.mu.Lock()
	mediaOf(a).imgs[item.imgKey] = item
	a.mu.Unlock()
	writeJSON(w, map[string]string{"url": item.url})
}

// serveMmbizImage serves GET /mmbiz_jpg/<key>/0 and /mmbiz_png/<key>/0:
// the image of a permanent image material or of media/uploadimg, with no
// access_token (pages show them). Unknown keys get 404.
func (e *Emulator) serveMmbizImage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest := r.URL.Path[strings.Index(r.URL.Path[1:], "/")+2:]
	key, _, _ := strings.Cut(rest, "/")
	for _, id := range e.appOrder {
		a := e.apps[id]
		a.mu.Lock()
		m := mediaOf(a).imgs[key]
		a.mu.Unlock()
		if m != nil {
			writeImage(w, m.contentType, m.data)
			return
		}
	}
	http.NotFound(w, r)
}

type batchGetMaterialRequest struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Count  int    `json:"count"`
}

// materialListItem is one item of batchget_material for image, voice and
// video.
type materialListItem struct {
	MediaID    string `json:"media_id"`
	Name       string `json:"name"`
	UpdateTime int64  `json:"update_time"`
	URL        string `json:"url,omitempty"`
}

// serveBatchGetMaterial serves POST /cgi-bin/material/batchget_material
// {"type","offset","count"}: the permanent materials of a type, newest
// first, {"total_count","item_count","item":[{"media_id","name",
// "update_time","url"}]}. type news lists the permanent news materials,
// of which the emulator has none (add_news is retired; articles go
// through drafts). Errors: 40004 a type other than image, voice, video or
// news; 40035 count outside 1..20 or a negative offset.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_materials_list.html
func (e *Emulator) serveBatchGetMaterial(w http.ResponseWriter, r *http.Request) {
	var req batchGetMaterialRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	switch req.Type {
	case "image", "voice", "video", "news":
	default:
		e.writeAPIError(w, mpErr(40004))
		return
	}
	if req.Count < 1 || req.Count > batchGetMaxCount || req.Offset < 0 {
		e.writeAPIError(w, mpErr(40035))
		return
	}
	a.mu.Lock()
	var all []*mediaItem
	for _, m := range mediaOf(a).perm {
		if m.typ == req.Type {
			all = append(all, m)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(all, func(x, y *mediaItem) int { return int(y.seq - x.seq) })
	items := []materialListItem{}
	for i := req.Offset; i < len(all) && len(items) < req.Count; i++ {
		m := all[i]
		items = append(items, materialListItem{MediaID: m.id, Name: m.filename, UpdateTime: m.created.Unix(), URL: m.url})
	}
	writeJSON(w, map[string]any{"total_count": len(all), "item_count": len(items), "item": items})
}

// serveMaterialVideo serves GET /mpvideo/<media_id>, the down_url of a
// permanent video (get_material), with no access_token. Unknown ids get
// 404.
func (e *Emulator) serveMaterialVideo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/mpvideo/")
	for _, appID := range e.appOrder {
		a := e.apps[appID]
		a.mu.Lock()
		m := mediaOf(a).perm[id]
		a.mu.Unlock()
		if m != nil && m.typ == "video" {
			w.Header().Set("Content-Type", m.contentType)
			_, _ = w.Write(m.data)
			return
		}
	}
	http.NotFound(w, r)
}

// writeImage answers an image the emulator hosts (mmbiz.qpic.cn's part),
// cached for a day as the CDN does.
func writeImage(w http.ResponseWriter, contentType string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(data)
}
