import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPrivateAddress } from './address-guard.js';
import { sendWebhook } from './webhook-sender.js';

const SECRET = 'whsec_' + Buffer.alloc(24, 1).toString('base64');

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.0.0.8', true],
    ['172.31.255.255', true],
    ['192.168.0.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['not an address', true],
    ['93.184.216.34', false],
    ['172.32.0.1', false],
    ['2606:4700::1111', false],
    ['::ffff:93.184.216.34', false],
  ])('%s: %s', (address, blocked) => {
    expect(isPrivateAddress(address)).toBe(blocked);
  });
});

describe('sendWebhook', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') res.writeHead(302, { location: '/hook' }).end();
      else res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => hits.splice(0));

  const send = (url: string, allowPrivate: boolean) =>
    sendWebhook({ url, secret: SECRET, id: 'msg_1', body: '{}', timeoutMs: 2000, allowPrivate });

  it('refuses a loopback address at delivery, literal or resolved, without the flag', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await send(`http://${host}:${port}/hook`, false);
      expect(r).toEqual({ ok: false, error: expect.stringMatching(/^refused: /) });
    }
    expect(hits).toEqual([]);
  });

  it('sends with the flag; a redirect is an answer, never followed', async () => {
    expect(await send(`http://localhost:${port}/hook`, true)).toEqual({
      ok: true,
      statusCode: 204,
    });
    expect(await send(`http://127.0.0.1:${port}/redirect`, true)).toEqual({
      ok: false,
      statusCode: 302,
      error: 'answered 302',
    });
    expect(hits).toEqual(['/hook', '/redirect']);
  });

  it("leaves no listener on the node's stop signal behind, however many attempts it makes", async () => {
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) {
      const r = await sendWebhook({
        url: `http://127.0.0.1:${port}/hook`,
        secret: SECRET,
        id: `msg_${i}`,
        body: '{}',
        timeoutMs: 2000,
        allowPrivate: true,
        signal: stop.signal,
      });
      expect(r.ok).toBe(true);
    }
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('sends nothing once the node is stopping', async () => {
    const stop = new AbortController();
    stop.abort();
    const r = await sendWebhook({
      url: `http://127.0.0.1:${port}/hook`,
      secret: SECRET,
      id: 'msg_late',
      body: '{}',
      timeoutMs: 2000,
      allowPrivate: true,
      signal: stop.signal,
    });
    expect(r).toEqual({ ok: false, error: 'interrupted: the node stopped' });
    expect(hits).toEqual([]);
  });
});
