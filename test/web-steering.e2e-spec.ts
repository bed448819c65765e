import { mkdirSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, WebChat } from './support/web-page.js';
import { useTestApp } from './support/use-test-app.js';

const ARTIFACTS = 'test-artifacts';

describe('web client steering in headless Chromium: queue, interrupt, edit, branches, regenerate', () => {
  const t = useTestApp('pglite', {
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** One signed-in user with a new session open in two tabs. */
  async function twoTabs(prefix: string) {
    context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const a = new WebChat(await context.newPage());
    const errors: string[] = [];
    a.page.on('pageerror', (e) => errors.push(e.message));
    await a.signUp(t.baseUrl, `${prefix}-${Date.now()}@example.com`);
    const sessionId = await a.newSession();
    const b = new WebChat(await context.newPage());
    b.page.on('pageerror', (e) => errors.push(e.message));
    await b.page.goto(`${t.baseUrl}/#s=${sessionId}`);
    await b.page.getByLabel('Message').waitFor();
    return { a, b, errors };
  }

  const shot = (chat: WebChat, name: string) =>
    chat.page.screenshot({ path: `${ARTIFACTS}/web-steering-${name}.png` });

  /** What a tab shows: the user messages of the branch, the answers, the queued messages. */
  const shown = async (chat: WebChat) => ({
    messages: await chat.texts('user-message'),
    answers: await chat.texts('answer'),
    queued: await chat.texts('queued-text'),
  });

  /** Waits until both tabs show the same, and returns it. */
  async function agreed(a: WebChat, b: WebChat) {
    for (let i = 0; i < 100; i++) {
      const [x, y] = [await shown(a), await shown(b)];
      if (JSON.stringify(x) === JSON.stringify(y)) return x;
      await a.page.waitForTimeout(100);
    }
    expect(await shown(b)).toEqual(await shown(a));
    return shown(a);
  }

  const turn = (chat: WebChat, text: string) =>
    chat.page
      .locator('.turn-user')
      .filter({ has: chat.page.getByTestId('user-message').filter({ hasText: text }) });

  async function queue(chat: WebChat, text: string) {
    await chat.page.getByLabel('Message').fill(text);
    await chat.page.getByLabel('Message').press('Enter');
    await chat.page.getByTestId('queued-text').filter({ hasText: text }).waitFor();
  }

  it('queues follow-ups while "count to 200" streams, removes one, then runs the other', async () => {
    const { a, b, errors } = await twoTabs('queue');
    await a.send('count to 200');
    await a.answers().last().filter({ hasText: /\b5\b/ }).waitFor();
    await queue(a, 'what is 1+1');
    await queue(a, 'what is 2+2');
    // The other tab shows the queue too, and may change it.
    await b.page.getByTestId('queued-text').filter({ hasText: 'what is 2+2' }).waitFor();
    await shot(a, 'queued');
    await b.page.getByRole('button', { name: 'Remove from queue: what is 2+2' }).click();
    await a.page.getByTestId('queued-text').filter({ hasText: 'what is 2+2' }).waitFor({
      state: 'detached',
    });
    // The count ends, then the queued message runs by itself.
    await a.waitForAnswer(/1\+1 = 2/, 60_000);
    const seen = await agreed(a, b);
    expect(seen.messages).toEqual(['count to 200', 'what is 1+1']);
    expect(seen.answers[0]).toMatch(/\b200\b/);
    expect(seen.queued).toEqual([]);
    await shot(b, 'queue-done');
    expect(errors).toEqual([]);
  }, 120_000);

  it('"Send now" stops the running answer: it shows Stopped with its partial text', async () => {
    const { a, b, errors } = await twoTabs('interrupt');
    await a.send('count to 10000');
    await a.answers().last().filter({ hasText: /\b5\b/ }).waitFor();
    await a.page.getByLabel('Message').fill('what is 2+3');
    await a.page.getByRole('button', { name: 'Send now' }).click();
    await a.waitForAnswer(/2\+3 = 5/);
    for (const chat of [a, b]) {
      const first = chat.page.getByTestId('agent-message').first();
      await first.getByTestId('run-status').filter({ hasText: 'Stopped' }).waitFor();
      const partial = await first.getByTestId('answer').innerText();
      expect(partial).toMatch(/\b5\b/);
      expect(partial).not.toMatch(/\b10000\b/);
    }
    expect((await agreed(a, b)).messages).toEqual(['count to 10000', 'what is 2+3']);
    await shot(a, 'stopped');
    expect(errors).toEqual([]);
  }, 120_000);

  it('edits a message into a new version, moves between versions, and regenerates', async () => {
    const { a, b, errors } = await twoTabs('branch');
    await a.send('what is 1+1');
    await a.waitForAnswer(/1\+1 = 2/);
    await a.send('what is 2+2');
    await a.waitForAnswer(/2\+2 = 4/);
    await a.send('what is 3+3');
    await a.waitForAnswer(/3\+3 = 6/);

    // Escape leaves the message as it was and sends nothing.
    await turn(a, 'what is 1+1').getByRole('button', { name: 'Edit' }).click();
    await a.page.getByLabel('Edited text').fill('what is 9+9');
    await a.page.getByLabel('Edited text').press('Escape');
    await a.page.getByLabel('Edited text').waitFor({ state: 'detached' });

    await turn(a, 'what is 2+2').getByRole('button', { name: 'Edit' }).click();
    await a.page.getByLabel('Edited text').fill('what is 5+5');
    await a.page.getByLabel('Edited text').press('Enter');
    await a.waitForAnswer(/5\+5 = 10/);
    let seen = await agreed(a, b);
    expect(seen.messages).toEqual(['what is 1+1', 'what is 5+5']);
    expect(await b.texts('branch-position')).toEqual(['2/2']);
    await shot(b, 'edited');

    // The other tab goes back to the first version: both show that branch.
    await b.page.getByRole('button', { name: 'Previous version' }).click();
    await a.page.getByTestId('branch-position').filter({ hasText: '1/2' }).waitFor();
    seen = await agreed(a, b);
    expect(seen.messages).toEqual(['what is 1+1', 'what is 2+2']);
    expect(seen.answers[1]).toMatch(/2\+2 = 4/);
    await shot(a, 'version-1');
    await a.page.getByRole('button', { name: 'Next version' }).click();
    await b.page.getByTestId('branch-position').filter({ hasText: '2/2' }).waitFor();
    expect((await agreed(a, b)).messages).toEqual(['what is 1+1', 'what is 5+5']);

    // Regenerate is offered on the last answer only; the new answer replaces it in place.
    expect(await a.page.getByRole('button', { name: 'Regenerate' }).count()).toBe(1);
    await a.page.getByRole('button', { name: 'Regenerate' }).click();
    await b.page.getByText('attempt 2').waitFor();
    await b.waitForAnswer(/5\+5 = 10/);
    seen = await agreed(a, b);
    expect(seen.messages).toEqual(['what is 1+1', 'what is 5+5']);
    expect(seen.answers).toHaveLength(2);
    await shot(a, 'regenerated');
    expect(errors).toEqual([]);
  }, 120_000);
});
