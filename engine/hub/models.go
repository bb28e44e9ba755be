package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ModelSummary is one model as listed by a search.
type ModelSummary struct {
	ID           string    `json:"id"`
	Author       string    `json:"author,omitempty"`
	Downloads    int64     `json:"downloads"`
	Likes        int64     `json:"likes"`
	Tags         []string  `json:"tags"`
	PipelineTag  string    `json:"pipelineTag,omitempty"`
	Library      string    `json:"library,omitempty"`
	LastModified time.Time `json:"lastModified,omitzero"`
	Private      bool      `json:"private,omitempty"`
	Gated        string    `json:"gated,omitempty"`        // "", "auto" or "manual"
	TotalSize    int64     `json:"totalSize,omitempty"`    // bytes; 0 when the Hub did not say
	Parameters   int64     `json:"parameters,omitempty"`   // safetensors.total; 0 when unknown
	Quantization string    `json:"quantization,omitempty"` // "4bit", "8bit", "bf16", ...; "" when unknown
}

// ModelInfo is the full description of one repo at one revision.
type ModelInfo struct {
	ModelSummary
	SHA               string           `json:"sha"` // commit the revision resolved to
	ParametersByDType map[string]int64 `json:"parametersByDType,omitempty"`
	Files             []File           `json:"files"`
}

// File is one file of a repo. Path has passed CheckFileName.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`             // bytes; for LFS files the real content size
	BlobID string `json:"blobId,omitempty"` // git object id (sha1 of the blob or pointer)
	LFS    *LFS   `json:"lfs,omitempty"`
}

// LFS describes a file stored in Git LFS (or Xet): the content's sha256 names the blob.
type LFS struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	PointerSize int64  `json:"pointerSize,omitempty"`
}

// Etag is the blob name the cache stores the file under: the sha256 for LFS files,
// the git blob id otherwise (what the Hub sends as X-Linked-Etag / ETag).
func (f File) Etag() string {
	if f.LFS != nil {
		return f.LFS.SHA256
	}
	return f.BlobID
}

// gated decodes the Hub's `false | "auto" | "manual"`.
type gated string

func (g *gated) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("false")), bytes.Equal(b, []byte("null")):
		*g = ""
	case bytes.Equal(b, []byte("true")):
		*g = "manual"
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("gated: %w", err)
		}
		*g = gated(s)
	}
	return nil
}

// hubTime tolerates missing and malformed dates: a bad date must not hide a model.
type hubTime struct{ time.Time }

func (t *hubTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil {
		return nil
	}
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = v
	}
	return nil
}

type wireModel struct {
	ID           string           `json:"id"`
	Author       string           `json:"author"`
	SHA          string           `json:"sha"`
	Downloads    int64            `json:"downloads"`
	Likes        int64            `json:"likes"`
	Tags         []string         `json:"tags"`
	PipelineTag  string           `json:"pipeline_tag"`
	Library      string           `json:"library_name"`
	LastModified hubTime          `json:"lastModified"`
	Private      bool             `json:"private"`
	Gated        gated            `json:"gated"`
	Siblings     []wireSibling    `json:"siblings"`
	Safetensors  *wireSafetensors `json:"safetensors"`
	UsedStorage  int64            `json:"usedStorage"`
}

type wireSibling struct {
	RFilename string `json:"rfilename"`
	Size      *int64 `json:"size"`
	BlobID    string `json:"blobId"`
	LFS       *struct {
		SHA256      string `json:"sha256"`
		Size        int64  `json:"size"`
		PointerSize int64  `json:"pointerSize"`
	} `json:"lfs"`
}

type wireSafetensors struct {
	Parameters map[string]int64 `json:"parameters"`
	Total      int64            `json:"total"`
}

type wireTreeEntry struct {
	Type string `json:"type"` // "file" or "directory"
	Path string `json:"path"`
	Size int64  `json:"size"`
	OID  string `json:"oid"`
	LFS  *struct {
		OID         string `json:"oid"`
		Size        int64  `json:"size"`
		PointerSize int64  `json:"pointerSize"`
	} `json:"lfs"`
}

// decodeSearch parses GET /api/models. Entries with ids that are not org/name are
// skipped: they could never be downloaded into the cache.
func decodeSearch(b []byte) ([]ModelSummary, error) {
	var wire []wireModel
	if err := json.Unmarshal(b, &wire); err != nil {
		return nil, fmt.Errorf("%w: model list: %w", ErrBadResponse, err)
	}
	out := make([]ModelSummary, 0, len(wire))
	for i := range wire {
		if !ValidRepoID(wire[i].ID) {
			continue
		}
		files, _ := siblingFiles(wire[i].Siblings)
		out = append(out, wire[i].summary(files))
	}
	return out, nil
}

