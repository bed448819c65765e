import { ChatTab } from './support/chat.js';
import { useTestApp } from './support/use-test-app.js';

function value(text: string, name: string, labels = ''): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('Prometheus metrics', () => {
  const t = useTestApp('pglite', {
    BUILTIN_TOKEN_DELAY_MS: '1',
    RATE_LIMIT_MESSAGES_PER_MINUTE: '2',
  });

  it('change as expected after a scripted chat', async () => {
    const before = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(before).toContain('process_cpu_user_seconds_total');
    const u = await t.user();
    const c = await ChatTab.open(t.baseUrl, u.token);
    await c.send('search metrics');
    const q = await c.next('request_confirmation');
    await c.respond(q.data.interactionId, { approved: true });
    const done = await c.end();
    await c.send('hello');
    await c.end(done.seq);
    const limited = await c.send('again');
    expect(limited.error.code).toBe('RATE_LIMITED');
    const during = await (await fetch(`${t.baseUrl}/metrics`)).text();
    c.close();

    expect(value(during, 'hitl_connected_sockets')).toBe(1);
    expect(value(during, 'hitl_session_joins_total')).toBe(1);
    expect(value(during, 'hitl_runs_total', '{outcome="completed"}')).toBe(2);
    expect(value(during, 'hitl_interactions_resolved_total', '{outcome="approved"}')).toBe(1);
    expect(value(during, 'hitl_events_appended_total', '{type="user_message"}')).toBe(2);
    expect(value(during, 'hitl_events_emitted_total', '{type="task_completed"}')).toBe(2);
    expect(value(during, 'hitl_rate_limit_rejections_total', '{kind="messages"}')).toBe(1);
    expect(value(during, 'hitl_run_duration_seconds_count', '{outcome="completed"}')).toBe(2);
    expect(value(during, 'hitl_log_flush_events_count')).toBeGreaterThan(0);
    expect(during).toMatch(/hitl_run_duration_seconds_bucket\{le="300",outcome="completed"\} 2/);
    expect(during).toMatch(
      /hitl_http_request_duration_seconds_count\{method="POST",route="\/auth\/register",status="201"\} 1/,
    );

    const deadline = Date.now() + 2000;
    let after: string;
    do {
      after = await (await fetch(`${t.baseUrl}/metrics`)).text();
    } while (value(after, 'hitl_connected_sockets') !== 0 && Date.now() < deadline);
    expect(value(after, 'hitl_connected_sockets')).toBe(0);
  });
});
