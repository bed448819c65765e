import { UsersAndAuth1732000000000 } from './1732000000000-users-and-auth.js';
import { SessionsAndHistory1732000001000 } from './1732000001000-sessions-and-history.js';
import { UsageAndReminders1732000002000 } from './1732000002000-usage-and-reminders.js';
import { RemindersDueAt1732000010000 } from './1732000010000-reminders-due-at.js';
import { StreamTickets1732000011000 } from './1732000011000-stream-tickets.js';
import { RefreshGrace1732000013000 } from './1732000013000-refresh-grace.js';
import { ActiveSessionsIndex1732000014000 } from './1732000014000-active-sessions-index.js';
import { Steering1732000020000 } from './1732000020000-steering.js';
import { ApprovalGrants1732000021000 } from './1732000021000-approval-grants.js';
import { DurablePauses1732000022000 } from './1732000022000-durable-pauses.js';
import { ToolCallArguments1732000023000 } from './1732000023000-tool-call-arguments.js';
import { Webhooks1732000024000 } from './1732000024000-webhooks.js';
import { InteractionTrace1732000025500 } from './1732000025500-interaction-trace.js';

/** Every migration, oldest first. Listed explicitly so the ESM build needs no file globbing. */
export const MIGRATIONS = [
  UsersAndAuth1732000000000,
  SessionsAndHistory1732000001000,
  UsageAndReminders1732000002000,
  RemindersDueAt1732000010000,
  StreamTickets1732000011000,
  RefreshGrace1732000013000,
  ActiveSessionsIndex1732000014000,
  Steering1732000020000,
  ApprovalGrants1732000021000,
  DurablePauses1732000022000,
  ToolCallArguments1732000023000,
  Webhooks1732000024000,
  InteractionTrace1732000025500,
];
