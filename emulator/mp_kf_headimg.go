package emulator

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
)

// kfHeadImgMaxBytes is the size limit of a customer-service head image:
// "文件大小为5M 以内" in the documentation of uploadheadimg.
const kfHeadImgMaxBytes = 5 << 20

// Magic numbers of the head image formats the emulator accepts. The
// documentation asks for jpg ("头像图片文件必须是jpg格式"); the emulator
// takes PNG too.
var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

// kfHeadImg is the head image of a customer-service account, served at
// /mmbiz/<key>/0 like the platform's http://mmbiz.qpic.cn/mmbiz/<key>/0.
type kfHeadImg struct {
	key         string
	contentType string
	data        []byte
}

func init() {
	handle("/customservice/kfaccount/uploadheadimg", (*Emulator).serveKfUploadHeadImg)
	handlePrefix("/mmbiz/", (*Emulator).serveKfHeadImg, func(*http.Request) string { return "/mmbiz/" })
}

// imageContentType returns the content type of data by its magic number:
// image/jpeg or image/png, "" for anything else.
func imageContentType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, jpegMagic):
		return "image/jpeg"
	case bytes.HasPrefix(data, pngMagic):
		return "image/png"
	}
	return ""
}

// readKfHeadImg reads the multipart "media" part of uploadheadimg. Errors
// (all the emulator's choice but 40005, which the documentation lists as
// "上传素材文件格式不对"): 41005 no media part, 44001 an empty file, 40009
// over 5 MB, 40005 neither JPEG nor PNG by its magic number.
func readKfHeadImg(w http.ResponseWriter, r *http.Request) (*kfHeadImg, error) {
	r.Body = http.MaxBytesReader(w, r.Body, kfHeadImgMaxBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, mpErr(41005)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, mpErr(41005)
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, mpErr(40009)
			}
			return nil, mpErr(41005)
		}
		if p.FormName() != "media" {
			_ = p.Close()
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, kfHeadImgMaxBytes+1))
		_ = p.Close()
		switch {
		case err != nil:
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, mpErr(40009)
			}
			return nil, mpErr(41005)
		case len(data) > kfHeadImgMaxBytes:
			return nil, mpErr(40009)
		case len(data) == 0:
			return nil, mpErr(44001)
		}
		ct := imageContentType(data)
		if ct == "" {
			return nil, mpErr(40005)
		}
		return &kfHeadImg{contentType: ct, data: data}, nil
	}
}

// serveKfUploadHeadImg serves POST
// /customservice/kfaccount/uploadheadimg?kf_account= with a multipart
// "media" image: the head image of the account, which getkflist then gives
// as kf_headimgurl (an address the emulator serves). Errors: 40005 (not a
// JPEG or PNG image, documented), and the emulator's choices for what the
// documentation leaves open: 65401 (no such account, as kfaccount/update
// answers), 41005 (no media part), 44001 (an empty file), 40009 (over the
// documented 5 MB); 48001 for unverified accounts.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfUploadHeadImg(w http.ResponseWriter, r *http.Request) {
	a := e.kfCall(w, r, http.MethodPost, nil)
	if a == nil {
		return
	}
	name := r.URL.Query().Get("kf_account")
	a.mu.Lock()
	known := kfOf(a).account(name) != nil
	a.mu.Unlock()
	if !known {
		e.writeAPIError(w, mpErr(65401))
		return
	}
	img, err := readKfHeadImg(w, r)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	img.key = randomString(54, tokenAlphabet[:62])
	a.mu.Lock()
	defer a.mu.Unlock()
	k := kfOf(a).account(name)
	if k == nil { // deleted while the image was read
		e.writeAPIError(w, mpErr(65401))
		return
	}
	k.headImg = img
	k.HeadImgURL = requestOrigin(r) + "/mmbiz/" + img.key + "/0"
	writeJSON(w, okBody)
}

// serveKfHeadImg serves GET /mmbiz/<key>/0: the head image of a
// customer-service account, with no access_token (clients show it).
// Unknown keys, and images since replaced or deleted with their account,
// get 404.
func (e *Emulator) serveKfHeadImg(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	key, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/mmbiz/"), "/")
	for _, id := range e.appOrder {
		a := e.apps[id]
		a.mu.Lock()
		var img *kfHeadImg
		for _, k := range kfOf(a).accounts {
			if k.headImg != nil && k.headImg.key == key {
				img = k.headImg
				break
			}
		}
		a.mu.Unlock()
		if img != nil {
			writeImage(w, img.contentType, img.data)
			return
		}
	}
	http.NotFound(w, r)
}
