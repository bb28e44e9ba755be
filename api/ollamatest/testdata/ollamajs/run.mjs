// Drives the daemon's Ollama-compatible API with the official ollama npm
// package, as Open WebUI and other JavaScript clients do: BASE_URL is
// http://127.0.0.1:port, API_KEY an API key (sent as Authorization: Bearer),
// MODEL a local model id. It prints one JSON object with what every scenario
// observed; the Go test (node_test.go) asserts on it. A scenario that throws
// records the error.
import { Ollama } from 'ollama';

const { BASE_URL, API_KEY, MODEL, EMBED_MODEL } = process.env;
const ollama = new Ollama({ host: BASE_URL, headers: { Authorization: `Bearer ${API_KEY}` } });
const options = { temperature: 0, num_predict: 6, seed: 1 };
const messages = [{ role: 'user', content: 'why is the sky blue?' }];

const timings = (r) => ({ total_duration: r.total_duration, load_duration: r.load_duration,
  prompt_eval_count: r.prompt_eval_count, prompt_eval_duration: r.prompt_eval_duration,
  eval_count: r.eval_count, eval_duration: r.eval_duration });

const scenarios = {
  async version() {
    return await ollama.version();
  },

  async list() {
    const r = await ollama.list();
    return { names: r.models.map((m) => m.name), first: r.models[0] };
  },

  async show() {
    const r = await ollama.show({ model: MODEL });
    return { modelfile: r.modelfile, details: r.details, architecture: r.model_info['general.architecture'] };
  },

  async chat() {
    const r = await ollama.chat({ model: MODEL, messages, options });
    return { role: r.message.role, content: r.message.content, done: r.done, done_reason: r.done_reason, ...timings(r) };
  },

  async chatStream() {
    const stream = await ollama.chat({ model: MODEL, messages, options, stream: true });
    let content = '', parts = 0, last = null;
    for await (const part of stream) {
      parts++;
      content += part.message.content;
      last = part;
    }
    return { content, parts, done: last.done, done_reason: last.done_reason, ...timings(last) };
  },

  async generate() {
    const r = await ollama.generate({ model: MODEL, prompt: 'why is the sky blue?', options });
    return { response: r.response, done: r.done, ...timings(r) };
  },

  async generateStream() {
    const stream = await ollama.generate({ model: MODEL, prompt: 'why is the sky blue?', options, stream: true });
    let response = '', last = null;
    for await (const part of stream) {
      response += part.response;
      last = part;
    }
    return { response, done: last.done, ...timings(last) };
  },

  async embed() {
    const r = await ollama.embed({ model: EMBED_MODEL, input: ['why is the sky blue?', 'hello'] });
    return { model: r.model, count: r.embeddings.length, dims: r.embeddings[0].length, prompt_eval_count: r.prompt_eval_count };
  },

  async ps() {
    const r = await ollama.ps();
    return { names: r.models.map((m) => m.name), size: r.models[0]?.size, expires_at: r.models[0]?.expires_at };
  },

  async copyAndDelete() {
    await ollama.copy({ source: MODEL, destination: 'js-copy' });
    const afterCopy = (await ollama.list()).models.map((m) => m.name);
    const viaCopy = await ollama.chat({ model: 'js-copy', messages, options });
    return { afterCopy, viaCopyModel: viaCopy.model };
  },

  async pull() {
    const stream = await ollama.pull({ model: process.env.PULL_MODEL, stream: true });
    const statuses = [];
    let total = 0, completed = 0;
    for await (const part of stream) {
      statuses.push(part.status);
      if (part.total) ({ total, completed } = part);
    }
    const single = await ollama.pull({ model: process.env.PULL_MODEL });
    const names = (await ollama.list()).models.map((m) => m.name);
    return { first: statuses[0], last: statuses.at(-1), total, completed, single: single.status, names };
  },

  async notFound() {
    try {
      await ollama.chat({ model: 'nope/missing', messages });
      return { status: 0 };
    } catch (e) {
      return { name: e.name, status: e.status_code, error: e.error };
    }
  },

  async streamedError() {
    try {
      const stream = await ollama.chat({ model: MODEL, messages, stream: true, options: { num_ctx: 4 } });
      for await (const part of stream) void part;
      return { status: 0 };
    } catch (e) {
      return { name: e.name, status: e.status_code, error: e.error ?? e.message };
    }
  },
};

const out = {};
for (const [name, fn] of Object.entries(scenarios)) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { thrown: { name: e?.name, message: String(e?.message ?? e), status: e?.status_code } };
  }
}
// Last: deleting the model the other scenarios use.
try {
  await ollama.delete({ model: process.env.DELETE_MODEL });
  out.delete = { names: (await ollama.list()).models.map((m) => m.name) };
} catch (e) {
  out.delete = { thrown: { name: e?.name, message: String(e?.message ?? e), status: e?.status_code } };
}
console.log(JSON.stringify(out));
