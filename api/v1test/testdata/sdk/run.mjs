// Drives the daemon's /v1 API with the official OpenAI and Anthropic SDKs, exactly
// as users do: BASE_URL is http://127.0.0.1:port (the OpenAI client gets /v1
// appended, the Anthropic one appends it itself), API_KEY an API key, MODEL a local
// model id. It prints one JSON object with what every scenario observed; the Go
// test (sdk_node_test.go) asserts on it. A scenario that throws records the error.
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';

// TOOLS_MODEL, when set, names a model with a real tokenizer and chat template
// (tools_node_test.go): then only the tool and structured output scenarios run.
const { BASE_URL, API_KEY, MODEL, TOOLS_MODEL, EMBED_MODEL } = process.env;
const openai = new OpenAI({ baseURL: BASE_URL + '/v1', apiKey: API_KEY, maxRetries: 0, timeout: 60_000 });
// apiKey goes in x-api-key, as Claude Code and the SDKs send it by default.
const anthropic = new Anthropic({ baseURL: BASE_URL, apiKey: API_KEY, maxRetries: 0, timeout: 60_000 });
const user = (content) => [{ role: 'user', content }];

function describe(e) {
  if (e instanceof OpenAI.APIError || e instanceof Anthropic.APIError) {
    return { status: e.status, type: e.type ?? e.error?.error?.type ?? e.error?.type, code: e.code ?? null,
      param: e.param ?? null, message: e.message, body: e.error ?? null, name: e.constructor.name };
  }
  return { name: e?.constructor?.name, message: String(e?.message ?? e) };
}

async function expectError(fn) {
  try {
    await fn();
    return { status: 0, message: 'no error' };
  } catch (e) {
    return describe(e);
  }
}

