// Command gen draws the menu-bar and application icons into assets/icons:
//
//	go run ./assets/icons/gen            (from the repository root)
//	go generate ./assets/icons
//
// The output is committed; TestCommittedIconsAreCurrent fails when it is stale.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	out := flag.String("out", "assets/icons", "directory to write the icons to")
	flag.Parse()
	files, err := icons()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(*out, name), files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// icons renders every file by name: for each state a 22 px template, its 44 px
// @2x, and a 44 px colored icon; and the application's app.icns.
func icons() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, st := range states {
		for name, img := range map[string]struct {
			size   int
			layers []layer
		}{
			"tray-" + st + ".png":       {22, template(st)},
			"tray-" + st + "@2x.png":    {44, template(st)},
			"tray-" + st + "-color.png": {44, colored(st)},
		} {
			b, err := encode(img.size, img.layers)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			files[name] = b
		}
	}
	icns, err := appICNS()
	if err != nil {
		return nil, err
	}
	files["app.icns"] = icns
	return files, nil
}

func encode(size int, layers []layer) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, render(size, layers)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// icnsTypes are the PNG-carrying element types of an .icns file and their
// pixel sizes (16 pt @2x, 32 pt, 32 pt @2x, 128 pt, 128 pt @2x, 256 pt, 256 pt @2x,
// 512 pt; 512 pt @2x, 1024 px, is left out: it would triple the file for the App
// Store size only).
var icnsTypes = []struct {
	typ  string
	size int
}{
	{"ic11", 32}, {"ic12", 64}, {"ic07", 128}, {"ic13", 256}, {"ic08", 256},
	{"ic14", 512}, {"ic09", 512},
}

// appICNS writes an .icns container: the magic "icns" and the file length, then
// elements of a four-byte type, a four-byte length (header included) and PNG data.
func appICNS() ([]byte, error) {
	pngs := map[int][]byte{}
	var body bytes.Buffer
	for _, t := range icnsTypes {
		b, ok := pngs[t.size]
		if !ok {
			var err error
			if b, err = encode(t.size, app()); err != nil {
				return nil, fmt.Errorf("app icon %d px: %w", t.size, err)
			}
			pngs[t.size] = b
		}
		body.WriteString(t.typ)
		binary.Write(&body, binary.BigEndian, uint32(8+len(b)))
		body.Write(b)
	}
	var out bytes.Buffer
	out.WriteString("icns")
	binary.Write(&out, binary.BigEndian, uint32(8+body.Len()))
	out.Write(body.Bytes())
	return out.Bytes(), nil
}
