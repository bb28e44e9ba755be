// Package engine turns model folders into streamed text. It is the facade the API
// and the tray use: Models lists the models dir, Chat/Complete/Embed run requests
// through the pool (which loads on demand and manages memory), Subscribe streams
// pool and download events, and Search, StartDownload, Downloads and their kin
// front the Hub client and the download manager that New builds from HubOptions
// (or that tests hand to it).
//
// Under it: engine/tokenizer and engine/chat turn messages into tokens; engine/model
// describes a model and the Runner interface; engine/cpu (native kernels) and
// engine/graph (gomlx) execute it; engine/sample picks tokens (engine/sample/grammar
// constrains them for JSON and tool calls); engine/pool keeps models loaded;
// engine/hub downloads them.
//
// Requests use engine-level types (ChatRequest, Delta, Result); wire formats stay in
// the api package. Tools whose model template has no tool support are described in
// a system prompt in the Hermes format (see toolSystemPrompt), whose output the
// parser then reads.
//
// Who may import me: app, app/tray, api, api/openai and api/ollama. I import no HTTP or
// storage package.
package engine
