import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { CHROMIUM, CHROMIUM_ARGS, freePort, WebChat } from './support/web-page.js';

const ARTIFACTS = 'test-artifacts';

const unique = (p: string) => `${p}-${Math.random().toString(36).slice(2)}@example.com`;
/** `datetime-local` wants local wall time without seconds' zone. */
const localInput = (d: Date) =>
  new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

describe('web client in headless Chromium', () => {
  let dataDir: string;
  let port: number;
  let server: ServerProcess;
  let browser: Browser;
  const env = () => ({
    DATA_DIR: dataDir,
    PORT: String(port),
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });
  const base = () => server.baseUrl;
  const shot = (page: WebChat, name: string) =>
    page.page.screenshot({ path: `${ARTIFACTS}/web-${name}.png` });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'hitl-web-'));
    port = await freePort();
    server = await startServerProcess(env(), 60_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function signedIn(viewport = { width: 1100, height: 720 }) {
    const context = await browser.newContext({ viewport });
    const chat = new WebChat(await context.newPage());
    const errors: string[] = [];
    chat.page.on('pageerror', (e) => errors.push(e.message));
    await chat.signUp(base(), unique('web'));
    return { context, chat, errors };
  }

  it('signs up and answers "what is 2+3*4" with 14', async () => {
    const { context, chat, errors } = await signedIn();
    await chat.newSession();
    await chat.send('what is 2+3*4');
    await chat.waitForAnswer(/\b14\b/);
    await chat.page.locator('details.steps summary').last().click();
    await shot(chat, 'calculator');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('closes the confirmation dialog in one tab when another tab answers it', async () => {
    const { context, chat: first } = await signedIn();
    const sessionId = await first.newSession();
    const second = new WebChat(await context.newPage());
    await second.page.goto(`${base()}/#s=${sessionId}`);
    await second.page.getByLabel('Message').waitFor();
    await first.send('search sessions');
    const dialogA = first.page.getByTestId('dialog-confirm');
    const dialogB = second.page.getByTestId('dialog-confirm');
    await dialogA.waitFor();
    await dialogB.waitFor();
    expect(await dialogA.innerText()).toMatch(/search_docs/);
    expect(await first.page.getByTestId('countdown').innerText()).toMatch(/Expires in 0:\d\d/);
    // Focus moved into the dialog.
    expect(
      await first.page.evaluate(() =>
        Boolean((globalThis as any).document.activeElement?.closest('[role="dialog"]')),
      ),
    ).toBe(true);
    await shot(first, 'confirm');
    // A modal dialog keeps keyboard focus inside it, both ways round.
    for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await first.page.keyboard.press(key);
      expect(
        await first.page.evaluate(() =>
          Boolean((globalThis as any).document.activeElement?.closest('[role="dialog"]')),
        ),
      ).toBe(true);
    }
    await second.page.getByRole('button', { name: 'Allow once' }).click();
    await dialogA.waitFor({ state: 'detached', timeout: 15_000 });
    // Focus goes back where it was before the dialog opened: the message box.
    await first.page.waitForFunction(
      () => (globalThis as any).document.activeElement?.id === 'message',
      undefined,
      { timeout: 5_000 },
    );
    await first.waitForAnswer(/documentation/);
    await context.close();
  });

  it('asks for a reminder with a form, shows a bad time next to the field, then confirms', async () => {
    const { context, chat } = await signedIn();
    await chat.newSession();
    await chat.send('remind me');
    const dialog = chat.page.getByTestId('dialog-form');
    await dialog.waitFor();
    const time = dialog.locator('input[name="time"]');
    const local = (await time.getAttribute('type')) === 'datetime-local';
    const past = new Date('2020-01-01T10:00:00Z');
    await time.fill(local ? localInput(past) : past.toISOString());
    await dialog.locator('input[name="label"]').fill('stretch');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    const fieldError = dialog.getByTestId('error-time');
    await fieldError.waitFor({ timeout: 15_000 });
    await shot(chat, 'form-error');
    const future = new Date(Date.now() + 3600_000);
    await time.fill(local ? localInput(future) : future.toISOString());
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    await chat.waitForAnswer(/stretch/);
    await context.close();
  });

  it('keeps every form field typed into, also when two change before the page re-renders', async () => {
    const { context, chat } = await signedIn();
    await chat.newSession();
    await chat.send('remind me');
    const dialog = chat.page.getByTestId('dialog-form');
    await dialog.waitFor();
    const time = dialog.locator('input[name="time"]');
    const local = (await time.getAttribute('type')) === 'datetime-local';
    const future = new Date(Date.now() + 3600_000);
    const typed = local ? localInput(future) : future.toISOString();
    // Both input events in one task: no render can come between them.
    await chat.page.evaluate(
      ([timeValue]) => {
        const doc = (globalThis as any).document;
        for (const [name, value] of [
          ['time', timeValue],
          ['label', 'both fields'],
        ]) {
          const input = doc.querySelector(`[role="dialog"] input[name="${name}"]`);
          input.value = value;
          input.dispatchEvent(new (globalThis as any).Event('input', { bubbles: true }));
        }
      },
      [typed],
    );
    // The page re-renders in a microtask or a zero timer, both done before this timer.
    await chat.page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    expect(await time.inputValue()).toBe(typed);
    expect(await dialog.locator('input[name="label"]').inputValue()).toBe('both fields');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    await chat.waitForAnswer(/both fields/);
    await context.close();
  });

  it("shows the service's validation error next to the form field it names", async () => {
    const { context, chat } = await signedIn();
    await chat.newSession();
    await chat.send('remind me at 17:30');
    const dialog = chat.page.getByTestId('dialog-form');
    await dialog.waitFor();
    const time = dialog.locator('input[name="time"]');
    if ((await time.count()) > 0) {
      const future = new Date(Date.now() + 3600_000);
      const local = (await time.getAttribute('type')) === 'datetime-local';
      await time.fill(local ? localInput(future) : future.toISOString());
    }
    await dialog.locator('input[name="label"]').fill('x'.repeat(501));
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await dialog
      .getByTestId('error-label')
      .filter({ hasText: /at most 500/ })
      .waitFor();
    expect(await dialog.locator('input[name="label"]').getAttribute('aria-invalid')).toBe('true');
    await dialog.locator('input[name="label"]').fill('stretch');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    await chat.waitForAnswer(/stretch/);
    await context.close();
  });

  it('cancels "count to 10000" with the cancel button', async () => {
    const { context, chat } = await signedIn();
    await chat.newSession();
    await chat.send('count to 10000');
    await chat.answers().last().filter({ hasText: /\b5\b/ }).waitFor();
    await chat.page.getByRole('button', { name: 'Cancel run' }).click();
    await chat.page.getByTestId('run-status').filter({ hasText: 'Cancelled' }).waitFor();
    const text = await chat.answers().last().innerText();
    expect(text).not.toMatch(/\b10000\b/);
    await chat.page.waitForTimeout(500);
    expect(await chat.answers().last().innerText()).toBe(text);
    await expect(chat.page.getByRole('button', { name: 'Send' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('renders a message with markup as text, and runs no script from it', async () => {
    const { context, chat } = await signedIn({ width: 375, height: 740 });
    await chat.newSession();
    const evil = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>';
    await chat.send(evil);
    await chat.waitForAnswer(/./);
    expect(await chat.texts('user-message')).toEqual([evil]);
    expect(
      await chat.page
        .locator('[data-testid="timeline"] img, [data-testid="timeline"] script')
        .count(),
    ).toBe(0);
    expect(await chat.page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    await shot(chat, 'phone');
    await context.close();
  });

  it('streams a session over SSE from a browser EventSource with a stream ticket', async () => {
    const { context, chat } = await signedIn();
    const sessionId = await chat.newSession();
    await chat.send('what is 6*7');
    await chat.waitForAnswer(/\b42\b/);
    const types = await chat.page.evaluate(async (id: string) => {
      const auth = JSON.parse((globalThis as any).localStorage.getItem('hitl.auth')) as {
        accessToken: string;
      };
      const r = await fetch(`/sessions/${id}/stream-tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth.accessToken}` },
      });
      const { ticket } = (await r.json()) as { ticket: string };
      return new Promise<string[]>((resolve, reject) => {
        const seen: string[] = [];
        const es = new (globalThis as any).EventSource(
          `/sessions/${id}/stream?ticket=${encodeURIComponent(ticket)}`,
        );
        es.addEventListener('session_event', (m: { data: string }) => {
          const e = JSON.parse(m.data) as { type: string };
          seen.push(e.type);
          if (e.type === 'task_completed') {
            es.close();
            resolve(seen);
          }
        });
        es.onerror = () => {
          es.close();
          reject(new Error('EventSource failed'));
        };
      });
    }, sessionId);
    expect(types[0]).toBe('user_message');
    expect(types).toContain('response');
    await context.close();
  });

  it('falls back to SSE when the socket cannot connect', async () => {
    const context = await browser.newContext();
    await context.route('**/socket.io/**', (route) => route.abort());
    const chat = new WebChat(await context.newPage());
    await chat.page.goto(base() + '/');
    await chat.page.getByRole('tab', { name: 'Sign up' }).click();
    await chat.page.getByLabel('Email').fill(unique('sse'));
    await chat.page.getByLabel('Password').fill('password123');
    await chat.page.getByRole('button', { name: 'Create account' }).click();
    await chat.newSession();
    await chat.page
      .getByTestId('connection')
      .filter({ hasText: 'Connected (SSE)' })
      .waitFor({ timeout: 30_000 });
    await chat.send('what is 2+3*4');
    await chat.waitForAnswer(/\b14\b/);
    await context.close();
  });

  it('reconnects after a server restart and shows the whole history once', async () => {
    const { context, chat } = await signedIn();
    await chat.newSession();
    await chat.send('what is 1+1');
    await chat.waitForAnswer(/\b2\b/);
    await chat.send('what is 2+2');
    await chat.waitForAnswer(/\b4\b/);

    await server.stop('SIGTERM');
    await chat.page
      .getByTestId('connection')
      .filter({ hasText: /Reconnecting|Offline|Connecting/ })
      .waitFor({ timeout: 20_000 });
    await shot(chat, 'reconnecting');
    server = await startServerProcess(env(), 60_000);
    await chat.page
      .getByTestId('connection')
      .filter({ hasText: /^Connected$/ })
      .waitFor({ timeout: 60_000 });
    expect(await chat.texts('user-message')).toEqual(['what is 1+1', 'what is 2+2']);
    expect(await chat.page.getByTestId('agent-message').count()).toBe(2);
    const answers = await chat.texts('answer');
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/1\+1 = 2/);
    expect(answers[1]).toMatch(/2\+2 = 4/);

    await chat.send('what is 3+3');
    await chat.waitForAnswer(/\b6\b/);
    expect(await chat.texts('user-message')).toEqual(['what is 1+1', 'what is 2+2', 'what is 3+3']);
    expect(await chat.page.getByTestId('agent-message').count()).toBe(3);
    await context.close();
  }, 180_000);
});
