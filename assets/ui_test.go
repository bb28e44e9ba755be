package assets

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

func TestUIBuilt(t *testing.T) {
	tests := []struct {
		name string
		fsys fs.FS
		want bool
	}{
		{"never built", fstest.MapFS{".keep": {}}, false},
		{"built", fstest.MapFS{".keep": {}, "index.html": {Data: []byte("<!doctype html>")}}, true},
		{"index is a directory", fstest.MapFS{"index.html/x": {}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UIBuilt(tt.fsys); got != tt.want {
				t.Errorf("UIBuilt = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEmbeddedDist checks that the binary always carries the dist directory, built
// or not, rooted where the server expects it.
func TestEmbeddedDist(t *testing.T) {
	ui := UI()
	if _, err := fs.Stat(ui, ".keep"); err != nil {
		t.Fatalf("dist/.keep is not embedded: %v", err)
	}
	testenv.Need(t, UIBuilt(ui), "the built UI (make ui): only the placeholder is embedded")
	assetsDir, err := fs.ReadDir(ui, "assets")
	if err != nil || len(assetsDir) == 0 {
		t.Fatalf("a built UI has no assets/ directory (%v)", err)
	}
}
