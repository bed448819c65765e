import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, isPrivateAddress } from './address-guard.js';

/** What one attempt came to: a 2xx answer, or why not (status, timeout, connection, refusal). */
export type SendResult =
  { ok: true; statusCode: number } | { ok: false; statusCode?: number; error: string };

/** The longest error text kept on a delivery row. */
const MAX_ERROR = 300;

/**
 * One signed POST of a delivery (Standard Webhooks: `webhook-id` is the delivery's id, the same
 * on every attempt; `webhook-timestamp` is this attempt's time; `webhook-signature` signs
 * `id.timestamp.body`). The address is checked where it is connected to (guardedLookup; a
 * literal address here), a redirect is an answer like any other non-2xx (never followed), and
 * the whole attempt, answer included, must finish within `timeoutMs`.
 */
export function sendWebhook(opts: {
  url: string;
  secret: string;
  id: string;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (the node is stopping). */
  signal?: AbortSignal;
}): Promise<SendResult> {
  const url = new URL(opts.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!opts.allowPrivate && isIP(host) && isPrivateAddress(host))
    return Promise.resolve({
      ok: false,
      error: `refused: ${host} is a loopback, private or link-local address`,
    });
  const now = new Date();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'hitl-webhooks/1',
    'webhook-id': opts.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(opts.secret).sign(opts.id, now, opts.body),
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const interrupted: SendResult = { ok: false, error: 'interrupted: the node stopped' };
  // A node that is stopping sends nothing more.
  if (opts.signal?.aborted) return Promise.resolve(interrupted);
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const onStop = (): void => done(interrupted);
    const done = (r: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // The stop signal lives as long as the node: each attempt takes its listener with it.
      opts.signal?.removeEventListener('abort', onStop);
      req.destroy();
      resolve(r.ok ? r : { ...r, error: r.error.slice(0, MAX_ERROR) });
    };
    const req = request(url, {
      method: 'POST',
      headers,
      lookup: guardedLookup(opts.allowPrivate),
      // A fresh connection per attempt: a kept-alive socket would skip the address check.
      agent: false,
    });
    const timer = setTimeout(
      () => done({ ok: false, error: `timed out after ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    );
    opts.signal?.addEventListener('abort', onStop, { once: true });
    req.on('response', (res) => {
      const statusCode = res.statusCode ?? 0;
      // The body is not read beyond what arrives: the answer's status is all that counts.
      res.resume();
      if (statusCode >= 200 && statusCode < 300) done({ ok: true, statusCode });
      else done({ ok: false, statusCode, error: `answered ${statusCode}` });
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      done({
        ok: false,
        error:
          err.code === 'EWEBHOOKPRIVATE' ? err.message : `${err.code ?? 'error'}: ${err.message}`,
      }),
    );
    req.end(opts.body);
  });
}
