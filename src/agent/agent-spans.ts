import { context, createContextKey, ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import { GEN_AI, inSpan, linkToActive } from '../observability/tracing.js';
import type { RunSpec } from '../runs/run-spec.js';
import type { ToolCall } from '../runs/transcript.js';
import type { LlmProvider } from './providers/provider.js';

/**
 * The agent's spans, named and attributed as the OpenTelemetry GenAI conventions say:
 * `invoke_agent` for a run, `chat <model>` for each model call, `execute_tool <tool>` for each
 * tool call (a question it asks, and the wait for its answer, are inside it). Each carries the
 * run's ids. No-ops without the SDK (see observability/tracing.ts).
 */
const AGENT_NAME = 'hitl-agent';

/** Set in a run's context: a run started from inside another (the next queued) is not its child. */
const IN_RUN = createContextKey('hitl.run');

type Usage = { promptTokens: number; completionTokens: number };

function runAttributes(spec: RunSpec): Record<string, string | number> {
  return {
    'session.id': spec.sessionId,
    'run.id': spec.runId,
    'intent.id': spec.intentId,
    'run.attempt': spec.attempt,
    [GEN_AI.conversationId]: spec.sessionId,
    [GEN_AI.agentName]: AGENT_NAME,
  };
}

/** The model's name as the conventions want it (the built-in agent has none but its own). */
function modelOf(provider: LlmProvider): string {
  return provider.model ?? provider.name;
}

function setUsage(span: Span, usage: Usage): void {
  span.setAttribute(GEN_AI.inputTokens, usage.promptTokens);
  span.setAttribute(GEN_AI.outputTokens, usage.completionTokens);
}

/**
 * A run's span (`usage()` is read at its end: the run's whole usage): a child of what started it
 * (a request, a command, an answer), but a trace of its own, linked, when the run before it in
 * the session's queue started it on its way out.
 */
export function invokeAgentSpan(
  spec: RunSpec,
  provider: LlmProvider,
  usage: () => Usage,
  fn: (span: Span) => Promise<void>,
): Promise<void> {
  const attributes = {
    ...runAttributes(spec),
    [GEN_AI.operation]: 'invoke_agent',
    [GEN_AI.provider]: provider.name,
    [GEN_AI.requestModel]: modelOf(provider),
    ...(spec.resume ? { 'run.adopted': true } : {}),
  };
  const queued = context.active().getValue(IN_RUN) !== undefined;
  const options = queued
    ? { attributes, parent: ROOT_CONTEXT, links: linkToActive() }
    : { attributes };
  return inSpan('invoke_agent', options, async (span) => {
    try {
      await context.with(context.active().setValue(IN_RUN, true), () => fn(span));
    } finally {
      if (span.isRecording()) setUsage(span, usage());
    }
  });
}

/**
 * A model call's span. `totals` is the run's usage meter, live: the call's usage is what it
 * grew by meanwhile (reported by the provider, or counted when it reports none).
 */
export function chatSpan<T extends { calls: ToolCall[] }>(
  spec: RunSpec,
  provider: LlmProvider,
  totals: Readonly<Usage>,
  fn: () => Promise<T>,
): Promise<T> {
  const model = modelOf(provider);
  const attributes = {
    ...runAttributes(spec),
    [GEN_AI.operation]: 'chat',
    [GEN_AI.provider]: provider.name,
    [GEN_AI.requestModel]: model,
  };
  const before = { ...totals };
  return inSpan(`chat ${model}`, { attributes }, async (span) => {
    try {
      const out = await fn();
      span.setAttribute(GEN_AI.finishReasons, [out.calls.length ? 'tool_calls' : 'stop']);
      return out;
    } finally {
      if (span.isRecording())
        setUsage(span, {
          promptTokens: totals.promptTokens - before.promptTokens,
          completionTokens: totals.completionTokens - before.completionTokens,
        });
    }
  });
}

/** A tool call's span, from its parameters' check to its result (questions included). */
export function executeToolSpan<T>(spec: RunSpec, call: ToolCall, fn: () => Promise<T>) {
  const attributes = {
    ...runAttributes(spec),
    [GEN_AI.operation]: 'execute_tool',
    [GEN_AI.toolName]: call.name,
    [GEN_AI.toolCallId]: call.id,
    [GEN_AI.toolType]: 'function',
  };
  return inSpan(`execute_tool ${call.name}`, { attributes }, () => fn());
}
