package openai

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// MaxImageBytes bounds one image, inline or fetched.
const MaxImageBytes = maxImageBytes

// FetchImageURLs replaces every http(s) image_url of the request's user
// messages with a data: URL of the bytes fetch returns, so that Engine then
// reads it like an inline image. The API calls it only when an admin allowed
// fetching; otherwise Engine refuses such URLs as before. A failed fetch is a
// 400 naming the part.
func (r *ChatRequest) FetchImageURLs(fetch func(url string) ([]byte, error)) error {
	for i := range r.Messages {
		m := &r.Messages[i]
		if m.Role != "user" || len(m.Content) == 0 || m.Content[0] != '[' {
			continue
		}
		var parts []json.RawMessage
		if err := json.Unmarshal(m.Content, &parts); err != nil {
			continue // Engine reports the malformed content with its path
		}
		changed := false
		for j, raw := range parts {
			url, ok := remoteImageURL(raw)
			if !ok {
				continue
			}
			p := fmt.Sprintf("messages[%d].content[%d].image_url.url", i, j)
			data, err := fetch(url)
			if err != nil {
				return paramErr(p, "cannot fetch the image: %v", err)
			}
			part, err := json.Marshal(map[string]any{"type": "image_url",
				"image_url": map[string]string{"url": "data:;base64," + base64.StdEncoding.EncodeToString(data)}})
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			parts[j], changed = part, true
		}
		if changed {
			content, err := json.Marshal(parts)
			if err != nil {
				return fmt.Errorf("messages[%d].content: %w", i, err)
			}
			m.Content = content
		}
	}
	return nil
}

// remoteImageURL is the http(s) URL of an image_url part, in either of its
// forms ({"url": ...} or the URL as a string).
func remoteImageURL(raw json.RawMessage) (string, bool) {
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
	if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
		return url, true
	}
	return "", false
}
