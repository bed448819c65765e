import http from 'node:http';

export type Step = { chunk: object } | { delayMs: number } | { dropConnection: true };

/**
 * A local stand-in for an OpenAI-compatible chat-completions server: each request to
 * POST /v1/chat/completions plays the next script (streamed chunks, delays, a dropped connection)
 * and records what it was asked.
 */
export class FakeOpenAi {
  readonly requests: any[] = [];
  readonly aborted: number[] = [];
  private scripts: Step[][] = [];
  private server: http.Server | undefined;
  baseUrl = '';

  static text(content: string): object {
    return {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'fake',
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    };
  }

  static toolCall(index: number, part: { id?: string; name?: string; args?: string }): object {
    return {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'fake',
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              {
                index,
                ...(part.id ? { id: part.id, type: 'function' } : {}),
                function: {
                  ...(part.name ? { name: part.name } : {}),
                  ...(part.args !== undefined ? { arguments: part.args } : {}),
                },
              },
            ],
          },
          finish_reason: null,
        },
      ],
    };
  }

  static usage(prompt: number, completion: number): object {
    return {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'fake',
      choices: [],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
      },
    };
  }

  script(...scripts: Step[][]): void {
    this.scripts.push(...scripts);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address() as { port: number };
    this.baseUrl = `http://127.0.0.1:${addr.port}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body = '';
    for await (const c of req) body += String(c);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    const index = this.requests.length;
    this.requests.push(JSON.parse(body));
    const script = this.scripts.shift() ?? [{ chunk: FakeOpenAi.text('(no script)') }];
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        this.aborted.push(index);
      }
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const step of script) {
      if (closed) return;
      if ('delayMs' in step) await new Promise((r) => setTimeout(r, step.delayMs));
      else if ('dropConnection' in step) {
        res.destroy();
        return;
      } else res.write(`data: ${JSON.stringify(step.chunk)}\n\n`);
    }
    if (!closed) res.end('data: [DONE]\n\n');
  }
}
