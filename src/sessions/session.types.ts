/**
 * The session shapes the server hands out are the wire contract's (src/contracts/session.ts);
 * they are re-exported here under the names the server has always used, never restated.
 */
export { INTENT_STATUSES, RUN_STATUSES, SESSION_STATUSES } from '../contracts/session.js';
export type {
  IntentStatus,
  InteractionView,
  RunStatus,
  RunView,
  SessionStateView as SessionState,
  SessionStatus,
  SessionView,
  SessionWithState,
} from '../contracts/session.js';
