/** A tool call as the model asked for it (and as it ran, once confirmed). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * A run's conversation, provider-neutral. The run engine stores it as the run's checkpoint, so a
 * retry or resume starts its new attempt where the previous one stopped.
 */
export type TranscriptMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };
