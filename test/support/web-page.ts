import { createServer } from 'node:net';
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A loopback port that was free a moment ago (a restarted server must come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** The web client's steps, as a person takes them. */
export class WebChat {
  constructor(readonly page: Page) {}

  async signUp(baseUrl: string, email: string): Promise<void> {
    await this.page.goto(baseUrl + '/');
    await this.page.getByRole('tab', { name: 'Sign up' }).click();
    await this.page.getByLabel('Email').fill(email);
    await this.page.getByLabel('Password').fill('password123');
    await this.page.getByRole('button', { name: 'Create account' }).click();
    await this.page
      .getByTestId('connection')
      .filter({ hasText: /^Connected$/ })
      .waitFor();
  }

  async newSession(): Promise<string> {
    await this.page.getByRole('button', { name: 'New session' }).first().click();
    await this.page.getByLabel('Message').waitFor();
    return /#s=([\w-]+)/.exec(this.page.url())![1];
  }

  async send(text: string): Promise<void> {
    await this.page.getByLabel('Message').fill(text);
    await this.page.getByLabel('Message').press('Enter');
    await this.page.getByTestId('user-message').filter({ hasText: text }).last().waitFor();
  }

  answers() {
    return this.page.getByTestId('answer');
  }

  /** Waits until the newest agent message is done and its answer matches. */
  async waitForAnswer(re: RegExp, timeout = 30_000): Promise<void> {
    await this.page.waitForFunction(
      (source: string) => {
        const all = (globalThis as any).document.querySelectorAll('[data-testid="agent-message"]');
        const last = all[all.length - 1];
        if (!last) return false;
        const status = last.querySelector('[data-testid="run-status"]')?.textContent;
        const answer = last.querySelector('[data-testid="answer"]')?.textContent ?? '';
        return status === 'Done' && new RegExp(source).test(answer);
      },
      re.source,
      { timeout },
    );
  }

  async texts(testId: string): Promise<string[]> {
    return this.page.getByTestId(testId).allInnerTexts();
  }
}

/** Calls the REST API as the page's signed-in user (its tokens are in localStorage). */
export async function asUser<T>(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return page.evaluate(
    async ([m, p, b]) => {
      const auth = JSON.parse((globalThis as any).localStorage.getItem('hitl.auth')) as {
        accessToken: string;
      };
      const headers: Record<string, string> = { authorization: `Bearer ${auth.accessToken}` };
      if (b !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(p, { method: m, headers, body: b === undefined ? undefined : b });
      const text = await r.text();
      if (!r.ok) throw new Error(`${m} ${p}: ${r.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    [method, path, body === undefined ? undefined : JSON.stringify(body)] as const,
  );
}
