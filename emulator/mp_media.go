package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

// mediaItem is one uploaded file.
type mediaItem struct {
	id           string
	typ          string // image, voice, video, thumb
	filename     string
	contentType  string
	data         []byte
	created      time.Time
	permanent    bool
	url          string // permanent images and article images
	imgKey       string // key of url under /mmbiz_jpg/ or /mmbiz_png/
	seq          int64  // order of addition among the app's materials
	title        string // permanent videos
	introduction string
}

// mediaState is the per-app media store (guarded by app.mu).
type mediaState struct {
	temp map[string]*mediaItem
	perm map[string]*mediaItem
	// imgs are the images the emulator serves by imgKey: permanent image
	// materials and the article images of media/uploadimg.
	imgs map[string]*mediaItem
	seq  int64
}

// mediaRule is the size limit and file types of one media type.
type mediaRule struct {
	maxBytes int64
	sizeCode int      // errcode for a file over maxBytes
	tempExts []string // extensions of media/upload
	permExts []string // extensions of material/add_material
}

// mediaRules are the platform's limits by media type.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/New_temporary_materials.html
var mediaRules = map[string]mediaRule{
	"image": {10 << 20, 40009, []string{".png", ".jpeg", ".jpg", ".gif"}, []string{".bmp", ".png", ".jpeg", ".jpg", ".gif"}},
	"voice": {2 << 20, 40010, []string{".amr", ".mp3"}, []string{".mp3", ".wma", ".wav", ".amr"}},
	"video": {10 << 20, 40011, []string{".mp4"}, []string{".mp4"}},
	"thumb": {64 << 10, 40012, []string{".jpg", ".jpeg"}, []string{".jpg", ".jpeg"}},
}

// tempMediaLifetime is how long a temporary media_id is valid.
const tempMediaLifetime = 3 * 24 * time.Hour

func init() {
	handle("/cgi-bin/media/upload", (*Emulator).serveMediaUpload)
	handle("/cgi-bin/media/get", (*Emulator).serveMediaGet)
	handle("/cgi-bin/material/add_material", (*Emulator).serveAddMaterial)
	handle("/cgi-bin/material/get_material", (*Emulator).serveGetMaterial)
	handle("/cgi-bin/material/del_material", (*Emulator).serveDelMaterial)
	handle("/cgi-bin/material/get_materialcount", (*Emulator).serveMaterialCount)
}

// mediaOf returns the media store of a. a.mu must be held.
func mediaOf(a *app) *mediaState {
	st := appExt[mediaState](a, "mp_media")
	if st.temp == nil {
		st.temp = map[string]*mediaItem{}
		st.perm = map[string]*mediaItem{}
		st.imgs = map[string]*mediaItem{}
	}
	return st
}

// isPermanentMedia reports whether id is a permanent material of a.
func (e *Emulator) isPermanentMedia(a *app, id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return mediaOf(a).perm[id] != nil
}

// lookupMedia returns the temporary (unexpired) or permanent media id of a.
// a.mu must be held.
func (e *Emulator) lookupMedia(a *app, id string, now time.Time) *mediaItem {
	st := mediaOf(a)
	if m := st.temp[id]; m != nil && now.Before(m.created.Add(tempMediaLifetime)) {
		return m
	}
	return st.perm[id]
}

// readUpload reads the "media" part of a multipart upload of type typ and
// checks it: 40004 unknown type, 41005 no media part, 44001 empty file,
// 40005 file type not allowed, 40009..40012 too large. It also returns the
// "description" field (add_material of videos).
func readUpload(w http.ResponseWriter, r *http.Request, typ string, permanent bool) (*mediaItem, string, error) {
	rule, ok := mediaRules[typ]
	if !ok {
		return nil, "", mpErr(40004)
	}
	return readUploadRule(w, r, typ, rule, permanent)
}

