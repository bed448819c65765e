import WebSocket from 'ws';

/**
 * A bare engine.io/socket.io v4 client over one WebSocket, speaking the text protocol directly:
 * it can send frames socket.io-client would refuse to build (hostile nesting) and can stop
 * reading its socket (a slow consumer).
 */
export class RawChatSocket {
  private nextAck = 1;
  private readonly acks = new Map<number, (value: unknown) => void>();
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.onFrame(data.toString()));
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  static async open(baseUrl: string, token: string): Promise<RawChatSocket> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url);
    const raw = new RawChatSocket(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw socket: no connect')), 10_000);
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith('0{')) ws.send(`40/chat,${JSON.stringify({ token })}`);
        else if (text.startsWith('40/chat,')) {
          clearTimeout(timer);
          resolve();
        } else if (text.startsWith('44/chat,')) {
          clearTimeout(timer);
          reject(new Error(`raw socket refused: ${text}`));
        }
      });
      ws.once('error', reject);
    });
    return raw;
  }

  /** Emits `event` with an already-serialized JSON payload and resolves with the ack. */
  emitRaw(event: string, payloadJson: string, timeoutMs = 10_000): Promise<any> {
    const id = this.nextAck++;
    this.ws.send(`42/chat,${id}[${JSON.stringify(event)},${payloadJson}]`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), timeoutMs);
      this.acks.set(id, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  /** Sends without waiting for the ack (the slow consumer never reads it). */
  fire(event: string, payloadJson: string): void {
    this.ws.send(`42/chat,${this.nextAck++}[${JSON.stringify(event)},${payloadJson}]`);
  }

  /** Stops reading the TCP socket: the server's writes pile up behind the kernel buffers. */
  stopReading(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  close(): void {
    this.ws.terminate();
  }

  private onFrame(text: string): void {
    if (text === '2') {
      this.ws.send('3');
      return;
    }
    const m = /^43\/chat,(\d+)(.*)$/s.exec(text);
    if (m) {
      const [value] = JSON.parse(m[2]) as unknown[];
      this.acks.get(Number(m[1]))?.(value);
      this.acks.delete(Number(m[1]));
    }
  }
}
