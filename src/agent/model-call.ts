import type { FaultPoints } from '../common/fault-points.js';
import type { EventDataMap, ThinkingStep } from '../contracts/events.js';
import { DomainError } from '../common/domain-error.js';
import type { HistoryService } from '../history/history.service.js';
import type { QuotaPolicy } from '../quotas/quota-policy.service.js';
import type { UsageMeter } from '../quotas/usage-meter.js';
import type { ToolCall, TranscriptMessage } from '../runs/transcript.js';
import { AgentFailure, type RunSpec } from '../runs/run-spec.js';
import type { AgentToolkit } from './agent-toolkit.js';
import { abortable } from './tools/tool.js';
import { chatSpan } from './agent-spans.js';

/** What a model call needs of the attempt it belongs to (RunExecution is one). */
export interface ModelCallRun {
  readonly spec: RunSpec;
  readonly signal: AbortSignal;
  readonly agent: AgentToolkit;
  readonly faults: FaultPoints;
  readonly meter: UsageMeter;
  readonly history: HistoryService;
  readonly quotas: QuotaPolicy;
  thinking(
    step: ThinkingStep,
    status: EventDataMap['thinking']['status'],
    detail?: string,
  ): Promise<void>;
}

/**
 * One model call (a `chat <model>` span). In the recognition phase the first text chunk means
 * "the answer is a reply": intent_recognition completes and response_generation starts before
 * the text is streamed.
 */
export function callModel(
  run: ModelCallRun,
  transcript: TranscriptMessage[],
  phase: 'recognize' | 'respond',
  offerTools = true,
): Promise<{ text: string; calls: ToolCall[] }> {
  return chatSpan(run.spec, run.agent.provider, run.meter.totals, () =>
    modelCall(run, transcript, phase, offerTools),
  );
}

async function modelCall(
  run: ModelCallRun,
  transcript: TranscriptMessage[],
  phase: 'recognize' | 'respond',
  offerTools: boolean,
): Promise<{ text: string; calls: ToolCall[] }> {
  await assertQuota(run);
  const { spec, agent, meter, signal } = run;
  // Built for each call: the transcript grows with every tool round, and the earlier turns
  // must give way for it to keep the whole input within CONTEXT_MAX_TOKENS.
  const context = await agent.context.build({
    sessionId: spec.sessionId,
    intentId: spec.intentId,
    transcript,
    tools: agent.tools.all(),
  });
  if (phase === 'respond') await run.thinking('response_generation', 'started');
  let text = '';
  const calls: ToolCall[] = [];
  let generating = phase === 'respond';
  const messages = [...context.earlier, ...transcript];
  meter.beginCall([context.system, ...messages.map((m) => m.content)]);
  try {
    const stream = agent.provider.stream({
      system: context.system,
      messages,
      tools: offerTools ? agent.tools.all() : [],
      signal,
    });
    const iterator = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await abortable(iterator.next(), signal);
      if (next.done) break;
      const chunk = next.value;
      if (chunk.type === 'usage') {
        await meter.reported(chunk.promptTokens, chunk.completionTokens);
      } else if (chunk.type === 'tool_call') {
        meter.received(JSON.stringify(chunk.call.arguments));
        if (offerTools) calls.push(chunk.call);
      } else if (chunk.text) {
        meter.received(chunk.text);
        if (!generating) {
          await run.thinking('intent_recognition', 'completed', 'reply');
          await run.thinking('response_generation', 'started');
          generating = true;
          await run.faults.hit('run.reply-started');
        }
        // A cancel that arrived during the steps above ends the run; it is not an empty answer.
        signal.throwIfAborted();
        text += chunk.text;
        run.history.appendDelta(spec.sessionId, spec, chunk.text);
        await run.faults.hit('run.streamed');
      }
    }
  } finally {
    await meter.endCall();
  }
  if (phase === 'recognize' && !generating) {
    await run.thinking(
      'intent_recognition',
      'completed',
      calls.length ? `tool: ${calls.map((c) => c.name).join(', ')}` : 'reply',
    );
  }
  if (generating && calls.length === 0) await run.thinking('response_generation', 'completed');
  return { text, calls };
}

/** The daily token quota, checked before every model call; running out fails the attempt. */
async function assertQuota(run: ModelCallRun): Promise<void> {
  try {
    await run.quotas.assertTokensLeft(run.spec.userId);
  } catch (err) {
    throw err instanceof DomainError ? new AgentFailure(err.message) : err;
  }
}

/**
 * The tool round a transcript stops in the middle of, if any: its assistant message (index
 * `at`) asked for more calls than have results after it, and `from` is the first without one.
 * A run paused at a question checkpoints there; an adopted or retried run goes on from it.
 */
export function openRound(
  transcript: TranscriptMessage[],
): { at: number; from: number } | undefined {
  let at = transcript.length - 1;
  while (at >= 0 && transcript[at].role === 'tool') at--;
  const message = transcript[at];
  if (message?.role !== 'assistant' || !message.toolCalls?.length) return undefined;
  const from = transcript.length - 1 - at;
  return from < message.toolCalls.length ? { at, from } : undefined;
}