const scenarios = {
  // The Responses API: an answer, the SDK's stream helper, previous_response_id
  // and retrieve/delete of the stored response.
  async responses() {
    // The stream helper's final response has no output_text (the SDK adds it to
    // created responses only) and keeps the status of response.created when the
    // stream ends with response.incomplete, as it does against OpenAI.
    const textOf = (resp) => resp.output.filter((o) => o.type === 'message')
      .flatMap((o) => o.content.map((c) => c.text)).join('');
    const params = { model: MODEL, instructions: 'Be brief.', input: 'Hello', max_output_tokens: 5, temperature: 0 };
    const r = await openai.responses.create(params);
    const events = [];
    const stream = openai.responses.stream(params);
    let deltas = '';
    stream.on('response.output_text.delta', (ev) => { deltas += ev.delta; });
    for await (const ev of stream) events.push(ev.type);
    const streamed = await stream.finalResponse();
    const next = await openai.responses.create({ model: MODEL, previous_response_id: r.id,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'And then?' }] }], max_output_tokens: 3, temperature: 0 });
    const got = await openai.responses.retrieve(r.id);
    const deleted = await openai.responses.delete(r.id);
    const gone = await expectError(() => openai.responses.retrieve(r.id));
    return { id: r.id, object: r.object, status: r.status, output_text: r.output_text, usage: r.usage,
      types: r.output.map((o) => o.type), events, deltas, streamed_text: textOf(streamed),
      next: { previous: next.previous_response_id, input_tokens: next.usage.input_tokens, output_text: next.output_text },
      retrieved: { id: got.id, output_text: got.output_text }, deleted: deleted ?? null, gone };
  },

  async models() {
    const ids = [];
    for await (const m of openai.models.list()) ids.push({ id: m.id, object: m.object, owned_by: m.owned_by });
    const one = await openai.models.retrieve(MODEL); // the SDK escapes the slash of org/name
    return { ids, retrieved: { id: one.id, object: one.object, owned_by: one.owned_by } };
  },

  async chat() {
    const r = await openai.chat.completions.create({ model: MODEL, messages: user('Hello'), max_tokens: 5, temperature: 0 });
    return { id: r.id, object: r.object, model: r.model, fingerprint: r.system_fingerprint, created: r.created,
      content: r.choices[0].message.content, role: r.choices[0].message.role,
      finish_reason: r.choices[0].finish_reason, usage: r.usage };
  },

  async chatStream() {
    const stream = await openai.chat.completions.create({ model: MODEL, messages: user('Hello'), max_tokens: 5,
      temperature: 0, stream: true, stream_options: { include_usage: true } });
    let content = '', firstRole = null, finish = null, usage = null, chunks = 0;
    const ids = new Set();
    for await (const chunk of stream) {
      chunks++;
      ids.add(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (firstRole === null) firstRole = c.delta.role ?? '';
        content += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    return { content, first_role: firstRole, finish_reason: finish, usage, chunks, ids: ids.size };
  },

  async chatLogprobs() {
    const r = await openai.chat.completions.create({ model: MODEL, messages: user('Hi'), max_tokens: 3, temperature: 0,
      logprobs: true, top_logprobs: 2 });
    const lp = r.choices[0].logprobs.content;
    return { tokens: lp.length, top: lp.map((t) => t.top_logprobs.length), logprob: lp[0].logprob,
      completion_tokens: r.usage.completion_tokens };
  },

  async completions() {
    const r = await openai.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 4, temperature: 0 });
    const stream = await openai.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 4,
      temperature: 0, stream: true });
    let streamed = '', finish = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        streamed += c.text;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    return { object: r.object, text: r.choices[0].text, finish_reason: r.choices[0].finish_reason, usage: r.usage,
      streamed, stream_finish: finish };
  },

  async embeddings() {
    // The SDK asks for base64 unless told otherwise and decodes it itself.
    const r = await openai.embeddings.create({ model: EMBED_MODEL, input: ['a cat', 'a dog'] });
    const norms = r.data.map((d) => Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0)));
    const f = await openai.embeddings.create({ model: EMBED_MODEL, input: 'a cat', encoding_format: 'float', dimensions: 8 });
    // The base64 vectors the SDK decoded must equal the float ones.
    const fl = await openai.embeddings.create({ model: EMBED_MODEL, input: ['a cat', 'a dog'], encoding_format: 'float' });
    const b64_matches = r.data.every((d, i) => d.embedding.every((x, k) => x === Math.fround(fl.data[i].embedding[k])));
    // A chat model is refused with the OpenAI error the SDK raises.
    const chat_model = await expectError(() => openai.embeddings.create({ model: MODEL, input: 'a cat' }));
    return { count: r.data.length, dims: r.data[0].embedding.length, norms, usage: r.usage,
      same: JSON.stringify(r.data[0].embedding.slice(0, 4)) !== JSON.stringify(r.data[1].embedding.slice(0, 4)),
      small_dims: f.data[0].embedding.length, b64_matches, chat_model };
  },

  async errors() {
    return {
      not_found: await expectError(() => openai.chat.completions.create({ model: 'nobody/nothing', messages: user('x') })),
      bad_param: await expectError(() => openai.chat.completions.create({ model: MODEL, messages: user('x'), temperature: 3 })),
      unknown_field: await expectError(() => openai.chat.completions.create({ model: MODEL, messages: user('x'), bogus: 1 })),
      image: await expectError(() => openai.chat.completions.create({ model: MODEL,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] })),
      too_long: await expectError(() => openai.chat.completions.create({ model: MODEL, messages: user('x'), max_tokens: 100000 })),
      bad_key: await expectError(() => new OpenAI({ baseURL: BASE_URL + '/v1', apiKey: 'sk-wrong', maxRetries: 0 })
        .models.list()),
    };
  },

  async anthropic() {
    const r = await anthropic.messages.create({ model: MODEL, max_tokens: 5, messages: user('Hello'), temperature: 0 });
    const stream = anthropic.messages.stream({ model: MODEL, max_tokens: 5, messages: user('Hello'), temperature: 0 });
    const events = [];
    stream.on('streamEvent', (ev) => events.push(ev.type));
    const final = await stream.finalMessage();
    const err = await expectError(() => anthropic.messages.create({ model: 'nobody/nothing', max_tokens: 5, messages: user('x') }));
    const missing = await expectError(() => anthropic.messages.create({ model: MODEL, messages: user('x') }));
    return {
      id: r.id, type: r.type, role: r.role, model: r.model, stop_reason: r.stop_reason, usage: r.usage,
      content: r.content.map((b) => ({ type: b.type, text: b.text })),
      stream: { events, stop_reason: final.stop_reason, usage: final.usage,
        text: final.content.filter((b) => b.type === 'text').map((b) => b.text).join('') },
      not_found: err, missing_max_tokens: missing,
    };
  },
};

