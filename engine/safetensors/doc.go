// Package safetensors reads and writes the safetensors file format: an 8-byte
// little-endian header length N, N bytes of JSON describing every tensor
// ({name: {dtype, shape, data_offsets}} plus an optional "__metadata__" map of
// strings), then the raw tensor data.
//
// Model files are untrusted input. Every header is validated against the real
// file before any tensor is handed out: a sane header length, well-formed JSON
// without duplicate names, known dtypes, shape × dtype size equal to the byte
// range, ranges inside the data area and not overlapping. A truncated or lying
// file yields an error, never a panic or an out-of-range read.
//
// Open memory-maps the file on Unix systems, except that on Linux a file of a
// huge page (2 MiB) or more is read into anonymous memory advised
// MADV_HUGEPAGE and made read-only, when transparent huge pages are on and
// the memory is available (readHuge says why: decode's speed then no longer
// depends on the folios the page cache happens to hold the file in);
// elsewhere it reads the file into memory. Tensor data aliases that memory
// and is valid until Close. Validation
// happens once, at Open: a file truncated by another process while mapped
// makes reads past its new end fault (SIGBUS), as with any mapping, so model
// files must not be rewritten in place while loaded: write a new file and
// rename it over the old one instead. OpenDir opens a
// whole model directory, single-file or sharded through model.safetensors.index.json.
// Write produces files in the same format, used by tests, benchmarks and the tiny
// model generator.
//
// Who may import me: the engine's packages.
// I import only the standard library, x/sys and internal/meminfo.
package safetensors
