package tradebill

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// MaxSize caps the size of a bill, downloaded or decompressed (256 MiB,
// about a million lines); a larger one is an error, not a truncated bill.
const MaxSize = 256 << 20

// IsGzip reports whether data starts with the gzip magic number.
func IsGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// Gunzip decompresses a bill downloaded with tar_type=GZIP, up to MaxSize
// bytes.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6
func Gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("tradebill: gunzip: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("tradebill: gunzip: %w", err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("tradebill: gunzip: bill larger than %d bytes", MaxSize)
	}
	return out, nil
}