// Structured outputs and tools the way applications use them: parse() with a
// JSON schema or a zod schema, strict tools (parsed_arguments), streamed calls
// put together by the SDKs, Anthropic tool_use. The model has random weights:
// only the server's grammars make these parse.
const weatherSchema = {
  type: 'object', additionalProperties: false, required: ['city', 'unit', 'days'],
  properties: {
    city: { type: 'string', maxLength: 12 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { anyOf: [{ type: 'integer', minimum: 1, maximum: 7 }, { type: 'null' }] },
  },
};
const Weather = z.object({
  city: z.string().max(12),
  unit: z.enum(['celsius', 'fahrenheit']),
  days: z.number().int().min(1).max(7).nullable(),
  tags: z.array(z.enum(['sun', 'rain'])).max(2),
});
const weatherTool = { type: 'function', function: { name: 'get_weather', strict: true, parameters: weatherSchema } };
const timeTool = zodFunction({ name: 'get_time', parameters: z.object({ zone: z.enum(['UTC', 'CET']) }) });
const calls = (m) => (m.tool_calls ?? []).map((c) => ({ id: c.id, type: c.type, name: c.function.name,
  arguments: c.function.arguments, parsed: c.function.parsed_arguments ?? null }));

const toolScenarios = {
  // A function tool round trip on the Responses API: a forced call (create and
  // the SDK's stream helper), its output sent back with previous_response_id.
  async responsesTools() {
    const tools = [{ type: 'function', name: 'get_weather', strict: true, parameters: weatherSchema }];
    const params = { model: TOOLS_MODEL, input: 'Weather in Paris?', tools, tool_choice: 'required', temperature: 1,
      parallel_tool_calls: false, max_output_tokens: 200 };
    const r = await openai.responses.create({ ...params, seed: 5 });
    const stream = openai.responses.stream({ ...params, seed: 5 });
    let argDeltas = 0;
    stream.on('response.function_call_arguments.delta', () => argDeltas++);
    const streamed = await stream.finalResponse();
    const callOf = (resp) => resp.output.filter((o) => o.type === 'function_call')
      .map((o) => ({ id: o.id, call_id: o.call_id, name: o.name, arguments: o.arguments, status: o.status }));
    const call = callOf(r)[0];
    const next = await openai.responses.create({ model: TOOLS_MODEL, previous_response_id: r.id, tools, max_output_tokens: 5,
      temperature: 0, input: [{ type: 'function_call_output', call_id: call.call_id, output: '21 degrees' }] });
    return { status: r.status, calls: callOf(r), streamed: callOf(streamed), arg_deltas: argDeltas,
      round_trip: { status: next.status, types: next.output.map((o) => o.type), input_tokens: next.usage.input_tokens,
        first_input_tokens: r.usage.input_tokens } };
  },

  async parseJSONSchema() {
    const r = await openai.chat.completions.parse({ model: TOOLS_MODEL, messages: user('Weather in Paris, as JSON.'),
      temperature: 1, seed: 3, max_completion_tokens: 200,
      response_format: { type: 'json_schema', json_schema: { name: 'weather', strict: true, schema: weatherSchema } } });
    const m = r.choices[0].message;
    return { parsed: m.parsed, content: m.content, finish_reason: r.choices[0].finish_reason };
  },

  async parseZod() {
    const r = await openai.chat.completions.parse({ model: TOOLS_MODEL, messages: user('Weather in Paris, as JSON.'),
      temperature: 1, seed: 4, max_completion_tokens: 200, response_format: zodResponseFormat(Weather, 'weather') });
    const m = r.choices[0].message;
    return { parsed: m.parsed, valid: Weather.safeParse(m.parsed).success, finish_reason: r.choices[0].finish_reason };
  },

  async parseTools() {
    const out = {};
    for (const [name, tool_choice] of [['required', 'required'], ['named', { type: 'function', function: { name: 'get_time' } }]]) {
      const r = await openai.chat.completions.parse({ model: TOOLS_MODEL, messages: user('Weather in Paris?'), temperature: 1,
        seed: 5, max_completion_tokens: 200, tools: [weatherTool, timeTool], tool_choice, parallel_tool_calls: false });
      // parsed_arguments: zod's parse for get_time, JSON.parse for the strict get_weather.
      out[name] = { finish_reason: r.choices[0].finish_reason, calls: calls(r.choices[0].message) };
    }
    return out;
  },

  async streamTools() {
    const params = { model: TOOLS_MODEL, messages: user('Weather in Paris and the time?'), temperature: 1, seed: 9,
      max_completion_tokens: 400, tools: [weatherTool, timeTool], tool_choice: 'required' };
    const answer = await openai.chat.completions.create(params);
    const stream = openai.chat.completions.stream(params);
    let deltas = 0;
    stream.on('tool_calls.function.arguments.delta', () => deltas++);
    const final = await stream.finalChatCompletion();
    return { answer: calls(answer.choices[0].message), streamed: calls(final.choices[0].message), deltas,
      finish_reason: final.choices[0].finish_reason, answer_finish: answer.choices[0].finish_reason };
  },

  async anthropicTools() {
    const tools = [{ name: 'get_weather', input_schema: weatherSchema },
      { name: 'get_time', input_schema: { type: 'object', properties: { zone: { enum: ['UTC', 'CET'] } }, required: ['zone'] } }];
    const params = { model: TOOLS_MODEL, max_tokens: 200, temperature: 0, tools, tool_choice: { type: 'any' },
      messages: user('Weather in Paris?') };
    const r = await anthropic.messages.create(params);
    const stream = anthropic.messages.stream(params);
    let jsonDeltas = 0;
    stream.on('inputJson', () => jsonDeltas++);
    const final = await stream.finalMessage();
    const uses = (m) => m.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, input: b.input }));
    const first = r.content.find((b) => b.type === 'tool_use');
    const again = await anthropic.messages.create({ ...params, tool_choice: { type: 'auto' }, max_tokens: 5, messages: [
      { role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: r.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: first.id, content: '21 degrees' }] }] });
    return { stop_reason: r.stop_reason, uses: uses(r), streamed: uses(final), stream_stop: final.stop_reason, json_deltas: jsonDeltas,
      round_trip: { stop_reason: again.stop_reason, input_tokens: again.usage.input_tokens + (again.usage.cache_read_input_tokens ?? 0),
        first_input_tokens: r.usage.input_tokens + (r.usage.cache_read_input_tokens ?? 0) } };
  },
};

const out = {};
for (const [name, run] of Object.entries(TOOLS_MODEL ? toolScenarios : scenarios)) {
  try {
    out[name] = await run();
  } catch (e) {
    out[name] = { thrown: describe(e) };
  }
}
console.log(JSON.stringify(out));
