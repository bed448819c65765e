import { mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { asUser, CHROMIUM, CHROMIUM_ARGS, WebChat } from './support/web-page.js';
import { useTestApp } from './support/use-test-app.js';

const ARTIFACTS = 'test-artifacts';

describe('web client: approvals in headless Chromium', () => {
  const t = useTestApp('pglite', {
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
  });
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('edits an argument, allows the tool for this chat, runs the next call unasked, then revokes', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const chat = new WebChat(await context.newPage());
    const errors: string[] = [];
    chat.page.on('pageerror', (e) => errors.push(e.message));
    await chat.signUp(t.baseUrl, `approve-${Date.now()}@example.com`);
    await chat.newSession();

    await chat.send('search replay');
    const dialog = chat.page.getByTestId('dialog-confirm');
    await dialog.waitFor();
    // The form comes from the tool's parameter schema (GET /tools): `query`, required.
    const query = dialog.locator('input[name="query"]');
    await query.waitFor();
    expect(await query.inputValue()).toBe('replay');
    await dialog.getByText('query *').waitFor();

    // A blank required argument: the service's problem shows next to its input, the dialog stays.
    await query.fill('   ');
    await dialog.getByRole('button', { name: 'Allow once' }).click();
    await dialog.getByTestId('error-arg-query').filter({ hasText: /blank/ }).waitFor();
    expect(await query.getAttribute('aria-invalid')).toBe('true');
    await chat.page.screenshot({ path: `${ARTIFACTS}/web-confirm-edit-error.png` });

    await query.fill('metrics');
    await dialog.getByRole('button', { name: 'Allow for this chat' }).click();
    await dialog.waitFor({ state: 'detached' });
    await chat.waitForAnswer(/documentation says about "metrics"/);

    // The grant: the next call of the tool runs without a dialog.
    await chat.page.evaluate(() => {
      const w = globalThis as any;
      w.__confirmSeen = false;
      new w.MutationObserver(() => {
        if (w.document.querySelector('[data-testid="dialog-confirm"]')) w.__confirmSeen = true;
      }).observe(w.document.body, { childList: true, subtree: true });
    });
    await chat.send('search sessions');
    await chat.waitForAnswer(/documentation says about "sessions"/);
    expect(await chat.page.evaluate(() => (globalThis as any).__confirmSeen)).toBe(false);

    // The settings panel lists the grant; revoking it makes the tool ask again.
    await chat.page.getByRole('button', { name: 'Session settings' }).click();
    const grant = chat.page.getByTestId('grant');
    await grant.filter({ hasText: 'search_docs' }).waitFor();
    await chat.page.screenshot({ path: `${ARTIFACTS}/web-approvals-settings.png` });
    await chat.page.getByRole('button', { name: 'Revoke search_docs' }).click();
    await chat.page.getByTestId('no-grants').waitFor();

    await chat.send('search history');
    await dialog.waitFor();
    await dialog.getByLabel('Reason for denying (optional)').fill('not now');
    await dialog.getByRole('button', { name: 'Deny' }).click();
    await dialog.waitFor({ state: 'detached' });
    await chat.waitForAnswer(/declined, saying "not now"/);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('lists the tools with their parameter schemas at GET /tools, for signed-in users only', async () => {
    const context = await browser.newContext();
    const chat = new WebChat(await context.newPage());
    await chat.signUp(t.baseUrl, `tools-${Date.now()}@example.com`);
    const list = await asUser<{ items: { name: string; needsConfirmation: boolean }[] }>(
      chat.page,
      'GET',
      '/tools',
    );
    expect(list.items.find((x) => x.name === 'search_docs')).toEqual({
      name: 'search_docs',
      description: expect.any(String),
      parameters: expect.objectContaining({ type: 'object', required: ['query'] }),
      needsConfirmation: true,
    });
    expect(list.items.map((x) => x.name)).toEqual(
      expect.arrayContaining(['calculator', 'create_reminder']),
    );
    const anonymous = await fetch(`${t.baseUrl}/tools`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    await context.close();
  });

  it('shows in the header badge a question asked in another session, live', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const chat = new WebChat(await context.newPage());
    await chat.signUp(t.baseUrl, `inbox-${Date.now()}@example.com`);
    await chat.newSession();
    const count = chat.page.getByTestId('inbox-count');
    await count.filter({ hasText: /^0$/ }).waitFor();

    // Another session of the same user, driven over REST (another device, say).
    const other = await asUser<{ id: string }>(chat.page, 'POST', '/sessions', {
      title: 'Other chat',
    });
    await asUser(chat.page, 'POST', `/sessions/${other.id}/messages`, {
      content: 'search inbox',
      clientMessageId: 'c-inbox-1',
    });
    await count.filter({ hasText: /^1$/ }).waitFor();
    await chat.page.getByTestId('inbox').click();
    const item = chat.page.getByTestId('inbox-item');
    await item.filter({ hasText: 'Other chat' }).filter({ hasText: 'search_docs' }).waitFor();
    await chat.page.screenshot({ path: `${ARTIFACTS}/web-inbox.png` });

    // Picking it opens that session, where its dialog is; answering it empties the inbox.
    await item.click();
    await chat.page.waitForURL(new RegExp(`#s=${other.id}$`));
    const dialog = chat.page.getByTestId('dialog-confirm');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Allow once' }).click();
    await dialog.waitFor({ state: 'detached' });
    await count.filter({ hasText: /^0$/ }).waitFor();
    await context.close();
  }, 120_000);
});
