package ollama

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// maxImageBytes bounds one image's decoded bytes, as engine/vision does.
const maxImageBytes = 20 << 20

// images reads Ollama's images: base64 strings, placed before the text of
// their message as Ollama's own prompt assembly puts them.
func images(list []string, field string) ([]engine.Image, error) {
	var out []engine.Image
	for i, s := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if _, data, ok := strings.Cut(s, ";base64,"); ok && strings.HasPrefix(s, "data:") {
			s = data // a data: URL, as some clients send
		}
		if base64.StdEncoding.DecodedLen(len(s)) > maxImageBytes+3 {
			return nil, fieldErr(f, "image of more than %d bytes", maxImageBytes)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		if err != nil {
			return nil, fieldErr(f, "invalid base64: %v", err)
		}
		out = append(out, engine.Image{Data: b})
	}
	return out, nil
}
