import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { mountWebClient } from './web-client.js';

describe('mountWebClient', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'hitl-webdist-'));
    dir = join(root, 'web');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'outside the web root');
    const app = express();
    mountWebClient(app as unknown as NestExpressApplication, dir);
    // Stands for the API behind it: everything the web client does not serve reaches it.
    app.use((_req, res) => res.status(404).json({ code: 'NOT_FOUND' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('serves index.html at / revalidated on every load', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(await r.text()).toContain('<title>app</title>');
    expect((await fetch(`${base}/`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves hashed assets cached for a year and immutable', async () => {
    const r = await fetch(`${base}/assets/index-abc123.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('leaves API paths, unknown assets and other methods to the API (JSON 404, no HTML)', async () => {
    for (const [method, path] of [
      ['GET', '/sessions/nope'],
      ['GET', '/assets/missing.js'],
      ['GET', '/index.html'],
      ['POST', '/'],
    ]) {
      const r = await fetch(`${base}${path}`, { method });
      expect([method, path, r.status]).toEqual([method, path, 404]);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(r.headers.get('cache-control')).toBeNull();
    }
  });

  it('serves nothing outside its folder', async () => {
    for (const path of ['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt']) {
      const r = await fetch(`${base}${path}`);
      expect(await r.text()).not.toContain('outside the web root');
    }
  });
});
