package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGptOssRealConfigDescribed: openai/gpt-oss-20b is supported and
// described as the 20.9B-parameter MXFP4 model it is (every expert counted:
// all are resident).
func TestGptOssRealConfigDescribed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("model", "testdata", "configs", "gpt-oss-20b.json"))
	if err != nil {
		t.Fatal(err)
	}
	info := DescribeConfig("openai/gpt-oss-20b", raw)
	if !info.Supported || info.Parameters < 20.9e9 || info.Parameters > 20.92e9 || info.Quantization != "mxfp4" {
		t.Errorf("%+v", info)
	}
}
