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
// Open memory-maps the file on Unix systems (tensor data aliases the mapping and
// is valid until Close); elsewhere it reads the file into memory. Validation
// happens once, at Open: a file truncated by another process while mapped
// makes reads past its new end fault (SIGBUS), as with any mapping, so model
// files must not be rewritten in place while loaded: write a new file and
// rename it over the old one instead. OpenDir opens a
// whole model directory, single-file or sharded through model.safetensors.index.json.
// Write produces files in the same format, used by tests, benchmarks and the tiny
// model generator.
//
// Who may import me: the engine's packages.
// I import only the standard library and x/sys.
package safetensors
