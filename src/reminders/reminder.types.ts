export const REMINDER_STATUSES = ['scheduled', 'fired', 'cancelled'] as const;
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];

/** A reminder as the REST API shows it (docs/protocol.md "Sessions", `Reminder`). */
export interface ReminderView {
  id: string;
  sessionId: string | null;
  label: string;
  dueAt: string;
  status: ReminderStatus;
  createdAt: string;
  firedAt: string | null;
}

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
