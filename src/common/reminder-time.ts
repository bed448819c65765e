import * as chrono from 'chrono-node';

/** What may surround the time phrase in a value that is still "just a time". */
const FILLER = /^[\s,.;:!?]*(?:(?:at|on|in|by)\b)?[\s,.;:!?]*$/i;

/**
 * Reads a reminder time: natural language ("in 2 seconds", "tomorrow 9:00", "next friday at
 * 5pm") or ISO-8601, relative to `now`. Times without an offset are UTC; a time of day that has
 * already passed today means the next one. Undefined when the text is not (only) a time, so
 * "water the plants" or "not a time" are refused rather than guessed at.
 */
export function parseReminderTime(text: string, now: Date = new Date()): Date | undefined {
  const value = text.trim();
  if (value === '' || value.length > 200) return undefined;
  const [first] = chrono.parse(value, { instant: now, timezone: 'UTC' }, { forwardDate: true });
  if (!first) return undefined;
  const rest = value.slice(0, first.index) + value.slice(first.index + first.text.length);
  if (!FILLER.test(rest)) return undefined;
  const date = first.date();
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The problem with a `datetime` value, or undefined when it reads as a future instant. */
export function futureTimeProblem(text: string, now: Date = new Date()): string | undefined {
  const at = parseReminderTime(text, now);
  if (!at)
    return 'is not a time this service can read (try "in 10 minutes", "tomorrow 9:00" or ISO-8601)';
  if (at.getTime() <= now.getTime()) return `is in the past (${at.toISOString()})`;
  return undefined;
}
