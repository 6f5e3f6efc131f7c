// Drives GraphiQL in a running headless Chromium over the DevTools protocol:
// opens the page, types a query into the editor, prettifies it, clicks the
// run button and checks that the result pane shows the demo data. Fails if
// the page loads anything from anywhere but the server, or throws.
//
//   node graphiql.mjs <devtools http://host:port> <server http://host:port> <screenshot.png>
//
// Exit status 0 on success; 1 with a message naming the step that failed.

import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';

const [devtools, server, screenshot] = process.argv.slice(2);
if (!devtools || !server || !screenshot) {
  console.error('usage: node graphiql.mjs <devtools url> <server url> <screenshot.png>');
  process.exit(2);
}

// Typed key by key, as a user would; the editor closes brackets itself and
// steps over the closing ones typed after.
const QUERY = '{ customerGroups(first: 3, filter: { kind: PRICING }) { totalCount edges { node { name } } } }';
// The first pricing groups in creation order: the built-in one, then the demo's.
const EXPECTED_NAMES = ['Everyone', 'VIP', 'Wholesale'];
// Failure guards only.
const STEP_TIMEOUT_MS = 60_000;

class Step extends Error {}

/// One page target, spoken to over its WebSocket.
class Page {
  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    /// What went wrong in the page besides the step being run.
    this.problems = [];
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.id !== undefined) {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (!call) return;
        if (message.error) call.reject(new Step(`${call.method}: ${message.error.message}`));
        else call.resolve(message.result);
      } else {
        for (const listener of this.listeners) listener(message);
      }
    });
    socket.on('close', () => {
      for (const call of this.pending.values()) call.reject(new Step('the browser closed the connection'));
      this.pending.clear();
    });
  }

  static async open(devtoolsUrl) {
    const response = await fetch(`${devtoolsUrl}/json/new?about:blank`, { method: 'PUT' });
    if (!response.ok) throw new Step(`opening a tab: ${response.status} ${await response.text()}`);
    const target = await response.json();
    const socket = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new Page(socket);
  }

  send(method, params = {}) {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { method, resolve, reject }));
  }

  on(method, handler) {
    this.listeners.push((message) => {
      if (message.method === method) handler(message.params);
    });
  }

  /// The value of a JavaScript expression in the page (awaited if a promise).
  async evaluate(expression) {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (exceptionDetails) {
      throw new Step(`evaluating ${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    }
    return result.value;
  }

  /// Polls `expression` until it is truthy; returns its value. Gives up
  /// at once when the page has had a problem (a 404 page never renders).
  async waitFor(what, expression) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const value = await this.evaluate(expression);
      if (value) return value;
      if (this.problems.length > 0) throw new Step(`${what}: the page had problems`);
      if (Date.now() > deadline) throw new Step(`${what}: not within ${STEP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async key(key, { code = key, keyCode = 0, modifiers = 0, text } = {}) {
    const common = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, modifiers };
    await this.send('Input.dispatchKeyEvent', { type: text ? 'keyDown' : 'rawKeyDown', text, ...common });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...common });
  }

  async type(text) {
    for (const char of text) await this.key(char, { text: char, code: '' });
  }

  async click(what, selector) {
    const box = await this.waitFor(
      what,
      `(() => { const r = document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect();
                return r && r.width > 0 ? { x: r.x + r.width / 2, y: r.y + r.height / 2 } : null; })()`,
    );
    for (const type of ['mousePressed', 'mouseReleased']) {
      await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    }
  }
}

// GraphiQL 3 edits with CodeMirror 5, which hangs its editor on its element.
const QUERY_EDITOR = `document.querySelector('.graphiql-query-editor .CodeMirror')`;
const RESULT_EDITOR = `document.querySelector('.graphiql-response .CodeMirror')`;