// readUploadRule is readUpload with the limits of rule.
func readUploadRule(w http.ResponseWriter, r *http.Request, typ string, rule mediaRule, permanent bool) (*mediaItem, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, rule.maxBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", mpErr(41005)
	}
	var item *mediaItem
	var desc string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, "", mpErr(rule.sizeCode)
			}
			return nil, "", mpErr(41005)
		}
		switch p.FormName() {
		case "media":
			it, err := readMediaPart(p, typ, rule, permanent)
			if err != nil {
				return nil, "", err
			}
			item = it
		case "description":
			b, err := io.ReadAll(io.LimitReader(p, 64<<10))
			if err != nil {
				return nil, "", mpErr(41005)
			}
			desc = string(b)
		}
		_ = p.Close()
	}
	if item == nil {
		return nil, "", mpErr(41005)
	}
	return item, desc, nil
}

func readMediaPart(p *multipart.Part, typ string, rule mediaRule, permanent bool) (*mediaItem, error) {
	name := p.FileName()
	ext := strings.ToLower(path.Ext(name))
	exts := rule.tempExts
	if permanent {
		exts = rule.permExts
	}
	if !slices.Contains(exts, ext) {
		return nil, mpErr(40005)
	}
	data, err := io.ReadAll(io.LimitReader(p, rule.maxBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, mpErr(rule.sizeCode)
		}
		return nil, mpErr(41005)
	}
	if int64(len(data)) > rule.maxBytes {
		return nil, mpErr(rule.sizeCode)
	}
	if len(data) == 0 {
		return nil, mpErr(44001)
	}
	ct := p.Header.Get("Content-Type")
	if ct == "" || ct == "application/octet-stream" {
		if t := mime.TypeByExtension(ext); t != "" {
			ct = t
		} else {
			ct = "application/octet-stream"
		}
	}
	return &mediaItem{typ: typ, filename: name, contentType: ct, data: data}, nil
}

// serveMediaUpload serves POST /cgi-bin/media/upload?type=image|voice|video|thumb
// with a multipart "media" file: a temporary media valid 3 days. Limits:
// image 10 MB (png, jpeg, jpg, gif), voice 2 MB (amr, mp3), video 10 MB
// (mp4), thumb 64 KB (jpg). A thumb answers thumb_media_id.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/New_temporary_materials.html
func (e *Emulator) serveMediaUpload(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodPost, nil)
	if a == nil {
		return
	}
	typ := r.URL.Query().Get("type")
	item, _, err := readUpload(w, r, typ, false)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	now := e.Now()
	item.id, item.created = newMediaID(), now
	a.mu.Lock()
	mediaOf(a).temp[item.id] = item
	a.mu.Unlock()
	out := map[string]any{"type": typ, "created_at": now.Unix()}
	if typ == "thumb" {
		out["thumb_media_id"] = item.id
	} else {
		out["media_id"] = item.id
	}
	writeJSON(w, out)
}

// writeMediaFile answers the bytes of m as the platform does.
func writeMediaFile(w http.ResponseWriter, m *mediaItem) {
	ext := path.Ext(m.filename)
	w.Header().Set("Content-Type", m.contentType)
	w.Header().Set("Content-disposition", fmt.Sprintf(`attachment; filename="%s%s"`, m.id, ext))
	w.Header().Set("Content-Length", fmt.Sprint(len(m.data)))
	_, _ = w.Write(m.data)
}

// serveMediaGet serves GET /cgi-bin/media/get?media_id: the file (a video
// answers {"video_url":...}). An unknown or expired (3 days) media_id gives
// 40007.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html
func (e *Emulator) serveMediaGet(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	id := r.URL.Query().Get("media_id")
	if id == "" {
		e.writeAPIError(w, mpErr(41006))
		return
	}
	a.mu.Lock()
	st := mediaOf(a)
	m := st.temp[id]
	if m != nil && !e.Now().Before(m.created.Add(tempMediaLifetime)) {
		m = nil
	}
	a.mu.Unlock()
	if m == nil {
		e.writeAPIError(w, apiErr(40007))
		return
	}
	if m.typ == "video" {
		writeJSON(w, map[string]string{"video_url": "http://vweixinf.tc.qq.com/103/20202/snsdyvideodownload?filekey=" + m.id})
		return
	}
	writeMediaFile(w, m)
}

