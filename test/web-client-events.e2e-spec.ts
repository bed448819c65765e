import { mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { HistoryService } from '../src/history/history.service.js';
import { CHROMIUM, CHROMIUM_ARGS, WebChat } from './support/web-page.js';
import { useTestApp } from './support/use-test-app.js';

const ARTIFACTS = 'test-artifacts';

describe('web client: retries and reminders in headless Chromium', () => {
  const t = useTestApp('pglite', {
    AGENT_FAIL_FIRST_ATTEMPTS: '1',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
  });
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('offers a retry after a failed attempt, and the retry answers', async () => {
    const context = await browser.newContext();
    const chat = new WebChat(await context.newPage());
    await chat.signUp(t.baseUrl, `retry-${Date.now()}@example.com`);
    await chat.newSession();
    await chat.send('what is 2+3*4');
    const dialog = chat.page.getByTestId('dialog-retry');
    await dialog.waitFor({ timeout: 20_000 });
    await chat.page.getByTestId('run-status').filter({ hasText: 'Failed' }).waitFor();
    await chat.page.screenshot({ path: `${ARTIFACTS}/web-retry.png` });
    await dialog.getByRole('button', { name: 'Retry' }).click();
    await dialog.waitFor({ state: 'detached' });
    await chat.waitForAnswer(/\b14\b/);
    expect(await chat.page.getByText('attempt 2').count()).toBe(1);
    await context.close();
  });

  it('shows a notice when a reminder_due event arrives', async () => {
    const context = await browser.newContext();
    const chat = new WebChat(await context.newPage());
    await chat.signUp(t.baseUrl, `remind-${Date.now()}@example.com`);
    const sessionId = await chat.newSession();
    // What the reminder scheduler writes when a reminder of this session is due.
    await t.app.get(HistoryService).append(sessionId, [
      {
        type: 'reminder_due',
        data: {
          reminderId: '00000000-0000-4000-8000-000000000001',
          label: 'stretch',
          dueAt: new Date().toISOString(),
        },
      },
    ]);
    await chat.page
      .getByTestId('reminder-notice')
      .filter({ hasText: 'Reminder: stretch' })
      .waitFor();
    await chat.page.getByTestId('reminder').filter({ hasText: 'stretch' }).waitFor();
    await context.close();
  });
});
