// Package hub talks to the Hugging Face Hub, keeps the Hugging Face cache on disk and
// downloads models into it.
//
// Three parts, each usable alone:
//
//   - Client speaks the Hub's HTTP API: Search (/api/models with expand[] for sizes,
//     parameter counts and quantization), ModelInfo (with blobs=true: sizes and LFS
//     sha256 of every file), Tree, Config and FileMetadata (HEAD on a resolve URL). It
//     reads no environment: app/config hands it the endpoint, token and offline flag.
//     The token goes to the endpoint's own host only; a redirect to another host (the
//     LFS CDN) loses the Authorization header. Hub errors unwrap to ErrNotFound,
//     ErrGated, ErrUnauthorized and ErrRateLimited (429s are retried within Retry-After).
//
//   - Cache is the directory layout shared with huggingface_hub, mlx-lm and LM Studio:
//     models--{org}--{name}/blobs/{etag}, blobs/{etag}.incomplete while downloading,
//     refs/main, and snapshots/{commit}/{path} as relative links to ../../blobs/{etag}.
//     List reports complete models whoever downloaded them; links that leave the blobs
//     directory, partial blobs and missing shards make a model incomplete.
//
//   - Manager owns downloads. Start returns at once with a Task (the same one to every
//     caller while a repo is in flight); files download in parallel into .incomplete
//     blobs, resume with Range after any interruption (a restart included, through the
//     Journal), retry with backoff on errors and stalls, are checked against their
//     sha256 (LFS) or git blob id, and are renamed and linked into the snapshot. refs/main
//     is written last, so a model is never listed while partial. Progress goes to any
//     number of subscribers without ever blocking a download.
//
// Every file name and blob name from the Hub passes CheckFileName / the etag check
// before a path is built from it, and repo ids must satisfy ValidRepoID.
//
// Who may import me: engine, which builds the client and the download manager
// from engine.HubOptions. api, app and app/tray see search and downloads
// through the engine's facade.
// I import no HTTP server framework, storage engine or other package of ours;
// the journal is an interface the daemon backs with its store. Package hubtest is a fake Hub for tests of this package and
// of the API.
package hub
