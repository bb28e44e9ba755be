package openai

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// MaxImageBytes bounds one image, inline or fetched.
const MaxImageBytes = maxImageBytes

// The http(s) image URLs of a request are fetched before it is converted,
// and only when an admin allowed fetching: each remote image part of a user
// message is replaced by the same part with the bytes inline, so that the
// conversion then reads it like any inline image. Otherwise the conversion
// refuses such URLs as before. A failed fetch is a 400 naming the part.

// remoteImage is how one API spells an image part that names a URL.
type remoteImage struct {
	// url is the part's http(s) URL, if it is an image part that has one.
	url func(raw json.RawMessage) (string, bool)
	// inline is the part with data in place of the URL; its errors are the
	// client's (bytes that are not an image).
	inline func(raw json.RawMessage, data []byte) (json.RawMessage, error)
	field  string // the URL's path within the part, for errors
}

// fetchContent fetches the remote images of one message's content (parts in
// an array; a string has none) and rewrites it when any were found.
func fetchContent(content *json.RawMessage, p string, kind remoteImage, fetch func(url string) ([]byte, error)) error {
	if len(*content) == 0 || (*content)[0] != '[' {
		return nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(*content, &parts); err != nil {
		return nil // the conversion reports the malformed content with its path
	}
	changed := false
	for j, raw := range parts {
		url, ok := kind.url(raw)
		if !ok {
			continue
		}
		pp := fmt.Sprintf("%s[%d]%s", p, j, kind.field)
		data, err := fetch(url)
		if err != nil {
			return paramErr(pp, "cannot fetch the image: %v", err)
		}
		part, err := kind.inline(raw, data)
		if err != nil {
			return paramErr(pp, "%v", err)
		}
		parts[j], changed = part, true
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(parts)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	*content = out
	return nil
}

// FetchImageURLs fetches the image_url parts of user messages that name
// http(s) URLs (see fetchContent).
func (r *ChatRequest) FetchImageURLs(fetch func(url string) ([]byte, error)) error {
	for i := range r.Messages {
		if m := &r.Messages[i]; m.Role == "user" {
			if err := fetchContent(&m.Content, fmt.Sprintf("messages[%d].content", i), chatImage, fetch); err != nil {
				return err
			}
		}
	}
	return nil
}

// chatImage is an image_url part, {"url": ...} or the URL as a string.
var chatImage = remoteImage{
	field: ".image_url.url",
	url: func(raw json.RawMessage) (string, bool) {
		var part ContentPart
		if json.Unmarshal(raw, &part) != nil || part.Type != "image_url" || len(part.ImageURL) == 0 {
			return "", false
		}
		var url string
		if part.ImageURL[0] == '"' {
			if json.Unmarshal(part.ImageURL, &url) != nil {
				return "", false
			}
		} else {
			var v struct {
				URL string `json:"url"`
			}
			if json.Unmarshal(part.ImageURL, &v) != nil {
				return "", false
			}
			url = v.URL
		}
		return url, isRemote(url)
	},
	inline: func(_ json.RawMessage, data []byte) (json.RawMessage, error) {
		return json.Marshal(map[string]any{"type": "image_url",
			"image_url": map[string]string{"url": "data:;base64," + base64.StdEncoding.EncodeToString(data)}})
	},
}

// FetchImageURLs fetches the input_image parts of user message items whose
// image_url is an http(s) URL (see fetchContent). A string input has none.
func (r *ResponsesRequest) FetchImageURLs(fetch func(url string) ([]byte, error)) error {
	if len(r.Input) == 0 || r.Input[0] != '[' {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(r.Input, &items) != nil {
		return nil // the conversion reports it
	}
	changed := false
	for i, raw := range items {
		var it map[string]json.RawMessage
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		var typ, role string
		_ = json.Unmarshal(it["type"], &typ)
		_ = json.Unmarshal(it["role"], &role)
		content, ok := it["content"]
		if (typ != "" && typ != "message") || role != "user" || !ok {
			continue
		}
		before := string(content)
		if err := fetchContent(&content, fmt.Sprintf("input[%d].content", i), responsesImage, fetch); err != nil {
			return err
		}
		if string(content) == before {
			continue
		}
		it["content"] = content
		out, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("input[%d]: %w", i, err)
		}
		items[i], changed = out, true
	}
	if changed {
		out, err := json.Marshal(items)
		if err != nil {
			return fmt.Errorf("input: %w", err)
		}
		r.Input = out
	}
	return nil
}

// responsesImage is an input_image part; its other fields (detail) are kept.
var responsesImage = remoteImage{
	field: ".image_url",
	url: func(raw json.RawMessage) (string, bool) {
		var part struct {
			Type     string `json:"type"`
			ImageURL string `json:"image_url"`
		}
		if json.Unmarshal(raw, &part) != nil || part.Type != "input_image" {
			return "", false
		}
		return part.ImageURL, isRemote(part.ImageURL)
	},
	inline: func(raw json.RawMessage, data []byte) (json.RawMessage, error) {
		return withField(raw, "image_url", "data:;base64,"+base64.StdEncoding.EncodeToString(data))
	},
}

// FetchImageURLs fetches the image blocks of user messages whose source is a
// URL (see fetchContent), giving base64 sources with the media type the bytes
// show.
func (r *MessagesRequest) FetchImageURLs(fetch func(url string) ([]byte, error)) error {
	for i := range r.Messages {
		if m := &r.Messages[i]; m.Role == "user" {
			if err := fetchContent(&m.Content, fmt.Sprintf("messages[%d].content", i), anthropicURLImage, fetch); err != nil {
				return err
			}
		}
	}
	return nil
}

// anthropicURLImage is an image block with {"type": "url", "url": ...} as its
// source; the block's other fields (cache_control) are kept.
var anthropicURLImage = remoteImage{
	field: ".source.url",
	url: func(raw json.RawMessage) (string, bool) {
		var b struct {
			Type   string `json:"type"`
			Source struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"source"`
		}
		if json.Unmarshal(raw, &b) != nil || b.Type != "image" || b.Source.Type != "url" {
			return "", false
		}
		return b.Source.URL, isRemote(b.Source.URL)
	},
	inline: func(raw json.RawMessage, data []byte) (json.RawMessage, error) {
		mt := http.DetectContentType(data)
		switch mt {
		case "image/jpeg", "image/png", "image/gif", "image/webp":
		default:
			return nil, fmt.Errorf("the URL's content is not a JPEG, PNG, GIF or WebP image (%s)", mt)
		}
		return withField(raw, "source", map[string]string{"type": "base64", "media_type": mt,
			"data": base64.StdEncoding.EncodeToString(data)})
	},
}

// withField is the JSON object raw with key set to v, its other keys kept.
func withField(raw json.RawMessage, key string, v any) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	obj[key] = b
	return json.Marshal(obj)
}

func isRemote(url string) bool {
	return strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")
}
