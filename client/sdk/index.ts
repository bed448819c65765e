/**
 * The typed client SDK of the service (`@hitl/sdk`). Built on the server's own contract types
 * (`@hitl/contracts`, the package in src/contracts), so event names, payloads, acks and statuses
 * cannot drift from the server.
 */
export {
  type ArgumentField,
  argumentFields,
  type ArgumentKind,
  argumentsOf,
  type ArgumentValues,
  initialValues,
} from './argument-fields.js';
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
export { Inbox } from './inbox.js';
export { type IntentNode, type IntentTreeState } from './intent-tree.js';
export {
  type ChatState,
  type GrantView,
  initialChatState,
  type PendingInteraction,
  reduceChat,
  reduceEvents,
  type StepView,
  type TimelineItem,
  withJoinState,
} from './reducer.js';
export {
  ARGUMENT_FIELD_PREFIX,
  type ConfirmResponse,
  type FormResponse,
  type InteractionResponse,
  type RetryResponse,
} from './responses.js';
export { RestApi, type SendOptions } from './rest-api.js';
export { SequencedLog } from './sequenced-log.js';
export { type EventSourceFactory, type EventSourceLike, SessionRoom } from './session-room.js';
// The contract's status lists, re-exported so an app checks statuses against the same values.
export {
  APPROVAL_SCOPES,
  DENY_REASON_MAX,
  IF_BUSY_POLICIES,
  INTERACTION_KINDS,
  isActiveRunStatus,
  REMINDER_STATUSES,
  RUN_STATUSES,
  SESSION_STATUSES,
} from '@hitl/contracts';
// The contract types a client meets, re-exported so the SDK alone is enough to type an app.
export type {
  ApprovalGrantView,
  ApprovalScope,
  ApprovalsList,
  AuthResponse,
  CancelReason,
  ErrorCode,
  EventDataMap,
  EventPage,
  EventType,
  FieldProblem,
  FormField,
  IfBusyPolicy,
  InboxEvent,
  InteractionKind,
  InteractionOutcome,
  ListSessionsQuery,
  MessageAccepted,
  Page,
  PendingInteraction as InboxItem,
  QueuedIntentView,
  ReminderStatus,
  ReminderView,
  RunIdResponse,
  RunStatus,
  SessionEvent,
  SessionsAction,
  SessionsChange,
  SessionStateView,
  SessionStatus,
  SessionView,
  SessionWithState,
  ThinkingStep,
  ToolsList,
  ToolView,
  UserView,
} from '@hitl/contracts';
