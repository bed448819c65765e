import { randomUUID } from 'node:crypto';
import type { Database } from '../../database/database.js';
import { type Tool, type ToolContext, type ToolResult, text } from './tool.js';

export class CreateReminderTool implements Tool {
  readonly name = 'create_reminder';
  readonly description = 'Stores a reminder for the user: when (time) and what (label).';
  readonly parameters = {
    type: 'object',
    properties: {
      time: { type: 'string', description: 'when, e.g. "tomorrow 9:00" or an ISO date-time' },
      label: { type: 'string', description: 'what to remind about' },
    },
    required: ['time', 'label'],
    additionalProperties: false,
  };
  readonly needsConfirmation = false;
  readonly required = ['time', 'label'] as const;
  readonly formFields = [
    { name: 'time', label: 'When', type: 'text' as const, required: true },
    { name: 'label', label: 'What', type: 'text' as const, required: true },
  ];

  constructor(private readonly db: Database) {}

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    const time = text(args.time).trim();
    const label = text(args.label).trim();
    const id = randomUUID();
    await this.db.query(
      `INSERT INTO reminders (id, user_id, session_id, label, remind_at) VALUES ($1, $2, $3, $4, $5)`,
      [id, ctx.userId, ctx.sessionId, label, time],
    );
    return {
      content: JSON.stringify({ id, time, label, stored: true }),
      summary: `reminder stored for ${time}`,
    };
  }
}
