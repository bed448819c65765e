import http from 'node:http';

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** A minimal SSE client on node:http, collecting messages and comment lines. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  status = 0;
  private req: http.ClientRequest | undefined;
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  closed = false;

  static open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      c.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        c.status = res.statusCode ?? 0;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let idx: number;
          while ((idx = buf.indexOf('\n\n')) >= 0) {
            c.parse(buf.slice(0, idx));
            buf = buf.slice(idx + 2);
          }
          c.check();
        });
        res.on('end', () => {
          c.closed = true;
          c.check();
        });
        resolve(c);
      });
      c.req.on('error', (err) => (c.status ? undefined : reject(err)));
    });
  }

  private parse(block: string): void {
    const msg: SseMessage = { data: '' };
    let hasField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'data') msg.data += (msg.data ? '\n' : '') + value;
      else if (field === 'id') msg.id = value;
      else if (field === 'event') msg.event = value;
      else continue;
      hasField = true;
    }
    if (hasField && msg.event) this.messages.push(msg);
  }

  /** Parsed session events received so far. */
  events(): { seq: number; type: string; data: any }[] {
    return this.messages.filter((m) => m.event === 'session_event').map((m) => JSON.parse(m.data));
  }

  waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `SSE wait timed out; got seqs ${this.events()
                .map((e) => e.seq)
                .join(',')}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.pred() || this.closed) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  close(): void {
    this.req?.destroy();
  }
}
