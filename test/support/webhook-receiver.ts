import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, any> };
}

/**
 * A webhook receiver on a loopback port. `answer` decides each request's fate: a status code,
 * or 'hang' (never answered, until the receiver closes). Every request is recorded, answered or not.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (req: ReceivedWebhook, n: number) => number | 'hang' = () => 200;
  private readonly hanging: ServerResponse[] = [];
  private server: Server | undefined;
  private port = 0;

  /** Listens (again: the same port after close(), so a registered URL stays valid). */
  async listen(): Promise<this> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const r: ReceivedWebhook = { headers: req.headers, body, json: JSON.parse(body) };
        this.received.push(r);
        const fate = this.answer(r, this.received.length);
        if (fate === 'hang') this.hanging.push(res);
        else res.writeHead(fate).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The received requests of one event type. */
  of(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.json.type === type);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const res of this.hanging.splice(0)) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
