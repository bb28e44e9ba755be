// Drives the MLX Manager web UI in headless Chromium against a running daemon.
// Started by browser_test.go, which sets up the daemon, the fake Hub and the models;
// the environment says where they are. Every step logs, and a failure leaves a
// screenshot of each open tab in E2E_OUT.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const env = (k) => {
  const v = process.env[k]
  if (!v) throw new Error(`${k} is not set: run this through go test ./e2e`)
  return v
}
const base = env('E2E_URL')
const out = env('E2E_OUT')
const localModel = env('E2E_LOCAL_MODEL')
const smallModel = env('E2E_SMALL_MODEL')
const baseModel = env('E2E_BASE_MODEL')
const hubModel = env('E2E_HUB_MODEL')
const pauseModel = env('E2E_PAUSE_MODEL')
const cancelModel = env('E2E_CANCEL_MODEL')
const visionModel = env('E2E_VISION_MODEL')
const admin = { email: 'admin@example.com', password: 'correct horse battery' }
const second = { email: 'second@example.com', password: 'another good password' }
const timeout = 30_000

const started = Date.now()
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`)
const problems = []
let hostileAnswer = false // once the scripted answer with hostile HTML is in the chat
const pages = {}

// Only the front tab of headless Chromium renders: a tab left behind another runs
// its timers and animation frames about once a second, so every Playwright wait on
// it (actionability, waitFor, screenshots) takes a second or more. Each step brings
// the tab it works in to the front first; a new tab opens in front.
let frontPage
async function front(page) {
  if (frontPage !== page) {
    await page.bringToFront()
    frontPage = page
  }
  return page
}

function watch(name, page) {
  pages[name] = page
  frontPage = page
  page.setDefaultTimeout(timeout)
  page.on('pageerror', (err) => problems.push(`${name}: uncaught ${err.message}`))
  page.on('console', (msg) => {
    // Failed requests the test causes on purpose (a pending account signing in)
    // are logged by Chromium as errors; they are not the app's. So are the CSP
    // reports of the hostile answer: Chromium reports the inline handler even while
    // DOMPurify parses it in an inert document, where it could never run.
    const text = msg.text()
    const expected = text.startsWith('Failed to load resource') || (hostileAnswer && text.startsWith('Executing inline event handler'))
    if (msg.type() === 'error' && !expected) {
      problems.push(`${name}: console error: ${text}`)
    }
  })
  return page
}

async function shot(page, file) {
  await page.screenshot({ path: join(out, file) })
  log(`screenshot ${file}`)
}

async function signUp(page, who) {
  await front(page)
  await page.getByRole('tab', { name: 'Create account' }).click()
  await page.fill('input[name=email]', who.email)
  await page.fill('input[name=password]', who.password)
  await page.click('form button[type=submit]')
}

async function signIn(page, who) {
  await front(page)
  await page.getByRole('tab', { name: 'Sign in' }).click()
  await page.fill('input[name=email]', who.email)
  await page.fill('input[name=password]', who.password)
  await page.click('form button[type=submit]')
}

// richAnswer is a streamed chat completion as a reasoning model that calls tools
// sends it, split into small deltas.
function richAnswer() {
  const chunk = (delta, extra = {}) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: localModel, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`
  const md = 'Here is **Go**:\n\n```go\nfunc main() {\n\tfmt.Println("hi")\n}\n```\n\n' +
    '| tokens | speed |\n|---|---|\n| 58 | fast |\n\n<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>\n'
  let body = chunk({ role: 'assistant', reasoning_content: 'The user wants Go. ' }) + chunk({ reasoning_content: 'Keep it short.' })
  for (const piece of md.match(/[\s\S]{1,7}/g)) body += chunk({ content: piece })
  body += chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] })
  body += chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })
  body += `data: ${JSON.stringify({ id: 'c1', model: localModel, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`
  body += `data: ${JSON.stringify({ id: 'c1', model: localModel, choices: [], usage: { prompt_tokens: 12, completion_tokens: 58, total_tokens: 70 } })}\n\n`
  return body + 'data: [DONE]\n\n'
}

// midway waits until a download's progress bar shows it started but is not done.
async function midway(page, selector) {
  await page.locator(`${selector}[data-status=downloading]`).waitFor()
  await page.waitForFunction((s) => {
    const v = Number(document.querySelector(`${s} [role=progressbar]`)?.getAttribute('aria-valuenow'))
    return v > 0 && v < 100
  }, selector)
}

const nav = async (page, label) => (await front(page)).locator('nav[aria-label=Main]').getByRole('link', { name: label }).click()
const sel = (testid, attr, value) => `[data-testid="${testid}"][data-${attr}="${value}"]`

