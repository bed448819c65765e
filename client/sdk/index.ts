/**
 * The typed client SDK of the service. Built on the server's own contract types
 * (src/contracts), so event names, payloads and acks cannot drift from the server.
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
export { ApiError, type FetchLike, HttpTransport } from './http.js';
export {
  type ChatState,
  initialChatState,
  type PendingInteraction,
  reduceChat,
  reduceEvents,
  type RunStatus,
  type StepView,
  type TimelineItem,
  withJoinState,
} from './reducer.js';
export { RestApi } from './rest-api.js';
export { SequencedLog } from './sequenced-log.js';
export { type EventSourceFactory, type EventSourceLike, SessionRoom } from './session-room.js';
export type {
  SessionEvent,
  EventType,
  EventDataMap,
  FormField,
} from '../../src/contracts/events.js';
export type { SessionView, SessionStateView } from '../../src/contracts/socket.js';
export type { AuthResponse, EventPage, Page, UserView } from '../../src/contracts/rest.js';
