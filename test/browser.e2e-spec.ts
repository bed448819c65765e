import { mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { useTestApp } from './support/use-test-app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';

describe('documentation pages in headless Chromium', () => {
  const t = useTestApp('pglite');
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it.each([
    ['/asyncapi', 'asyncapi', /message:send|session:join/],
    ['/docs', 'swagger', /\/auth\/login/],
  ])('%s renders without console errors', async (path, name, expected) => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${t.baseUrl}${path}`, { waitUntil: 'networkidle' });
    await page.waitForFunction(
      (re: string) => new RegExp(re).test((globalThis as any).document.body.innerText as string),
      expected.source,
      { timeout: 15_000 },
    );
    await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: false });
    expect(problems).toEqual([]);
    await page.close();
  });
});
