import { type Browser, chromium } from 'playwright-core';
import { asUser, CHROMIUM, CHROMIUM_ARGS, WebChat } from './support/web-page.js';
import { useTestApp } from './support/use-test-app.js';

describe('web client: the session list is live across tabs (headless Chromium)', () => {
  const t = useTestApp('pglite', { AUTH_RATE_LIMIT_PER_MINUTE: '1000' });
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('a session created, renamed or closed in one tab shows in the other; a double click creates one', async () => {
    // One context: both tabs share localStorage, so one user signed in twice.
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const a = new WebChat(await context.newPage());
    const errors: string[] = [];
    a.page.on('pageerror', (e) => errors.push(e.message));
    await a.signUp(t.baseUrl, `lists-${Date.now()}@example.com`);
    const b = await context.newPage();
    b.on('pageerror', (e) => errors.push(e.message));
    await b.goto(t.baseUrl + '/');
    await b
      .getByTestId('connection')
      .filter({ hasText: /^Connected$/ })
      .waitFor();
    const itemsOnB = b.locator('#sessions li');
    expect(await itemsOnB.count()).toBe(0);

    const first = await a.newSession();
    await itemsOnB.first().waitFor();
    expect(await itemsOnB.count()).toBe(1);

    await asUser(a.page, 'PATCH', `/sessions/${first}`, { title: 'Renamed elsewhere' });
    await b.locator('#sessions').getByText('Renamed elsewhere').waitFor();
    await a.page.locator('#sessions').getByText('Renamed elsewhere').waitFor();

    await a.page.locator('#sessions').getByRole('button', { name: 'New session' }).dblclick();
    await a.page.waitForFunction((id: string) => {
      const hash = (globalThis as any).location.hash as string;
      return !hash.includes(id) && hash.startsWith('#s=');
    }, first);
    const listed = await asUser<{ items: { id: string }[] }>(a.page, 'GET', '/sessions');
    expect(listed.items).toHaveLength(2);
    await b.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('#sessions li').length === 2,
    );
    expect(await a.page.locator('#sessions li').count()).toBe(2);

    await a.page.getByRole('button', { name: 'Close session Renamed elsewhere' }).click();
    await b.locator('#sessions').getByText('Renamed elsewhere').waitFor({ state: 'detached' });
    expect(await itemsOnB.count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a session created while the other tab was reading its list still shows there', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const a = new WebChat(await context.newPage());
    await a.signUp(t.baseUrl, `lists-read-${Date.now()}@example.com`);
    const b = await context.newPage();
    // B's list reads are held until A has created a session: they answer from before it.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    let answered = 0;
    await b.route(
      (url) => url.pathname === '/sessions' && url.searchParams.get('status') === 'active',
      async (route) => {
        held++;
        const response = await route.fetch();
        await released;
        await route.fulfill({ response });
        answered++;
      },
    );
    await b.goto(t.baseUrl + '/');
    await b
      .getByTestId('connection')
      .filter({ hasText: /^Connected$/ })
      .waitFor();
    while (held === 0) await new Promise((r) => setTimeout(r, 10));
    await a.newSession();
    // The created event reached B before its list did (the list is still held).
    await b.locator('#sessions li').first().waitFor();
    release();
    while (answered < held) await new Promise((r) => setTimeout(r, 10));
    // The page has taken the held answers: their fetches resolved and it rendered since.
    await b.evaluate(
      () =>
        new Promise((resolve) =>
          (globalThis as any).setTimeout(
            () => (globalThis as any).requestAnimationFrame(() => resolve(undefined)),
            50,
          ),
        ),
    );
    expect(await b.locator('#sessions li').count()).toBe(1);
    await context.close();
  });
});