async function run(page) {
  const origin = new URL(server).origin;
  const problems = page.problems;
  page.on('Network.requestWillBeSent', ({ request }) => {
    const url = new URL(request.url);
    if (!['data:', 'blob:', 'about:'].includes(url.protocol) && url.origin !== origin) {
      problems.push(`requested ${request.url}, which is not on ${origin}`);
    }
  });
  page.on('Network.loadingFailed', ({ errorText, canceled }) => {
    if (!canceled) problems.push(`a request failed: ${errorText}`);
  });
  page.on('Network.responseReceived', ({ response }) => {
    // Browsers ask for a favicon on their own; the server has none.
    if (response.status >= 400 && new URL(response.url).pathname !== '/favicon.ico') problems.push(`${response.url} answered ${response.status}`);
  });
  page.on('Runtime.exceptionThrown', ({ exceptionDetails }) => {
    problems.push(`the page threw: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  });
  page.on('Runtime.consoleAPICalled', ({ type, args }) => {
    if (type === 'error') problems.push(`console.error: ${args.map((a) => a.value ?? a.description).join(' ')}`);
  });
  for (const domain of ['Page', 'Runtime', 'Network']) await page.send(`${domain}.enable`);
  await page.send('Emulation.setDeviceMetricsOverride', {
    width: 1440,
    height: 860,
    deviceScaleFactor: 1,
    mobile: false,
  });

  const step = (text) => console.log(`  - ${text}`);
  step(`opening ${origin}/graphql`);
  const { errorText } = await page.send('Page.navigate', { url: `${origin}/graphql` });
  if (errorText) throw new Step(`opening ${origin}/graphql: ${errorText}`);
  await page.waitFor('GraphiQL renders its query editor', `${QUERY_EDITOR}?.CodeMirror !== undefined`);
  await page.waitFor('the default query fills the editor', `${QUERY_EDITOR}.CodeMirror.getValue().length > 0`);

  step('typing the query into the editor');
  await page.click('the query editor', '.graphiql-query-editor .CodeMirror-lines');
  await page.key('a', { code: 'KeyA', keyCode: 65, modifiers: 2 }); // Ctrl-A: select all
  await page.key('Backspace', { keyCode: 8 });
  await page.type(QUERY);
  const typed = await page.evaluate(`${QUERY_EDITOR}.CodeMirror.getValue()`);
  const squeeze = (text) => text.replace(/\s+/g, ' ').trim();
  if (squeeze(typed) !== squeeze(QUERY)) {
    throw new Step(`the editor holds ${JSON.stringify(typed)}, not the query typed`);
  }

  step('prettifying it (Shift-Ctrl-P) and clicking the run button');
  await page.key('Escape', { keyCode: 27 }); // closes any completion list
  await page.key('P', { code: 'KeyP', keyCode: 80, modifiers: 2 | 8 });
  await page.waitFor('the query is prettified onto lines', `${QUERY_EDITOR}.CodeMirror.lineCount() > 1`);
  // Setting the prettified text opens a completion list; it would hide the query.
  await page.key('Escape', { keyCode: 27 });
  await page.waitFor('the completion list closes', `document.querySelector('.CodeMirror-hints') === null`);
  await page.click('the run button', '.graphiql-execute-button');
  const answer = await page.waitFor(
    'the result pane shows an answer',
    `(() => { const text = ${RESULT_EDITOR}?.CodeMirror?.getValue() ?? '';
              try { return JSON.parse(text).data?.customerGroups ? text : null; } catch { return null; } })()`,
  );
  const names = JSON.parse(answer).data.customerGroups.edges.map((edge) => edge.node.name);
  if (JSON.stringify(names) !== JSON.stringify(EXPECTED_NAMES)) {
    throw new Step(`the result pane shows groups ${JSON.stringify(names)}, not ${JSON.stringify(EXPECTED_NAMES)}`);
  }
  const shown = await page.evaluate(`document.querySelector('.graphiql-response').innerText`);
  for (const name of EXPECTED_NAMES) {
    if (!shown.includes(`"${name}"`)) throw new Step(`the result pane does not show "${name}" on screen:\n${shown}`);
  }
  step(`the result pane shows ${names.join(', ')}`);

  if (problems.length > 0) throw new Step('the page had problems');
}

async function saveScreenshot(page) {
  const { data } = await page.send('Page.captureScreenshot', { format: 'png' });
  await writeFile(screenshot, Buffer.from(data, 'base64'));
  console.log(`  - screenshot: ${screenshot}`);
}

let page;
try {
  page = await Page.open(devtools);
  await run(page);
  await saveScreenshot(page);
  page.socket.close();
} catch (error) {
  console.error(`GraphiQL e2e failed: ${error instanceof Step ? error.message : error.stack}`);
  for (const problem of page?.problems ?? []) console.error(`  ${problem}`);
  if (page) await saveScreenshot(page).catch((e) => console.error(`  (no screenshot: ${e.message})`));
  process.exit(1);
}
