import type { ReminderStatus, ReminderView } from '../contracts/rest.js';

// The REST shape (docs/protocol.md "Sessions", `Reminder`) is the contract's; only the row is ours.
export type { ReminderStatus, ReminderView };

export interface ReminderRow {
  id: string;
  user_id: string;
  session_id: string | null;
  label: string;
  due_at: Date | string;
  status: ReminderStatus;
  created_at: Date | string;
  fired_at: Date | string | null;
}

const iso = (d: Date | string): string => new Date(d).toISOString();

export function toReminderView(r: ReminderRow): ReminderView {
  return {
    id: r.id,
    sessionId: r.session_id,
    label: r.label,
    dueAt: iso(r.due_at),
    status: r.status,
    createdAt: iso(r.created_at),
    firedAt: r.fired_at ? iso(r.fired_at) : null,
  };
}
