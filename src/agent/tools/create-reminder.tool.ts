import { randomUUID } from 'node:crypto';
import { futureTimeProblem, parseReminderTime } from '../../common/reminder-time.js';
import type { RemindersRepository } from '../../reminders/reminders.repository.js';
import { type Tool, type ToolContext, type ToolResult, text } from './tool.js';

export class CreateReminderTool implements Tool {
  readonly name = 'create_reminder';
  readonly description =
    'Stores a reminder for the user: when (time) and what (label). When it is due, the user is told in this session.';
  readonly parameters = {
    type: 'object',
    properties: {
      time: {
        type: 'string',
        description:
          'when: natural language relative to now ("in 10 minutes", "tomorrow 9:00") or ISO-8601; UTC unless an offset is given',
      },
      label: { type: 'string', description: 'what to remind about' },
    },
    required: ['time', 'label'],
    additionalProperties: false,
  };
  readonly needsConfirmation = false;
  readonly required = ['time', 'label'] as const;
  readonly formFields = [
    { name: 'time', label: 'When', type: 'datetime' as const, required: true },
    { name: 'label', label: 'What', type: 'text' as const, required: true },
  ];

  constructor(private readonly reminders: RemindersRepository) {}

  invalidArguments(args: Record<string, unknown>): string[] {
    const time = args.time;
    if (time === undefined || time === null || text(time).trim() === '') return [];
    return futureTimeProblem(text(time)) ? ['time'] : [];
  }

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    const time = text(args.time).trim();
    const label = text(args.label).trim();
    // Read again now: a form answer was checked when submitted, a moment ago. A time that has
    // just passed meanwhile fires at once rather than being lost.
    const dueAt = parseReminderTime(time) ?? new Date();
    ctx.signal.throwIfAborted();
    const { row } = await this.reminders.createOnce({
      id: randomUUID(),
      userId: ctx.userId,
      sessionId: ctx.sessionId,
      label,
      timeText: time,
      dueAt,
      idempotencyKey: ctx.idempotencyKey,
    });
    const due = new Date(row.due_at).toISOString();
    return {
      content: JSON.stringify({ id: row.id, label: row.label, time, dueAt: due, stored: true }),
      summary: `reminder stored for ${due}`,
    };
  }
}
