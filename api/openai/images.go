package openai

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Images come inline: an OpenAI image_url part (chat completions) or
// input_image part (Responses) holding a data: URL, an Anthropic image block
// with a base64 source. The engine decodes and checks the bytes (format,
// size) against the model's image processor; here only the transport is
// read. http(s) URLs are refused here: fetching them lets a request make this
// server connect somewhere, so only when an admin turns on the images setting
// does the API fetch them first (FetchImageURLs, imagefetch.go) and hand over
// inline bytes.

// maxImageBytes bounds one image's decoded bytes (OpenAI's limit is 20 MB);
// engine/vision applies the same bound to what it decodes.
const maxImageBytes = 20 << 20

// imageURLPart reads an image_url part's value: {"url": ..., "detail": ...},
// or the URL as a string as some clients send it.
func imageURLPart(raw json.RawMessage, p string) ([]byte, error) {
	var url string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &url); err != nil {
			return nil, paramErr(p, "%v", err)
		}
	} else {
		var v struct {
			URL    string `json:"url"`
			Detail string `json:"detail"`
		}
		if !present(raw) {
			return nil, paramErr(p, "is required for image_url parts")
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, paramErr(p, "%v", err)
		}
		switch v.Detail {
		case "", "auto", "low", "high":
		default:
			return nil, paramErr(p+".detail", "must be auto, low or high, got %q", v.Detail)
		}
		url, p = v.URL, p+".url"
	}
	return dataURL(url, p)
}

// dataURL decodes a data:[<media type>][;base64],<data> URL of an image.
func dataURL(url, p string) ([]byte, error) {
	switch {
	case url == "":
		return nil, paramErr(p, "is required")
	case strings.HasPrefix(url, "http://"), strings.HasPrefix(url, "https://"):
		return nil, unsupportedValue(p, "image URLs are fetched only when an admin allows it (setting image_url_fetch): send the image inline as a data: URL (data:image/png;base64,...)")
	case !strings.HasPrefix(url, "data:"):
		return nil, paramErr(p, "must be a data: URL of an image")
	}
	meta, data, ok := strings.Cut(url[len("data:"):], ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return nil, paramErr(p, "must be a base64 data: URL (data:image/png;base64,...)")
	}
	if mt := strings.TrimSuffix(meta, ";base64"); mt != "" && !strings.HasPrefix(mt, "image/") {
		return nil, paramErr(p, "media type %q is not an image", mt)
	}
	return decodeBase64(data, p)
}

// decodeBase64 reads standard base64, padded or not, within maxImageBytes.
func decodeBase64(data, p string) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(data)) > maxImageBytes+3 {
		return nil, paramErr(p, "image of more than %d bytes", maxImageBytes)
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
	}
	if err != nil {
		return nil, paramErr(p, "invalid base64: %v", err)
	}
	return b, nil
}

// anthropicImage reads an image block's source: base64 only.
func anthropicImage(raw json.RawMessage, p string) ([]byte, error) {
	var src struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		URL       string `json:"url"`
	}
	if !present(raw) {
		return nil, paramErr(p, "field required")
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		return nil, paramErr(p, "%v", err)
	}
	switch src.Type {
	case "base64":
	case "url":
		return nil, unsupportedValue(p+".type", "image URLs are fetched only when an admin allows it (setting image_url_fetch): send the image as a base64 source")
	default:
		return nil, paramErr(p+".type", "must be base64, got %q", src.Type)
	}
	switch src.MediaType {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
	default:
		return nil, paramErr(p+".media_type", "must be image/jpeg, image/png, image/gif or image/webp, got %q", src.MediaType)
	}
	return decodeBase64(src.Data, p+".data")
}

// addImage places an image at the current end of the text being built.
func addImage(imgs []engine.Image, data []byte, at int) []engine.Image {
	return append(imgs, engine.Image{Data: data, At: at})
}
