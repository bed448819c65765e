import type { ToolCall, TranscriptMessage } from '../../runs/transcript.js';
import type { Tool } from '../tools/tool.js';

export type ProviderChunk =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; call: ToolCall }
  | { type: 'usage'; promptTokens: number; completionTokens: number };

export interface ProviderRequest {
  /** What the agent is, its tools, the date (see ConversationContextBuilder). */
  system?: string;
  /** The session's earlier turns, then the current intent's transcript. */
  messages: TranscriptMessage[];
  tools: Tool[];
  signal: AbortSignal;
}

/**
 * A chat model: streams text deltas and tool calls, reports token usage, and stops (rejecting)
 * when the signal aborts.
 */
export interface LlmProvider {
  readonly name: string;
  /** The model asked for (traces name model calls by it); absent: the provider's name. */
  readonly model?: string;
  stream(req: ProviderRequest): AsyncIterable<ProviderChunk>;
}

export const LLM_PROVIDER = Symbol('LLM_PROVIDER');
