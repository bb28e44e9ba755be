// Drives a front daemon that routes to a backend daemon (route_node_test.go) with
// the official SDKs: each scenario asks the front in one protocol for a model the
// front routes to the backend's other protocol, then asks the backend directly in
// that protocol, so the Go test can check the translation changed nothing.
// FRONT_URL/FRONT_KEY: the router; BACK_URL/BACK_KEY: the backend; MODEL and
// TOOLS_MODEL: the backend's model ids; the routed names are fixed (see the test).
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const { FRONT_URL, FRONT_KEY, BACK_URL, BACK_KEY, MODEL, TOOLS_MODEL } = process.env;
const opts = { maxRetries: 0, timeout: 60_000 };
const front = { openai: new OpenAI({ baseURL: FRONT_URL + '/v1', apiKey: FRONT_KEY, ...opts }),
  anthropic: new Anthropic({ baseURL: FRONT_URL, apiKey: FRONT_KEY, ...opts }) };
const back = { openai: new OpenAI({ baseURL: BACK_URL + '/v1', apiKey: BACK_KEY, ...opts }),
  anthropic: new Anthropic({ baseURL: BACK_URL, apiKey: BACK_KEY, ...opts }) };
const user = (content) => [{ role: 'user', content }];

const weatherSchema = { type: 'object', additionalProperties: false, required: ['city', 'unit'],
  properties: { city: { type: 'string', maxLength: 12 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } } };
const openaiTools = [{ type: 'function', function: { name: 'get_weather', parameters: weatherSchema } }];
const anthropicTools = [{ name: 'get_weather', input_schema: weatherSchema }];

const openaiCalls = (m) => (m.tool_calls ?? []).map((c) => ({ name: c.function.name, input: JSON.parse(c.function.arguments) }));
const anthropicText = (m) => m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
const anthropicUses = (m) => m.content.filter((b) => b.type === 'tool_use').map((b) => ({ name: b.name, input: b.input }));

function describe(e) {
  if (e instanceof OpenAI.APIError || e instanceof Anthropic.APIError) {
    return { status: e.status, message: e.message, name: e.constructor.name };
  }
  return { name: e?.constructor?.name, message: String(e?.message ?? e) };
}

const scenarios = {
  // OpenAI client → Anthropic backend.
  async openaiText() {
    const params = { messages: user('Hello there'), max_tokens: 6, temperature: 0 };
    const r = await front.openai.chat.completions.create({ ...params, model: 'claude/tiny' });
    const stream = await front.openai.chat.completions.create({ ...params, model: 'claude/tiny', stream: true, stream_options: { include_usage: true } });
    let content = '', finish = null, usage = null;
    for await (const c of stream) {
      if (c.usage) usage = c.usage;
      for (const ch of c.choices) { content += ch.delta.content ?? ''; finish = ch.finish_reason ?? finish; }
    }
    const d = await back.anthropic.messages.create({ ...params, model: MODEL });
    return { routed: { content: r.choices[0].message.content, finish: r.choices[0].finish_reason, output: r.usage.completion_tokens },
      streamed: { content, finish, output: usage?.completion_tokens },
      direct: { content: anthropicText(d), stop: d.stop_reason, output: d.usage.output_tokens } };
  },

  async openaiTools() {
    const params = { messages: user('Weather in Paris?'), max_tokens: 120, temperature: 0 };
    const r = await front.openai.chat.completions.create({ ...params, model: 'claude/qwen', tools: openaiTools, tool_choice: 'required' });
    const final = await front.openai.chat.completions.stream({ ...params, model: 'claude/qwen', tools: openaiTools, tool_choice: 'required' })
      .finalChatCompletion();
    const d = await back.anthropic.messages.create({ ...params, model: TOOLS_MODEL, tools: anthropicTools, tool_choice: { type: 'any' } });
    return { routed: { calls: openaiCalls(r.choices[0].message), finish: r.choices[0].finish_reason },
      streamed: { calls: openaiCalls(final.choices[0].message), finish: final.choices[0].finish_reason },
      direct: { uses: anthropicUses(d), stop: d.stop_reason } };
  },

  // Anthropic client → OpenAI-compatible backend.
  async anthropicText() {
    const params = { messages: user('Hello there'), max_tokens: 6, temperature: 0 };
    const r = await front.anthropic.messages.create({ ...params, model: 'gpu/tiny' });
    const final = await front.anthropic.messages.stream({ ...params, model: 'gpu/tiny' }).finalMessage();
    const d = await back.openai.chat.completions.create({ ...params, model: MODEL });
    return { routed: { content: anthropicText(r), stop: r.stop_reason, output: r.usage.output_tokens },
      streamed: { content: anthropicText(final), stop: final.stop_reason, output: final.usage.output_tokens },
      direct: { content: d.choices[0].message.content, finish: d.choices[0].finish_reason, output: d.usage.completion_tokens } };
  },

  async anthropicTools() {
    const params = { messages: user('Weather in Paris?'), max_tokens: 120, temperature: 0 };
    const r = await front.anthropic.messages.create({ ...params, model: 'gpu/qwen', tools: anthropicTools, tool_choice: { type: 'any' } });
    let jsonDeltas = 0;
    const stream = front.anthropic.messages.stream({ ...params, model: 'gpu/qwen', tools: anthropicTools, tool_choice: { type: 'any' } });
    stream.on('inputJson', () => jsonDeltas++);
    const final = await stream.finalMessage();
    const first = r.content.find((b) => b.type === 'tool_use');
    // The tool's answer goes back through the translation as a tool message.
    const again = await front.anthropic.messages.create({ ...params, model: 'gpu/qwen', max_tokens: 5, tools: anthropicTools, messages: [
      ...params.messages, { role: 'assistant', content: r.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: first.id, content: '21 degrees' }] }] });
    const d = await back.openai.chat.completions.create({ ...params, model: TOOLS_MODEL, tools: openaiTools, tool_choice: 'required' });
    return { routed: { uses: anthropicUses(r), stop: r.stop_reason }, streamed: { uses: anthropicUses(final), stop: final.stop_reason, json_deltas: jsonDeltas },
      round_trip: { stop: again.stop_reason, input_tokens: again.usage.input_tokens, first_input_tokens: r.usage.input_tokens },
      direct: { calls: openaiCalls(d.choices[0].message), finish: d.choices[0].finish_reason } };
  },

  // Same protocol both ends, and a backend that is down.
  async passThrough() {
    const o = await front.openai.chat.completions.create({ model: 'gpu/tiny', messages: user('Hi'), max_tokens: 3, temperature: 0 });
    const a = await front.anthropic.messages.create({ model: 'claude/tiny', messages: user('Hi'), max_tokens: 3, temperature: 0 });
    return { openai: o.choices[0].message.content, anthropic: anthropicText(a) };
  },

  async deadBackend() {
    const out = {};
    for (const [name, call] of [
      ['openai', () => front.openai.chat.completions.create({ model: 'dead/x', messages: user('Hi'), max_tokens: 3 })],
      ['anthropic', () => front.anthropic.messages.create({ model: 'dead/x', messages: user('Hi'), max_tokens: 3 })]]) {
      try {
        await call();
        out[name] = { status: 0 };
      } catch (e) {
        out[name] = describe(e);
      }
    }
    return out;
  },
};

const out = {};
for (const [name, run] of Object.entries(scenarios)) {
  try {
    out[name] = await run();
  } catch (e) {
    out[name] = { thrown: describe(e) };
  }
}
console.log(JSON.stringify(out));
