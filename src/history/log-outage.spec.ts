import { DomainError } from '../common/domain-error.js';
import { FENCED_RECORD_TTL_MS, LogOutage, MAX_LOST_RUNS } from './log-outage.js';
import { runEnded } from './history-writer.js';

const lostText = (): DomainError => new DomainError('UNAVAILABLE', 'streamed output lost');

describe('LogOutage: lost output is kept per run', () => {
  it("a stale run's fenced text does not hide the current run's lost text", () => {
    const outage = new LogOutage(1000);
    // The current run R2 lost text in an outage; then a stale execution of R1 had text fenced.
    outage.recordLost('s', 'r2', lostText());
    outage.recordLost('s', 'r1', runEnded());
    expect(outage.takeLost('s', 'r2')?.code).toBe('UNAVAILABLE');
    expect(outage.takeLost('s', 'r2')).toBeUndefined();
    expect(outage.takeLost('s', 'r1')?.code).toBe('CONFLICT');
  });

  it('a session keeps a bounded number of runs on record, the oldest goes first', () => {
    const outage = new LogOutage(1000);
    for (let i = 0; i <= MAX_LOST_RUNS; i++) outage.recordLost('s', `r${i}`, runEnded());
    expect(outage.takeLost('s', 'r0')).toBeUndefined();
    expect(outage.takeLost('s', `r${MAX_LOST_RUNS}`)).toBeDefined();
    outage.forget('s');
    expect(outage.takeLost('s', 'r1')).toBeUndefined();
  });

  it('a fence record no execution came back for is dropped after FENCED_RECORD_TTL_MS; lost text is not', () => {
    const outage = new LogOutage(1000);
    let now = 0;
    outage.now = () => now;
    // A session closed on another node: its execution here had text fenced, then stopped.
    outage.recordLost('gone', 'r1', runEnded(), { fenced: true });
    outage.recordLost('live', 'r2', lostText());
    now = FENCED_RECORD_TTL_MS + 1;
    outage.recordLost('other', 'r3', runEnded(), { fenced: true });
    expect(outage.sessionsOnRecord()).toEqual(['live', 'other']);
    expect(outage.takeLost('live', 'r2')?.code).toBe('UNAVAILABLE');
    expect(outage.takeLost('other', 'r3')?.code).toBe('CONFLICT');
    expect(outage.sessionsOnRecord()).toEqual([]);
  });
});