// decodeModelInfo parses GET /api/models/{repo}[/revision/{rev}]?blobs=true.
func decodeModelInfo(b []byte) (*ModelInfo, error) {
	var w wireModel
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: model info: %w", ErrBadResponse, err)
	}
	if !ValidRepoID(w.ID) {
		return nil, fmt.Errorf("%w: model info id %q", ErrBadResponse, w.ID)
	}
	files, err := siblingFiles(w.Siblings)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", w.ID, err)
	}
	info := &ModelInfo{ModelSummary: w.summary(files), SHA: w.SHA, Files: files}
	if w.Safetensors != nil {
		info.ParametersByDType = w.Safetensors.Parameters
	}
	return info, nil
}

// decodeTree parses GET /api/models/{repo}/tree/{rev}?recursive=true; directories are dropped.
func decodeTree(b []byte) ([]File, error) {
	var wire []wireTreeEntry
	if err := json.Unmarshal(b, &wire); err != nil {
		return nil, fmt.Errorf("%w: tree: %w", ErrBadResponse, err)
	}
	out := make([]File, 0, len(wire))
	for _, e := range wire {
		if e.Type != "file" {
			continue
		}
		f := File{Path: e.Path, Size: e.Size, BlobID: e.OID}
		if e.LFS != nil {
			f.LFS = &LFS{SHA256: e.LFS.OID, Size: e.LFS.Size, PointerSize: e.LFS.PointerSize}
			f.Size = e.LFS.Size
		}
		if err := checkFile(f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func siblingFiles(sibs []wireSibling) ([]File, error) {
	out := make([]File, 0, len(sibs))
	for _, s := range sibs {
		f := File{Path: s.RFilename, BlobID: s.BlobID}
		if s.Size != nil {
			f.Size = *s.Size
		}
		if s.LFS != nil {
			f.LFS = &LFS{SHA256: s.LFS.SHA256, Size: s.LFS.Size, PointerSize: s.LFS.PointerSize}
			f.Size = s.LFS.Size
		}
		if err := checkFile(f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// checkFile refuses names that could escape the snapshot and metadata that cannot
// name a blob, before anything builds a path from them.
func checkFile(f File) error {
	if err := CheckFileName(f.Path); err != nil {
		return err
	}
	if f.Size < 0 {
		return fmt.Errorf("%w: file %q has negative size", ErrBadResponse, f.Path)
	}
	if f.LFS != nil && !sha256Hex.MatchString(f.LFS.SHA256) {
		return fmt.Errorf("%w: file %q has lfs sha256 %q", ErrBadResponse, f.Path, f.LFS.SHA256)
	}
	if f.BlobID != "" && !etagPattern.MatchString(f.BlobID) {
		return fmt.Errorf("%w: file %q has blob id %q", ErrBadResponse, f.Path, f.BlobID)
	}
	return nil
}

func (w *wireModel) summary(files []File) ModelSummary {
	s := ModelSummary{
		ID:           w.ID,
		Author:       w.Author,
		Downloads:    w.Downloads,
		Likes:        w.Likes,
		Tags:         w.Tags,
		PipelineTag:  w.PipelineTag,
		Library:      w.Library,
		LastModified: w.LastModified.Time,
		Private:      w.Private,
		Gated:        string(w.Gated),
		TotalSize:    w.UsedStorage,
	}
	if s.Tags == nil {
		s.Tags = []string{}
	}
	if s.Author == "" {
		s.Author, _, _ = strings.Cut(w.ID, "/")
	}
	if sum, ok := sumSizes(files); ok {
		s.TotalSize = sum
	}
	var dtypes map[string]int64
	if w.Safetensors != nil {
		s.Parameters = w.Safetensors.Total
		dtypes = w.Safetensors.Parameters
	}
	s.Quantization = InferQuantization(w.ID, w.Tags, dtypes)
	return s
}

// sumSizes adds the file sizes when the Hub gave them (blobs=true); usedStorage counts
// every revision ever pushed, so the snapshot's own size is the better figure.
func sumSizes(files []File) (int64, bool) {
	var sum int64
	for _, f := range files {
		if f.Size == 0 && f.LFS == nil && f.BlobID == "" {
			return 0, false
		}
		sum += f.Size
	}
	return sum, len(files) > 0
}