async function run(ctx) {
  const a = watch('admin', await ctx.newPage())

  log('sign-in page')
  await a.goto(base)
  await a.waitForURL(/\/login/)
  await a.getByRole('tab', { name: 'Sign in' }).waitFor()
  await shot(a, '01-sign-in.png')

  log('the first account lands signed in as the administrator')
  await signUp(a, admin)
  await a.locator('nav[aria-label=Main]').waitFor()
  await a.waitForURL(/\/models$/)
  await a.getByText('Administrator').waitFor()

  log('a local model is listed')
  await a.locator(sel('local-model', 'model', localModel)).waitFor()
  await shot(a, '02-models.png')

  log('a Hub failure reads as one short sentence, its causes behind Details, inside its card')
  const hubDown = 'the Hugging Face Hub cannot be reached: Get "https://huggingface.co/api/models?search=e2e&limit=30&full=true&config=true": cannot resolve huggingface.co: no such host'
  await a.route('**/api/models/search**', (route) => route.fulfill({ status: 502, contentType: 'application/json',
    body: JSON.stringify({ error: { message: hubDown, type: 'api_error', code: 'hub_unreachable', param: null } }) }))
  await a.fill('input[aria-label="Search the Hub"]', 'e2e')
  await a.locator('#hub').getByRole('button', { name: 'Search' }).click()
  const hubNote = a.locator('#hub [data-testid=error-note]')
  await hubNote.getByText('The Hugging Face Hub cannot be reached.', { exact: true }).waitFor()
  if (await hubNote.locator('.error-detail').isVisible()) throw new Error('the error\'s causes show before Details is opened')
  await hubNote.getByText('Details').click()
  await hubNote.locator('.error-detail').getByText('no such host', { exact: false }).waitFor()
  const spill = await hubNote.evaluate((el) => el.scrollWidth - el.clientWidth)
  const card = await a.locator('#hub').evaluate((el) => el.scrollWidth - el.clientWidth)
  if (spill > 0 || card > 0) throw new Error(`the Hub error overflows: note by ${spill}px, card by ${card}px`)
  await a.unroute('**/api/models/search**')

  log('search the Hub and download a model, watching its progress bar')
  await a.fill('input[aria-label="Search the Hub"]', 'e2e')
  await a.locator('#hub').getByRole('button', { name: 'Search' }).click()
  const result = a.locator(sel('hub-result', 'model', hubModel))
  await result.waitFor()
  await shot(a, '03-hub-search.png')
  await result.getByRole('button', { name: 'Download' }).click()
  const dl = a.locator(sel('download', 'model', hubModel))
  await dl.waitFor()
  await a.locator(`${sel('download', 'model', hubModel)}[data-status=completed]`).waitFor()
  const pct = await dl.getByRole('progressbar').getAttribute('aria-valuenow')
  if (pct !== '100') throw new Error(`finished download shows ${pct}%, want 100`)
  await a.locator(sel('local-model', 'model', hubModel)).waitFor()
  await shot(a, '04-download-complete.png')

  log('pause a download midway, then resume it to the end')
  const paused = sel('download', 'model', pauseModel)
  await a.locator(sel('hub-result', 'model', pauseModel)).getByRole('button', { name: 'Download' }).click()
  await midway(a, paused)
  await a.locator(paused).getByRole('button', { name: 'Pause' }).click()
  await a.locator(`${paused}[data-status=paused]`).waitFor()
  await shot(a, '05-download-paused.png')
  await a.locator(paused).getByRole('button', { name: 'Resume' }).click()
  await a.locator(`${paused}[data-status=completed]`).waitFor()

  log('cancel a download')
  const cancelled = sel('download', 'model', cancelModel)
  await a.locator(sel('hub-result', 'model', cancelModel)).getByRole('button', { name: 'Download' }).click()
  await midway(a, cancelled)
  await a.locator(cancelled).getByRole('button', { name: 'Cancel' }).click()
  await a.locator(`${cancelled}[data-status=cancelled]`).waitFor()
  await shot(a, '06-download-cancelled.png')

  log('clear finished downloads: the list empties, the downloaded models stay')
  await a.locator('[data-testid=downloads-clear]').click()
  await a.locator('[data-testid=download]').first().waitFor({ state: 'detached' })
  await a.locator(sel('local-model', 'model', hubModel)).waitFor()

  log('a second tab follows the audit log live')
  const b = watch('audit', await ctx.newPage())
  await b.goto(`${base}/audit`)
  await b.waitForURL(/\/login\?next=/)
  await signIn(b, admin)
  await b.waitForURL(/\/audit$/)
  await b.locator('[data-testid=audit-live].on').waitFor()

  log('load a model from the Servers page')
  await nav(a, 'Servers')
  await a.selectOption('select[aria-label="Model to load"]', localModel)
  await a.getByRole('button', { name: 'Load model' }).click()
  await a.locator(`${sel('server-tile', 'model', localModel)}[data-state=ready]`).waitFor()
  await shot(a, '07-servers.png')

  log('unloading a model with requests running asks first, then unloads it when they finish')
  // Two requests "run" on it: the pool's answer is rewritten, the daemon's is real.
  await a.route('**/api/servers', async (route) => {
    const res = await route.fetch()
    const o = await res.json()
    for (const s of o.servers) if (s.model === localModel) s.in_flight = 2
    await route.fulfill({ response: res, json: o })
  })
  await nav(a, 'Models')
  await nav(a, 'Servers')
  const tile = a.locator(sel('server-tile', 'model', localModel))
  await tile.getByText('2', { exact: true }).waitFor()
  const stops = []
  a.on('request', (r) => { if (r.url().endsWith('/api/servers/stop')) stops.push(r) })
  await tile.getByRole('button', { name: 'Unload' }).click()
  await a.getByText('2 requests are running on it').waitFor()
  await a.getByRole('button', { name: 'Cancel' }).click()
  if (stops.length) throw new Error('Cancel still sent the unload')
  await tile.getByRole('button', { name: 'Unload' }).click()
  const [stop] = await Promise.all([
    a.waitForRequest((r) => r.url().endsWith('/api/servers/stop')),
    a.getByRole('button', { name: 'Unload when idle' }).click(),
  ])
  if (JSON.parse(stop.postData() ?? '{}').wait !== true) throw new Error(`the unload did not ask to wait: ${stop.postData()}`)
  // The page polls /api/servers: a poll may be inside the handler (between its
  // fetch and its fulfill) now. Plain unroute would let Playwright continue that
  // request itself and the handler's fulfill then fails ("Route is already
  // handled!"); this waits for the handler instead. It is the only route set here.
  await a.unrouteAll({ behavior: 'wait' })
  await tile.waitFor({ state: 'detached' })
  await a.selectOption('select[aria-label="Model to load"]', localModel)
  await a.getByRole('button', { name: 'Load model' }).click()
  await a.locator(`${sel('server-tile', 'model', localModel)}[data-state=ready]`).waitFor()

  log('create a profile')
  await nav(a, 'Profiles')
  await a.getByRole('button', { name: 'New profile' }).click()
  await a.fill('#profile-form input[name=name]', 'Storyteller')
  await a.selectOption('#profile-form select[name=model]', localModel)
  await a.fill('#profile-form textarea[name=system_prompt]', 'You tell short, happy stories.')
  await a.fill('#profile-form input[name=temperature]', '0.8')
  await a.fill('#profile-form input[name=max_tokens]', '200')
  await shot(a, '08-profile-form.png')
  await a.getByRole('button', { name: 'Create profile' }).click()
  await a.locator(sel('profile', 'name', 'Storyteller')).waitFor()
  await shot(a, '09-profiles.png')

  log('chat with streaming')
  await nav(a, 'Chat')
  await a.selectOption('select[aria-label="Model or profile"]', localModel)
  await a.getByRole('button', { name: 'Options' }).click()
  await a.locator('.chat-settings').getByLabel('Temperature').fill('0.7')
  await a.locator('.chat-settings').getByLabel('Max tokens').fill('96')
  await a.fill('textarea[aria-label=Message]', 'Once upon a time')
  // stories260K is a base model (no chat template): the page continues its text
  // through /v1/completions; a generated stand-in chats.
  const [resp] = await Promise.all([
    a.waitForResponse((r) => /\/v1\/(chat\/)?completions$/.test(r.url())),
    a.press('textarea[aria-label=Message]', 'Enter'),
  ])
  const isBase = await a.locator('[data-testid=base-model-warning]').count() > 0
  if (isBase !== resp.url().endsWith('/v1/completions')) throw new Error(`base model warning shown: ${isBase}, but the chat went to ${resp.url()}`)
  const ctype = resp.headers()['content-type'] ?? ''
  if (resp.status() !== 200 || !ctype.startsWith('text/event-stream')) {
    throw new Error(`chat answered ${resp.status()} ${ctype}, want a 200 event stream`)
  }
  const answer = a.locator('[data-testid=msg-assistant][data-streaming=false]')
  await answer.waitFor()
  const stats = await answer.locator('[data-testid=msg-stats]').innerText()
  if (!/completion tokens/.test(stats)) throw new Error(`answer stats ${JSON.stringify(stats)} lack token counts`)
  const sent = JSON.parse(resp.request().postData() ?? '{}')
  if (sent.max_tokens !== 96 || sent.temperature !== 0.7) throw new Error(`the chat options were not sent: ${JSON.stringify(sent)}`)
  const text = await answer.locator('.markdown').innerText()
  if (!text.trim()) throw new Error('the answer is empty')
  log(`answer: ${JSON.stringify(text.slice(0, 80))}… (${stats.replace(/\s+/g, ' ')})`)
  await shot(a, '10-chat.png')

  log('rich answers: Markdown, highlighted code, collapsed reasoning, tool calls, sanitized HTML')
  // The tiny models write plain stories, so this answer is scripted: it checks how the
  // page renders what larger models send, through the same streaming client.
  await a.route('**/v1/chat/completions', (route) =>
    route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: richAnswer() }))
  hostileAnswer = true
  await a.selectOption('select[aria-label="Model or profile"]', smallModel) // a chat model: the answer comes from /v1/chat/completions
  await a.fill('textarea[aria-label=Message]', 'Show me some Go')
  await a.press('textarea[aria-label=Message]', 'Enter')
  const rich = a.locator('[data-testid=msg-assistant][data-streaming=false]').nth(1)
  await rich.waitFor()
  await rich.locator('.codeblock .hljs-keyword', { hasText: 'func' }).first().waitFor()
  await rich.locator('[data-testid=tool-call]', { hasText: 'get_weather' }).waitFor()
  await rich.locator('.markdown table td', { hasText: 'fast' }).waitFor()
  if (await rich.locator('details.reasoning').getAttribute('open') !== null) throw new Error('finished reasoning is not collapsed')
  if (await rich.locator('img, script, [onerror]').count()) throw new Error('model HTML was not sanitized')
  if (await a.evaluate(() => window.__pwned)) throw new Error('model output ran a script')
  await a.unroute('**/v1/chat/completions')
  await shot(a, '11-chat-rich.png')

  log('message actions: copy, regenerate, edit')
  await a.getByRole('button', { name: 'New chat' }).click()
  await a.selectOption('select[aria-label="Model or profile"]', smallModel)
  await a.locator('.chat-settings').getByLabel('Max tokens').fill('8')
  // Greedy: the real answers below are the same on every run, so the one that
  // Continue extends (cut at 8 tokens, not ended by EOS) does not depend on luck.
  await a.locator('.chat-settings').getByLabel('Temperature').fill('0')
  // The first answer is scripted, so what Copy must give is known: the Markdown as written.
  const scripted = 'Copy **this** answer:\n\n- as written'
  await a.route('**/v1/chat/completions', (route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' },
    body: `data: ${JSON.stringify({ id: 'c2', model: smallModel, choices: [{ index: 0, delta: { role: 'assistant', content: scripted }, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n` }))
  await a.fill('textarea[aria-label=Message]', 'first question')
  await a.press('textarea[aria-label=Message]', 'Enter')
  const done = a.locator('[data-testid=msg-assistant][data-streaming=false]')
  await done.first().waitFor()
  await a.unroute('**/v1/chat/completions')
  await a.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  await done.first().getByRole('button', { name: 'Copy' }).click()
  await done.first().getByRole('button', { name: 'Copied' }).waitFor()
  const copied = await a.evaluate(() => navigator.clipboard.readText())
  if (copied !== scripted) throw new Error(`copied ${JSON.stringify(copied)}, the answer is ${JSON.stringify(scripted)}`)
  const [regen] = await Promise.all([
    a.waitForRequest((r) => r.url().endsWith('/v1/chat/completions')),
    done.first().getByRole('button', { name: 'Regenerate' }).click(),
  ])
  const regenMsgs = JSON.parse(regen.postData() ?? '{}').messages
  if (regenMsgs.length !== 1 || regenMsgs[0].content !== 'first question') throw new Error(`regenerate sent ${JSON.stringify(regenMsgs)}`)
  await done.first().waitFor()
  if (await a.locator('[data-testid=msg-assistant]').count() !== 1) throw new Error('regenerate kept the old answer')
  await a.locator('[data-testid=msg-user]').first().getByRole('button', { name: 'Edit' }).click()
  await a.fill('textarea[aria-label="Edit message"]', 'edited question')
  const [edited] = await Promise.all([
    a.waitForRequest((r) => r.url().endsWith('/v1/chat/completions')),
    a.getByRole('button', { name: 'Save and send' }).click(),
  ])
  const editedMsgs = JSON.parse(edited.postData() ?? '{}').messages
  if (editedMsgs.length !== 1 || editedMsgs[0].content !== 'edited question') throw new Error(`edit sent ${JSON.stringify(editedMsgs)}`)
  await done.first().waitFor()
  await a.locator('[data-testid=msg-user]', { hasText: 'edited question' }).waitFor()
  // The answer stopped at max tokens (8): Continue sends it as the start of the
  // answer and appends what follows to the same message.
  const cut = (await done.first().locator('.msg-body > :not(.msg-actions)').first().innerText()).trim()
  const [cont] = await Promise.all([
    a.waitForRequest((r) => r.url().endsWith('/v1/chat/completions')),
    done.first().getByRole('button', { name: 'Continue' }).click(),
  ])
  const contBody = JSON.parse(cont.postData() ?? '{}')
  const contMsgs = contBody.messages
  if (contBody.continue_final_message !== true || contMsgs.length !== 2 || contMsgs[1].role !== 'assistant' || !contMsgs[1].content) {
    throw new Error(`continue sent ${JSON.stringify(contBody)}`)
  }
  await done.first().waitFor()
  if (await a.locator('[data-testid=msg-assistant]').count() !== 1) throw new Error('continue added a message instead of extending the answer')
  const extended = (await done.first().locator('.msg-body > :not(.msg-actions)').first().innerText()).trim()
  if (extended.length <= cut.length) throw new Error(`continue did not extend the answer: ${JSON.stringify(cut)} -> ${JSON.stringify(extended)}`)
  await shot(a, '11a-chat-actions.png')

  log('a two-turn chat on a 256-token window: the oldest turn is left out, and the page says so')
  await a.getByRole('button', { name: 'New chat' }).click()
  await a.selectOption('select[aria-label="Model or profile"]', smallModel)
  await a.locator('.chat-settings').getByLabel('Max tokens').fill('40')
  const policy = a.locator('.chat-settings').getByLabel('When the chat outgrows the context')
  if (await policy.inputValue() !== 'rolling_window') throw new Error(`default overflow policy ${await policy.inputValue()}`)
  const long = 'Tell me about the sea and the sky and the ships. '.repeat(4)
  for (const turn of [1, 2]) {
    const [req] = await Promise.all([
      a.waitForRequest((r) => r.url().endsWith('/v1/chat/completions')),
      a.fill('textarea[aria-label=Message]', `${turn}: ${long}`).then(() => a.press('textarea[aria-label=Message]', 'Enter')),
    ])
    if (JSON.parse(req.postData() ?? '{}').context_overflow !== 'rolling_window') throw new Error('the overflow policy was not sent')
    await a.locator('[data-testid=msg-assistant][data-streaming=false]').nth(turn - 1).waitFor()
  }
  const answers = a.locator('[data-testid=msg-assistant]')
  if (await answers.nth(0).locator('[data-testid=context-overflow]').count()) throw new Error('the first turn fit, yet a trim is shown')
  const turn2 = answers.nth(1)
  if (await turn2.locator('.alert-bad').count()) throw new Error(`second turn failed: ${await turn2.innerText()}`)
  const note = await turn2.locator('[data-testid=context-overflow]').innerText()
  if (!/the oldest 2 messages \(\d+ tokens\) were left out/.test(note)) throw new Error(`overflow note ${JSON.stringify(note)}`)
  log(`second turn: ${note}`)
  await shot(a, '11b-chat-overflow.png')

  log('a base model: the page warns, and continues the text through /v1/completions')
  await a.getByRole('button', { name: 'New chat' }).click()
  await a.selectOption('select[aria-label="Model or profile"]', baseModel)
  await a.locator('[data-testid=base-model-warning]').waitFor()
  const [baseReq] = await Promise.all([
    a.waitForRequest((r) => /\/v1\/(chat\/)?completions$/.test(r.url())),
    a.fill('textarea[aria-label=Message]', 'Once upon a time').then(() => a.press('textarea[aria-label=Message]', 'Enter')),
  ])
  if (!baseReq.url().endsWith('/v1/completions') || JSON.parse(baseReq.postData() ?? '{}').prompt !== 'Once upon a time') {
    throw new Error(`a base model was sent ${baseReq.url()} ${baseReq.postData()}`)
  }
  const baseAnswer = a.locator('[data-testid=msg-assistant][data-streaming=false]').first()
  await baseAnswer.waitFor()
  if (await baseAnswer.locator('.alert-bad').count()) throw new Error(`base model answer failed: ${await baseAnswer.innerText()}`)
  await shot(a, '11c-chat-base-model.png')
  // The API warns too, for clients that chat with it anyway.
  const warned = await a.evaluate(async (model) => {
    const r = await fetch('/v1/chat/completions', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sessionStorage.getItem('mlx-manager.token') ?? ''}` },
      body: JSON.stringify({ model, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }) })
    return (await r.json()).warning ?? `status ${r.status}`
  }, baseModel)
  if (!/no chat template/.test(warned)) throw new Error(`the API did not warn about the base model: ${warned}`)

  log('an image pasted into the chat goes to the vision model, and its answer streams')
  await a.getByRole('button', { name: 'New chat' }).click()
  const option = await a.locator(`select[aria-label="Model or profile"] option[value="${visionModel}"]`).innerText()
  if (!/\(vision\)/.test(option)) throw new Error(`the vision model is not marked in the model list: ${option}`)
  await a.selectOption('select[aria-label="Model or profile"]', visionModel)
  await a.locator('textarea[aria-label=Message]').evaluate(async (el) => {
    const c = document.createElement('canvas')
    c.width = 20
    c.height = 14
    const g = c.getContext('2d')
    g.fillStyle = '#c33'
    g.fillRect(0, 0, 20, 14)
    g.fillStyle = '#33c'
    g.fillRect(5, 3, 8, 6)
    const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/png'))
    const dt = new DataTransfer()
    dt.items.add(new File([blob], 'pasted.png', { type: 'image/png' }))
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))
  })
  await a.locator('[data-testid=pending-image]').waitFor()
  await shot(a, '11d-chat-image-pasted.png')
  const [imgReq, imgResp] = await Promise.all([
    a.waitForRequest((r) => r.url().endsWith('/v1/chat/completions')),
    a.waitForResponse((r) => r.url().endsWith('/v1/chat/completions')),
    a.fill('textarea[aria-label=Message]', 'What is in this picture?').then(() => a.press('textarea[aria-label=Message]', 'Enter')),
  ])
  const parts = JSON.parse(imgReq.postData() ?? '{}').messages?.at(-1)?.content
  if (!Array.isArray(parts) || !parts.some((p) => p.type === 'image_url' && /^data:image\/png;base64,/.test(p.image_url?.url ?? ''))) {
    throw new Error(`the pasted image was not sent: ${JSON.stringify(parts)?.slice(0, 300)}`)
  }
  if (imgResp.status() !== 200 || !(imgResp.headers()['content-type'] ?? '').startsWith('text/event-stream')) {
    throw new Error(`the image chat answered ${imgResp.status()} ${imgResp.headers()['content-type']}`)
  }
  await a.locator('[data-testid=msg-user] [data-testid=msg-image]').waitFor()
  if (await a.locator('[data-testid=pending-image]').count()) throw new Error('the sent image is still attached to the next message')
  const imgAnswer = a.locator('[data-testid=msg-assistant][data-streaming=false]').first()
  await imgAnswer.waitFor()
  if (await imgAnswer.locator('.alert-bad').count()) throw new Error(`the image chat failed: ${await imgAnswer.innerText()}`)
  const imgStats = await imgAnswer.locator('[data-testid=msg-stats]').innerText()
  if (!/\d+ prompt \+ [1-9]\d* completion tokens/.test(imgStats)) throw new Error(`the image answer did not stream tokens: ${imgStats}`)
  log(`image answer: ${imgStats}`)
  await shot(a, '11e-chat-image-answer.png')

  log('the chat request appears in the other tab’s audit log without a reload')
  await front(b)
  await b.locator(sel('audit-row', 'action', 'v1.chat.completions')).first().waitFor()
  await shot(b, '12-audit-live.png')

  log('a second account waits for approval')
  const c = watch('second', await ctx.newPage())
  await c.goto(base)
  await signUp(c, second)
  await c.getByTestId('login-info').waitFor()
  await shot(c, '13-pending.png')
  await signIn(c, second)
  await c.getByText('waiting for an administrator').waitFor()

  log('the administrator approves it')
  await nav(a, 'Users')
  const row = a.locator(sel('user-row', 'email', second.email))
  await a.locator(`${sel('user-row', 'email', second.email)}[data-status=pending]`).waitFor()
  await a.locator('[data-testid=pending-badge]', { hasText: '1' }).waitFor()
  await shot(a, '14-users-pending.png')
  await row.getByRole('button', { name: 'Approve' }).click()
  await a.locator(`${sel('user-row', 'email', second.email)}[data-status=approved]`).waitFor()
  await a.locator('[data-testid=pending-badge]').waitFor({ state: 'detached' })

  log('the approved user signs in, without the admin pages')
  await signIn(c, second)
  await c.locator('nav[aria-label=Main]').waitFor()
  if (await c.locator('nav[aria-label=Main] a[href="/users"]').count()) throw new Error('a plain user sees the Users page')
  await c.goto(`${base}/users`)
  await c.getByTestId('admins-only').getByText('Admins only').waitFor()
  await shot(c, '15a-users-admins-only.png')
  await shot(c, '15-second-user.png')

  log('a password reset ends that session: the tab signs out cleanly')
  await nav(a, 'Users')
  await a.locator(sel('user-row', 'email', second.email)).getByRole('button', { name: 'Reset password' }).click()
  await a.getByRole('button', { name: 'Generate password' }).click()
  const generated = await a.locator('input[aria-label="New password"]').inputValue()
  if (generated.length < 12) throw new Error(`generated password ${JSON.stringify(generated)} looks wrong`)
  await a.getByRole('button', { name: 'Done' }).click()
  await nav(c, 'Profiles')
  await c.getByText('You were signed out').waitFor()
  await c.waitForFunction(() => location.pathname + location.search === '/login?next=%2Fprofiles')
  await shot(c, '16-signed-out.png')
  await signIn(c, { email: second.email, password: generated })
  await c.locator('nav[aria-label=Main]').waitFor()

  log('create an API key, shown once')
  await nav(a, 'Settings')
  await a.fill('input[placeholder="e.g. laptop editor"]', 'e2e key')
  await a.getByRole('button', { name: 'Create key' }).click()
  const key = await a.locator('input[aria-label="API key"]').inputValue()
  if (key.length < 20) throw new Error(`created key ${JSON.stringify(key)} looks wrong`)
  await shot(a, '17-api-key.png')
  await a.getByRole('button', { name: 'Done' }).click()
  await a.locator(sel('api-key', 'name', 'e2e key')).waitFor()
  await shot(a, '18-settings.png')

  log('the API reference: Settings links /api-docs, which reads the server\'s OpenAPI document')
  await a.getByRole('link', { name: 'API reference' }).click()
  await a.waitForURL('**/api-docs')
  const servers = a.getByTestId('get_api_servers')
  await servers.locator('summary').click()
  await servers.getByText('memory_bytes').waitFor()
  await shot(a, '18b-api-docs.png')

  log('registration by invitation: a one-time link signs a third person up, approved at once')
  await nav(a, 'Users')
  await a.getByTestId('registration-mode').selectOption('invite')
  await a.getByRole('button', { name: 'Create invite link' }).click()
  const link = await a.locator('input[aria-label="Invite link"]').inputValue()
  if (!link.includes('/login?invite=')) throw new Error(`invite link ${JSON.stringify(link)} looks wrong`)
  await shot(a, '18b-invite.png')
  const inv = watch('invited', await ctx.newPage())
  await inv.goto(link)
  await inv.getByTestId('invite-notice').waitFor()
  await inv.fill('input[name=email]', 'invited@example.com')
  await inv.fill('input[name=password]', second.password)
  await inv.click('form button[type=submit]')
  await inv.locator('nav[aria-label=Main]').waitFor()
  await nav(a, 'Chat')
  await nav(a, 'Users')
  await a.locator(`${sel('user-row', 'email', 'invited@example.com')}[data-status=approved]`).waitFor()
  await a.locator(sel('invite-row', 'state', 'used')).waitFor()
  await inv.close()
  await a.fill('input[name=quota_user_tokens_per_day]', '250000')
  await a.getByRole('button', { name: 'Save quotas' }).click()
  await a.getByText('Quotas saved').waitFor()
  await nav(a, 'Profiles')
  await nav(a, 'Users')
  await a.locator('input[name=quota_user_tokens_per_day]').waitFor()
  if (await a.locator('input[name=quota_user_tokens_per_day]').inputValue() !== '250000') throw new Error('the daily token quota was not kept')
  await shot(a, '18c-quotas.png')

  log('dark mode')
  await a.getByRole('button', { name: 'Dark mode' }).click()
  await nav(a, 'Chat')
  await a.locator('[data-testid=msg-assistant]').first().waitFor()
  await shot(a, '19-chat-dark.png')
  await nav(a, 'Servers')
  await a.locator(sel('server-tile', 'model', localModel)).waitFor()
  await shot(a, '20-servers-dark.png')

  log('Settings at 1280×720: its panel scrolls, not the window, and every control scrolls into view uncovered')
  await a.setViewportSize({ width: 1280, height: 720 })
  await nav(a, 'Settings')
  await a.locator('main h1').waitFor()
  // The resize and the page's own loads reflow the shell; wait (bounded) for
  // the window to stop scrolling before judging, then judge what remains.
  await a.waitForFunction(() => document.scrollingElement.scrollHeight <= window.innerHeight + 1, null, { timeout: 5000 }).catch(() => {})
  const hidden = await a.evaluate(async () => {
    const out = []
    if (document.scrollingElement.scrollHeight > window.innerHeight + 1) {
      // Name what sticks out below the window, outside the scrolling panel.
      const main = document.querySelector('main')
      const tall = [...document.body.querySelectorAll('*')].filter((el) => !main.contains(el) && el.getBoundingClientRect().bottom > window.innerHeight + 1)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().bottom)}px)`).slice(0, 5)
      out.push(`the window scrolls (${document.scrollingElement.scrollHeight}px of ${window.innerHeight}px): ${tall.join(', ') || 'the panel itself'}`)
    }
    for (const el of document.querySelectorAll('main input, main select, main textarea, main button')) {
      const r0 = el.getBoundingClientRect()
      if (r0.width === 0) continue
      el.scrollIntoView({ block: 'center' })
      await new Promise((r) => requestAnimationFrame(r))
      const r = el.getBoundingClientRect()
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      if (!top || !(el === top || el.contains(top) || top.contains(el) || (el.labels && [...el.labels].some((l) => l.contains(top))))) {
        out.push(`${el.tagName.toLowerCase()} ${el.getAttribute('name') || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 20)} is covered by ${top ? top.tagName.toLowerCase() + '.' + top.className : 'nothing'}`)
      }
    }
    return out
  })
  if (hidden.length) throw new Error(`Settings at 1280×720: ${hidden.join('; ')}`)
  await shot(a, '18a-settings-1280x720.png')
  await a.setViewportSize({ width: 1366, height: 900 })

  log('every page, light and dark, on a desktop and on a 390×844 phone: no sideways scroll, every button on screen')
  const pagesToTour = ['Chat', 'Models', 'Servers', 'Profiles', 'Audit log', 'Users', 'Settings']
  for (const [size, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    await a.setViewportSize(viewport)
    for (const mode of ['dark', 'light']) {
      for (const label of pagesToTour) {
        await nav(a, label)
        await a.locator('main h1, main .chat').first().waitFor()
        const slug = label.toLowerCase().replace(/\W+/g, '-')
        await a.screenshot({ path: join(out, `tour-${size}-${mode}-${slug}.png`) })
        if (size !== 'phone') continue
        const off = await a.evaluate(() => {
          const wide = document.documentElement.scrollWidth > window.innerWidth + 1 ? [`page ${document.documentElement.scrollWidth}px wide`] : []
          // A button is reachable when it is on screen or inside a box that scrolls to it.
          const scrolls = (el) => {
            for (let p = el.parentElement; p; p = p.parentElement) {
              const o = getComputedStyle(p).overflowX
              if ((o === 'auto' || o === 'scroll') && p.scrollWidth > p.clientWidth) return true
            }
            return false
          }
          const cut = [...document.querySelectorAll('button, a.btn, select, input')].filter((b) => {
            const r = b.getBoundingClientRect()
            return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1) && !scrolls(b)
          }).map((b) => `${b.tagName.toLowerCase()} "${(b.textContent || b.getAttribute('aria-label') || b.getAttribute('name') || '').trim().slice(0, 30)}" at ${Math.round(b.getBoundingClientRect().left)}..${Math.round(b.getBoundingClientRect().right)}`)
          return [...wide, ...cut]
        })
        if (off.length) problems.push(`${label} (${mode}, 390×844): ${off.join('; ')}`)
      }
      await a.locator('nav[aria-label=Main]').getByRole('button', { name: mode === 'dark' ? 'Light mode' : 'Dark mode' }).click()
    }
  }
  await a.setViewportSize({ width: 1366, height: 900 })
}

const profile = process.env.E2E_PROFILE_DIR || mkdtempSync(join(tmpdir(), 'mlxm-e2e-'))
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: env('E2E_CHROMIUM'),
  headless: true,
  viewport: { width: 1366, height: 900 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
})
let failed = false
try {
  await run(ctx)
  if (problems.length) throw new Error(`the pages reported errors:\n  ${problems.join('\n  ')}`)
  log('all steps passed')
} catch (err) {
  failed = true
  console.error(`FAILED: ${err.stack ?? err}`)
  for (const [name, page] of Object.entries(pages)) {
    console.error(`${name} tab is at ${page.url()}`)
    await page.screenshot({ path: join(out, `failure-${name}.png`) }).catch(() => {})
  }
} finally {
  await ctx.close()
  if (!process.env.E2E_PROFILE_DIR) rmSync(profile, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
