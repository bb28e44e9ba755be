package hub

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeSearch(t *testing.T) {
	t.Parallel()
	got, err := decodeSearch(readFixture(t, "search.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d models, want 2", len(got))
	}
	m := got[0]
	if m.ID != "mlx-community/Llama-3.2-1B-Instruct-4bit" || m.Downloads != 52341 || m.Likes != 31 ||
		m.PipelineTag != "text-generation" || m.Library != "mlx" || m.Author != "mlx-community" {
		t.Errorf("summary fields wrong: %+v", m)
	}
	if want := time.Date(2024, 10, 2, 14, 12, 45, 0, time.UTC); !m.LastModified.Equal(want) {
		t.Errorf("lastModified = %v, want %v", m.LastModified, want)
	}
	if m.Parameters != 229738496 || m.TotalSize != 712514564 || m.Quantization != "4bit" {
		t.Errorf("parameters/size/quant = %d/%d/%q", m.Parameters, m.TotalSize, m.Quantization)
	}
	if got[1].Gated != "manual" || got[1].Quantization != "bf16" {
		t.Errorf("second model gated=%q quant=%q", got[1].Gated, got[1].Quantization)
	}
}

func TestDecodeModelInfo(t *testing.T) {
	t.Parallel()
	info, err := decodeModelInfo(readFixture(t, "modelinfo.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA != "08231374eeb3d6f8e4fbe5a8b0c8e2d0f3f8a1c2" || len(info.Files) != 8 {
		t.Fatalf("sha %q, %d files", info.SHA, len(info.Files))
	}
	var sum int64
	for _, f := range info.Files {
		sum += f.Size
	}
	if info.TotalSize != sum {
		t.Errorf("TotalSize = %d, want the sum of the files %d", info.TotalSize, sum)
	}
	var st File
	for _, f := range info.Files {
		if f.Path == "model.safetensors" {
			st = f
		}
	}
	if st.LFS == nil || st.Etag() != st.LFS.SHA256 || st.Size != 695283921 {
		t.Errorf("model.safetensors = %+v", st)
	}
	if info.ParametersByDType["U32"] != 167772160 {
		t.Errorf("parameters by dtype = %v", info.ParametersByDType)
	}
}

func TestDecodeTree(t *testing.T) {
	t.Parallel()
	files, err := decodeTree(readFixture(t, "tree.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("got %d files, want 4 (directories dropped)", len(files))
	}
	if f := files[3]; f.Path != "original/tokenizer.model" || f.LFS == nil || f.Size != 2183982 {
		t.Errorf("nested LFS file = %+v", f)
	}
}

func TestDecodeRefusesUnsafeNames(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"dotdot":    `{"id":"a/b","sha":"0123456789012345678901234567890123456789","siblings":[{"rfilename":"../../evil"}]}`,
		"absolute":  `{"id":"a/b","siblings":[{"rfilename":"/etc/passwd"}]}`,
		"backslash": `{"id":"a/b","siblings":[{"rfilename":"a\\..\\b"}]}`,
		"bad lfs":   `{"id":"a/b","siblings":[{"rfilename":"x","lfs":{"sha256":"../x","size":1}}]}`,
		"bad blob":  `{"id":"a/b","siblings":[{"rfilename":"x","blobId":"../../x"}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeModelInfo([]byte(body))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrUnsafePath) && !errors.Is(err, ErrBadResponse) {
				t.Errorf("error %v is neither ErrUnsafePath nor ErrBadResponse", err)
			}
		})
	}
	if _, err := decodeTree([]byte(`[{"type":"file","path":"a/../../b","size":1,"oid":"x"}]`)); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("tree with traversal: %v", err)
	}
}

func TestInferQuantization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id     string
		tags   []string
		dtypes map[string]int64
		want   string
	}{
		{"mlx-community/Llama-3.2-1B-Instruct-4bit", nil, nil, "4bit"},
		{"mlx-community/Qwen3-8B-8bit", nil, nil, "8bit"},
		{"mlx-community/Qwen3-8B-MLX-bf16", nil, nil, "bf16"},
		{"org/model-3-bit", nil, nil, "3bit"},
		{"org/model-q4", nil, nil, "4bit"},
		{"org/gpt-oss-20b-MXFP4-Q8", nil, nil, "mxfp4"},
		{"org/model-fp16", nil, nil, "fp16"},
		{"org/plain", []string{"mlx", "4-bit"}, nil, "4bit"},
		{"org/plain", nil, map[string]int64{"BF16": 10, "U32": 40}, "quantized"},
		{"org/plain", nil, map[string]int64{"F32": 10}, "fp32"},
		{"org/plain", nil, map[string]int64{"F32": 10, "BF16": 3}, ""},
		{"org/Phi-4", nil, nil, ""},
		{"org/Llama-3.1-8B", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := InferQuantization(tt.id, tt.tags, tt.dtypes); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func addFixtures(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(readFixture(f, n))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"a/b","gated":true,"lastModified":"nope","siblings":[{"rfilename":"x","size":-1}]}`))
}

// The fuzz targets check that Hub JSON never panics the decoder and that every file
// name that comes out is safe to join under a snapshot.
func FuzzDecodeSearch(f *testing.F) {
	addFixtures(f, "search.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		models, err := decodeSearch(b)
		if err != nil {
			return
		}
		for _, m := range models {
			if !ValidRepoID(m.ID) {
				t.Fatalf("invalid id %q returned", m.ID)
			}
		}
	})
}

func FuzzDecodeModelInfo(f *testing.F) {
	addFixtures(f, "modelinfo.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := decodeModelInfo(b)
		if err != nil {
			return
		}
		checkFuzzedFiles(t, info.Files)
	})
}

func FuzzDecodeTree(f *testing.F) {
	addFixtures(f, "tree.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := decodeTree(b)
		if err != nil {
			return
		}
		checkFuzzedFiles(t, files)
	})
}

func checkFuzzedFiles(t *testing.T, files []File) {
	t.Helper()
	for _, f := range files {
		if err := CheckFileName(f.Path); err != nil {
			t.Fatalf("unsafe name returned: %v", err)
		}
		if f.Size < 0 {
			t.Fatalf("negative size for %q", f.Path)
		}
		if e := f.Etag(); e != "" && checkEtag(e) != nil {
			t.Fatalf("unsafe etag %q returned", e)
		}
	}
}
