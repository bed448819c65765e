/**
 * The typed client SDK of the service (`@hitl/sdk`). Built on the server's own contract types
 * (`@hitl/contracts`, the package in src/contracts), so event names, payloads, acks and statuses
 * cannot drift from the server.
 */
export { AuthClient, memoryTokenStore, type StoredAuth, type TokenStore } from './auth.js';
export {
  backoffDelay,
  type ChatSocketLike,
  newClientMessageId,
  type SocketFactory,
  socketIoFactory,
} from './chat-socket.js';
export {
  type ConnectionInfo,
  type ConnectionStatus,
  HitlClient,
  type HitlClientOptions,
} from './hitl-client.js';
export {
  activePath,
  canRegenerate,
  conversation,
  type ConversationItem,
  latestRuns,
  type RunItem,
  siblingsOf,
  type Turn,
} from './conversation.js';
export { ApiError, type FetchLike, HttpTransport } from './http.js';
export { type IntentNode, type IntentTreeState } from './intent-tree.js';
export {
  type ChatState,
  initialChatState,
  type PendingInteraction,
  reduceChat,
  reduceEvents,
  type StepView,
  type TimelineItem,
  withJoinState,
} from './reducer.js';
export { RestApi, type SendOptions } from './rest-api.js';
export { SequencedLog } from './sequenced-log.js';
export { type EventSourceFactory, type EventSourceLike, SessionRoom } from './session-room.js';
// The contract's status lists, re-exported so an app checks statuses against the same values.
export {
  IF_BUSY_POLICIES,
  INTERACTION_KINDS,
  isActiveRunStatus,
  REMINDER_STATUSES,
  RUN_STATUSES,
  SESSION_STATUSES,
} from '@hitl/contracts';
// The contract types a client meets, re-exported so the SDK alone is enough to type an app.
export type {
  AuthResponse,
  CancelReason,
  ErrorCode,
  EventDataMap,
  EventPage,
  EventType,
  FormField,
  IfBusyPolicy,
  InteractionKind,
  InteractionOutcome,
  ListSessionsQuery,
  MessageAccepted,
  Page,
  QueuedIntentView,
  ReminderStatus,
  ReminderView,
  RunIdResponse,
  RunStatus,
  SessionEvent,
  SessionStateView,
  SessionStatus,
  SessionView,
  SessionWithState,
  ThinkingStep,
  UserView,
} from '@hitl/contracts';
