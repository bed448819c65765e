import { futureTimeProblem, parseReminderTime } from './reminder-time.js';

const now = new Date('2026-03-10T12:00:00.000Z');
const at = (text: string): string | undefined => parseReminderTime(text, now)?.toISOString();

describe('parseReminderTime', () => {
  it('reads relative phrases from now', () => {
    expect(at('in 2 seconds')).toBe('2026-03-10T12:00:02.000Z');
    expect(at('in 10 minutes')).toBe('2026-03-10T12:10:00.000Z');
  });

  it('reads times of day in UTC, the next one when today has passed', () => {
    expect(at('tomorrow 9:00')).toBe('2026-03-11T09:00:00.000Z');
    expect(at('at 17:30')).toBe('2026-03-10T17:30:00.000Z');
    expect(at('9:00')).toBe('2026-03-11T09:00:00.000Z');
  });

  it('reads ISO-8601, honouring an offset and taking UTC without one', () => {
    expect(at('2030-01-02T10:00:00+02:00')).toBe('2030-01-02T08:00:00.000Z');
    expect(at('2030-01-02T10:00:00Z')).toBe('2030-01-02T10:00:00.000Z');
    expect(at('2030-01-02 10:00')).toBe('2030-01-02T10:00:00.000Z');
  });

  it('refuses what is not only a time', () => {
    expect(at('not a time')).toBeUndefined();
    expect(at('water the plants tomorrow')).toBeUndefined();
    expect(at('')).toBeUndefined();
  });

  it('names past and unreadable values', () => {
    expect(futureTimeProblem('in 5 minutes', now)).toBeUndefined();
    expect(futureTimeProblem('2020-01-01T00:00:00Z', now)).toMatch(/past/);
    expect(futureTimeProblem('soon-ish', now)).toMatch(/not a time/);
  });
});