// serveAddMaterial serves POST /cgi-bin/material/add_material?type=... with
// a multipart "media" file (and, for a video, a "description" field
// {"title","introduction"}; without a title the emulator answers 40097).
// It answers {"media_id"} and, for images, "url": an address on the
// emulator's own host (/mmbiz_jpg/<key>/0?wx_fmt=jpeg) that serves the image.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Adding_Permanent_Assets.html
func (e *Emulator) serveAddMaterial(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodPost, nil)
	if a == nil {
		return
	}
	typ := r.URL.Query().Get("type")
	item, desc, err := readUpload(w, r, typ, true)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	if typ == "video" {
		var d struct {
			Title        string `json:"title"`
			Introduction string `json:"introduction"`
		}
		if desc == "" || json.Unmarshal([]byte(desc), &d) != nil || d.Title == "" {
			e.writeAPIError(w, apiErr(40097))
			return
		}
		item.title, item.introduction = d.Title, d.Introduction
	}
	item.id, item.created, item.permanent = randomString(43, tokenAlphabet), e.Now(), true
	out := map[string]string{"media_id": item.id}
	if typ == "image" {
		item.url = imageURL(r, item)
		out["url"] = item.url
	}
	a.mu.Lock()
	st := mediaOf(a)
	st.seq++
	item.seq = st.seq
	st.perm[item.id] = item
	if item.imgKey != "" {
		st.imgs[item.imgKey] = item
	}
	a.mu.Unlock()
	writeJSON(w, out)
}

type mediaIDRequest struct {
	MediaID string `json:"media_id"`
}

// serveGetMaterial serves POST /cgi-bin/material/get_material {"media_id"}:
// the file of an image, voice or thumb, or {"title","description",
// "down_url"} of a video (down_url is served by the emulator). Unknown ids give 40007.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Getting_Permanent_Assets.html
func (e *Emulator) serveGetMaterial(w http.ResponseWriter, r *http.Request) {
	var req mediaIDRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	m := mediaOf(a).perm[req.MediaID]
	a.mu.Unlock()
	if m == nil {
		e.writeAPIError(w, apiErr(40007))
		return
	}
	if m.typ == "video" {
		writeJSON(w, map[string]string{"title": m.title, "description": m.introduction,
			"down_url": requestOrigin(r) + "/mpvideo/" + m.id})
		return
	}
	writeMediaFile(w, m)
}

// serveDelMaterial serves POST /cgi-bin/material/del_material {"media_id"};
// unknown ids give 40007.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Deleting_Permanent_Assets.html
func (e *Emulator) serveDelMaterial(w http.ResponseWriter, r *http.Request) {
	var req mediaIDRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	st := mediaOf(a)
	m := st.perm[req.MediaID]
	delete(st.perm, req.MediaID)
	if m != nil && m.imgKey != "" {
		delete(st.imgs, m.imgKey)
	}
	a.mu.Unlock()
	if m == nil {
		e.writeAPIError(w, apiErr(40007))
		return
	}
	writeJSON(w, okBody)
}

// serveMaterialCount serves GET /cgi-bin/material/get_materialcount: the
// number of permanent materials by type (news is always 0 here).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_the_total_of_all_materials.html
func (e *Emulator) serveMaterialCount(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	a.mu.Lock()
	counts := map[string]int{"voice_count": 0, "video_count": 0, "image_count": 0, "news_count": 0}
	for _, m := range mediaOf(a).perm {
		if m.typ != "thumb" {
			counts[m.typ+"_count"]++
		}
	}
	a.mu.Unlock()
	writeJSON(w, counts)
}
