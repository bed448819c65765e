import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  describeEachDatabase,
  type TestDatabase,
} from './support/databases.js';
import { Http } from './support/http.js';
import { waitFor } from './support/lifecycle.js';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { serviceUrl } from './support/services.js';
import { ask, connect } from './support/socket.js';

const PROBE = fileURLToPath(new URL('./support/module-probe.mjs', import.meta.url));

/** What the probe saw the process import of OpenTelemetry, by package name. */
function loadedPackages(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // nothing of OpenTelemetry was imported: the probe never wrote its file
  }
  const names = text
    .split('\n')
    .map((url) => /\/@opentelemetry\/([^/]+)\//.exec(url)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

class Chat {
  constructor(
    readonly http: Http,
    readonly token: string,
    readonly sessionId: string,
  ) {}

  static async open(node: ServerProcess): Promise<Chat> {
    const http = new Http(node.baseUrl);
    const token = (await http.register('otel')).accessToken;
    const sessionId = (await http.post('/sessions', {}, token)).body.id as string;
    return new Chat(http, token, sessionId);
  }

  on(node: ServerProcess): Chat {
    return new Chat(new Http(node.baseUrl), this.token, this.sessionId);
  }

  /** Waits for the first event of `type` in the session's log. */
  event(type: string): Promise<any> {
    return waitFor(async () => {
      const r = await this.http.get(`/sessions/${this.sessionId}/events?limit=1000`, this.token);
      return (r.body.items as any[]).find((e) => e.type === type);
    }, 30_000);
  }
}

/**
 * Traces (docs/operations.md "Tracing"): with OTEL_EXPORTER_OTLP_ENDPOINT set, a run is exported
 * as spans to an OTLP/HTTP receiver (JSON protocol) in the test; unset, no part of the SDK is
 * even loaded. Runs the built service (`npm run build` first).
 */
describeEachDatabase('telemetry', (kind) => {
  let target: TestDatabase;
  let receiver: OtlpReceiver;
  let probeDir: string;
  const nodes: ServerProcess[] = [];

  const start = async (env: Record<string, string>): Promise<ServerProcess> => {
    const node = await startServerProcess({
      DATA_DIR: target.dataDir,
      ...(target.url ? { DATABASE_URL: target.url } : {}),
      BUILTIN_TOKEN_DELAY_MS: '1',
      NODE_OPTIONS: `--import ${PROBE}`,
      ...env,
    });
    nodes.push(node);
    return node;
  };
  const traced = (name: string): Record<string, string> => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: name,
  });

  beforeAll(async () => {
    target = await createTestDatabase(kind);
    receiver = await OtlpReceiver.start();
    probeDir = mkdtempSync(join(tmpdir(), 'hitl-probe-'));
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(probeDir, { recursive: true, force: true });
    await target?.drop();
  });

  it('exports a run as the HTTP span, invoke_agent, chat builtin and execute_tool calculator, parented, with GenAI attributes and usage; its log lines carry trace_id', async () => {
    const probe = join(probeDir, 'traced');
    const node = await start({ ...traced('traced'), MODULE_PROBE_FILE: probe });
    const chat = await Chat.open(node);
    const sent = await chat.http.post(
      `/sessions/${chat.sessionId}/messages`,
      { content: 'what is 2+3' },
      chat.token,
    );
    expect(sent.status).toBe(202);
    const runId = sent.body.runId as string;
    await chat.event('task_completed');

    const agent = await receiver.span(
      (s) => s.name === 'invoke_agent' && s.attributes['run.id'] === runId,
    );
    expect(agent.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'builtin',
      'session.id': chat.sessionId,
      'run.id': runId,
      'intent.id': expect.any(String),
    });
    expect(agent.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(agent.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(agent.resource['service.name']).toBe('traced');

    // The request that started it is its parent: a span of the HTTP instrumentation.
    const request = await receiver.span((s) => s.spanId === agent.parentSpanId);
    expect(request.traceId).toBe(agent.traceId);
    expect(request.kind).toBe(2); // SERVER
    expect(request.name).toMatch(/^POST \/sessions\/:\w+\/messages$/);
    expect(request.attributes['http.route']).toBe(request.name.slice('POST '.length));

    const inRun = (s: ReceivedSpan): boolean =>
      s.traceId === agent.traceId && s.parentSpanId === agent.spanId;
    const tool = await receiver.span((s) => inRun(s) && s.name === 'execute_tool calculator');
    expect(tool.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'calculator',
      'gen_ai.tool.call.id': expect.any(String),
      'run.id': runId,
      'session.id': chat.sessionId,
    });
    await receiver.span(
      (s) =>
        inRun(s) &&
        s.name === 'chat builtin' &&
        s.attributes['gen_ai.response.finish_reasons'] !== undefined,
    );
    const chats = receiver.spans.filter((s) => inRun(s) && s.name === 'chat builtin');
    // One call asks for the calculator, the next answers with its result.
    expect(chats.length).toBe(2);
    for (const c of chats) {
      expect(c.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'builtin',
        'gen_ai.provider.name': 'builtin',
        'run.id': runId,
      });
      expect(c.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(c.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
    expect(chats.map((c) => c.attributes['gen_ai.response.finish_reasons']).sort()).toEqual([
      ['stop'],
      ['tool_calls'],
    ]);

    // A socket command is a span of its own, and the run it starts is inside it.
    const socket = await connect(node.baseUrl, chat.token);
    try {
      const ack = await ask(socket, 'message:send', {
        sessionId: chat.sessionId,
        content: 'what is 6*7',
        clientMessageId: 'otel-socket-1',
      });
      expect(ack).toMatchObject({ ok: true, runId: expect.any(String) });
      const viaSocket = await receiver.span(
        (s) => s.name === 'invoke_agent' && s.attributes['run.id'] === ack.runId,
      );
      const command = await receiver.span((s) => s.spanId === viaSocket.parentSpanId);
      expect(command).toMatchObject({ name: 'socket message:send', traceId: viaSocket.traceId });
      expect(command.attributes).toMatchObject({
        'socket.io.event': 'message:send',
        'session.id': chat.sessionId,
      });
    } finally {
      socket.close();
    }

    // Log lines written inside the run's spans carry its trace id.
    const lines = node
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.trace_id === agent.traceId)).toBe(true);
    expect(loadedPackages(probe)).toEqual(
      expect.arrayContaining(['sdk-node', 'instrumentation-http']),
    );
  }, 120_000);

  it('sends nothing of ours outside: a webhook receiver gets no traceparent, and an SSE ticket is redacted in the span', async () => {
    const headers: Record<string, unknown>[] = [];
    const hook = createServer((req, res) => {
      headers.push(req.headers);
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const admin = { ADMIN_EMAIL: 'otel-admin@example.com', ADMIN_PASSWORD: 'otel-admin-pass' };
      const node = await start({
        ...traced('outside'),
        ...admin,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_BASE_MS: '200',
      });
      const chat = await Chat.open(node);
      const login = await chat.http.post('/auth/login', {
        email: admin.ADMIN_EMAIL,
        password: admin.ADMIN_PASSWORD,
      });
      const port = (hook.address() as AddressInfo).port;
      const registered = await chat.http.post(
        '/admin/webhooks',
        { url: `http://127.0.0.1:${port}/hook`, events: ['run.completed'] },
        login.body.accessToken as string,
      );
      expect(registered.status).toBe(201);
      const sent = await chat.http.post(
        `/sessions/${chat.sessionId}/messages`,
        { content: 'what is 2+3' },
        chat.token,
      );
      expect(sent.status).toBe(202);
      await waitFor(() => Promise.resolve(headers.length > 0), 30_000);
      expect(headers[0]).toHaveProperty('webhook-id');
      expect(headers[0]).not.toHaveProperty('traceparent');

      const ticket = (
        await chat.http.post(`/sessions/${chat.sessionId}/stream-tickets`, undefined, chat.token)
      ).body.ticket as string;
      const stream = new AbortController();
      const res = await fetch(
        `${node.baseUrl}/sessions/${chat.sessionId}/stream?ticket=${encodeURIComponent(ticket)}`,
        { signal: stream.signal },
      );
      expect(res.status).toBe(200);
      stream.abort();
      const span = await receiver.span(
        (s) => s.resource['service.name'] === 'outside' && /\/stream$/.test(s.name),
      );
      expect(JSON.stringify(span.attributes)).not.toContain(ticket);
    } finally {
      await new Promise((r) => hook.close(r));
    }
  }, 120_000);

  it("a queued message's run is a trace of its own, linked to the run before it; SIGTERM exports the spans still buffered", async () => {
    // Batches held far longer than the test: only the shutdown's export can deliver them.
    const node = await start({ ...traced('queued'), OTEL_BSP_SCHEDULE_DELAY: '600000' });
    const chat = await Chat.open(node);
    const send = (content: string, ifBusy?: string) =>
      chat.http.post(
        `/sessions/${chat.sessionId}/messages`,
        { content, ...(ifBusy ? { ifBusy } : {}) },
        chat.token,
      );
    const first = await send('count to 30');
    const second = await send('what is 1+1', 'enqueue');
    expect(second.body).toMatchObject({ queued: true });
    await waitFor(async () => {
      const r = await chat.http.get(`/sessions/${chat.sessionId}/events?limit=1000`, chat.token);
      const done = (r.body.items as any[]).filter((e) => e.type === 'task_completed');
      return done.length === 2 ? done : undefined;
    }, 60_000);
    expect(receiver.spans.filter((s) => s.resource['service.name'] === 'queued')).toEqual([]);
    expect((await node.stop('SIGTERM')).code).toBe(0);

    const before = await receiver.span(
      (s) => s.name === 'invoke_agent' && s.attributes['run.id'] === first.body.runId,
    );
    const queued = await receiver.span(
      (s) => s.name === 'invoke_agent' && s.attributes['intent.id'] === second.body.intentId,
    );
    expect(queued.parentSpanId).toBeUndefined();
    expect(queued.traceId).not.toBe(before.traceId);
    expect(queued.links).toEqual([{ traceId: before.traceId, spanId: before.spanId }]);
  }, 120_000);

  it('loads no part of the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is unset', async () => {
    const probe = join(probeDir, 'untraced');
    const node = await start({ MODULE_PROBE_FILE: probe, OTEL_SERVICE_NAME: 'untraced' });
    const chat = await Chat.open(node);
    const sent = await chat.http.post(
      `/sessions/${chat.sessionId}/messages`,
      { content: 'what is 2+3' },
      chat.token,
    );
    expect(sent.status).toBe(202);
    await chat.event('task_completed');
    // The API alone (a no-op without the SDK) is all the code loads.
    expect(loadedPackages(probe)).toEqual(['api']);
    expect(receiver.spans.filter((s) => s.resource['service.name'] === 'untraced')).toEqual([]);
  }, 120_000);

  if (kind === 'postgres')
    it('an answer given on node B is a span in the trace of the run on node A', async () => {
      const cluster = {
        REDIS_URL: serviceUrl('TEST_REDIS_URL'),
        CONFIRMATION_TIMEOUT_MS: '120000',
      };
      const a = await start({ ...cluster, ...traced('node-a') });
      const b = await start({ ...cluster, ...traced('node-b') });
      const chat = await Chat.open(a);
      const sent = await chat.http.post(
        `/sessions/${chat.sessionId}/messages`,
        { content: 'search idle expiry' },
        chat.token,
      );
      const runId = sent.body.runId as string;
      const question = await chat.event('request_confirmation');
      const answered = await chat
        .on(b)
        .http.post(
          `/sessions/${chat.sessionId}/interactions/${question.data.interactionId}`,
          { response: { approved: true } },
          chat.token,
        );
      expect(answered.status).toBe(200);
      await chat.event('task_completed');

      const agent = await receiver.span(
        (s) => s.name === 'invoke_agent' && s.attributes['run.id'] === runId,
      );
      expect(agent.resource['service.name']).toBe('node-a');
      const tool = await receiver.span(
        (s) => s.name === 'execute_tool search_docs' && s.parentSpanId === agent.spanId,
      );
      const answer = await receiver.span(
        (s) =>
          s.name === 'answer_interaction' &&
          s.attributes['interaction.id'] === question.data.interactionId,
      );
      // Given on B, in the run's trace, under the tool call that asked.
      expect(answer.resource['service.name']).toBe('node-b');
      expect(answer).toMatchObject({ traceId: agent.traceId, parentSpanId: tool.spanId });
      expect(answer.attributes).toMatchObject({ 'run.id': runId, 'session.id': chat.sessionId });
      // B's request that carried it is linked.
      const request = await receiver.span((s) => s.spanId === answer.links[0]?.spanId);
      expect(request.resource['service.name']).toBe('node-b');
      expect(request.kind).toBe(2);
      // A wakes the run with it: that too is in the run's trace, under B's answer.
      const delivered = await receiver.span(
        (s) => s.name === 'deliver_answer' && s.parentSpanId === answer.spanId,
      );
      expect(delivered).toMatchObject({ traceId: agent.traceId });
      expect(delivered.resource['service.name']).toBe('node-a');
    }, 120_000);
});
