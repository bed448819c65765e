import type { ToolCall, TranscriptMessage } from '../runs/transcript.js';
import type { FaultPoints } from '../common/fault-points.js';
import type { EventDataMap, ThinkingStep } from '../contracts/events.js';
import type { InteractionAnswer } from '../runs/interaction-hub.js';
import type { QuestionData } from '../runs/run-questions.js';
import type { PausePoint, RunSpec } from '../runs/run-spec.js';
import type { AgentToolkit } from './agent-toolkit.js';
import { abortable } from './tools/tool.js';
import { executeToolSpan } from './agent-spans.js';

const blank = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

function toolMessage(call: ToolCall, content: object): TranscriptMessage {
  return { role: 'tool', toolCallId: call.id, name: call.name, content: JSON.stringify(content) };
}

/** What a tool call needs of the attempt it belongs to (RunExecution is one). */
export interface ToolCallRun {
  readonly spec: RunSpec;
  readonly signal: AbortSignal;
  readonly agent: AgentToolkit;
  readonly faults: FaultPoints;
  thinking(
    step: ThinkingStep,
    status: EventDataMap['thinking']['status'],
    detail?: string,
  ): Promise<void>;
  /** Asks the call's question (`callKey` names the call, so an adopted run finds it again). */
  ask<K extends 'confirm' | 'form'>(
    kind: K,
    data: QuestionData<K>,
    callKey: string,
  ): Promise<InteractionAnswer>;
  /** Whether the run replays to this very question (it was asked: no grant can skip it now). */
  replays(callKey: string, kind: PausePoint['kind']): boolean;
}

/** A tool call's result for the model, and the call as it ran (a person may edit its arguments). */
export interface ToolCallDone {
  call: ToolCall;
  message: TranscriptMessage;
}

function editedArguments(response: unknown): Record<string, unknown> | undefined {
  const args = (response as { arguments?: unknown } | undefined)?.arguments;
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : undefined;
}

/**
 * One tool call: parameter_extraction (a form for what is missing or unreadable), a confirmation
 * when the tool needs one and the session holds no standing grant of it (then tool_execution
 * says the grant approved it), then tool_execution. A question that is denied, times out or is
 * cancelled skips the tool; the model is told so and answers without it. An approval with
 * arguments (checked against the tool's schema when it was given, and again here before the tool
 * runs) runs the tool with those, and the call is returned with them, so the model's transcript holds the call as it ran. `key` is
 * the call's idempotency key (toolCallKey): a call already completed under it is not run again.
 * All of it is one `execute_tool <tool>` span.
 */
export function runTool(run: ToolCallRun, asked: ToolCall, key: string): Promise<ToolCallDone> {
  return executeToolSpan(run.spec, asked, () => toolCall(run, asked, key));
}

async function toolCall(run: ToolCallRun, asked: ToolCall, key: string): Promise<ToolCallDone> {
  let call = asked;
  const done = (message: TranscriptMessage): ToolCallDone => ({ call, message });
  const tool = run.agent.tools.get(call.name);
  if (!tool) return done(toolMessage(call, { error: `unknown tool ${call.name}` }));
  const earlier = await run.agent.toolCalls.completed(key);
  if (earlier) {
    // The call as it ran (an edited one with its edited arguments), not as it is asked again.
    if (earlier.arguments) call = { ...call, arguments: earlier.arguments };
    return done({ role: 'tool', toolCallId: call.id, name: call.name, content: earlier.result });
  }

  await run.thinking('parameter_extraction', 'started');
  let args: Record<string, unknown> = { ...call.arguments };
  const unusable = new Set(tool.invalidArguments?.(args) ?? []);
  const missing = tool.required.filter((k) => blank(args[k]) || unusable.has(k));
  if (missing.length > 0) {
    const answer = await run.ask(
      'form',
      {
        kind: 'form',
        title: `${tool.name}: ${missing.join(' and ')} needed`,
        fields: tool.formFields.filter((f) => missing.includes(f.name)),
      },
      key,
    );
    if (answer.outcome !== 'submitted') {
      await run.thinking(
        'parameter_extraction',
        'failed',
        `${missing.join(', ')} not given (${answer.outcome})`,
      );
      return done(
        toolMessage(call, {
          skipped: answer.outcome === 'timeout' ? 'the form timed out' : answer.outcome,
        }),
      );
    }
    Object.assign(args, (answer.response as { values: Record<string, unknown> }).values);
    // The call as it runs: the model's transcript shows the values the person gave.
    call = { ...call, arguments: { ...args } };
  }
  await run.thinking('parameter_extraction', 'completed', JSON.stringify(args));

  // A grant is read at each call, and again where the call is claimed, under the session lock a
  // revoke takes: once a revoke has answered, no call runs by that grant; one that finds it gone asks.
  const { runId, intentId, userId, sessionId } = run.spec;
  const claim = { intentId, runId, tool: tool.name };
  // A replay of the question the run paused at takes that question's answer, grant or not.
  let byGrant =
    tool.needsConfirmation &&
    !run.replays(key, 'confirm') &&
    (await run.agent.grants.has(sessionId, tool.name));
  await run.faults.hit('tool.grant-read');
  if (byGrant)
    byGrant = await run.agent.toolCalls.beginByGrant(key, { ...claim, arguments: args, sessionId });
  if (tool.needsConfirmation && !byGrant) {
    const answer = await run.ask(
      'confirm',
      {
        tool: tool.name,
        arguments: args,
        message: `Run ${tool.name} with ${JSON.stringify(args)}?`,
      },
      key,
    );
    if (answer.outcome !== 'approved') {
      // The model is told why (a denial's reason, as the person wrote it), as the tool's result.
      const reason = (answer.response as { reason?: unknown } | undefined)?.reason;
      return done(
        toolMessage(call, {
          skipped: answer.outcome === 'timeout' ? 'no answer in time' : answer.outcome,
          ...(answer.outcome === 'denied' && typeof reason === 'string'
            ? { reason: reason.trim() }
            : {}),
        }),
      );
    }
    const given = editedArguments(answer.response);
    if (given) {
      args = { ...given };
      call = { ...call, arguments: given };
      // Checked again against this node's tool: the answer may have been checked by a node of
      // another version (a rolling deploy that changed the schema). Then the tool is skipped.
      const problems = run.agent.tools.argumentProblems(tool, args, 'arguments');
      if (problems.length > 0) {
        const error = problems.map((p) => `${p.field} ${p.problems.join(', ')}`).join('; ');
        await run.thinking('tool_execution', 'failed', `${tool.name}: ${error}`);
        return done(
          toolMessage(call, { skipped: 'the approved arguments do not fit the tool', error }),
        );
      }
    }
  }

  await run.thinking(
    'tool_execution',
    'started',
    byGrant ? `${tool.name} (approved by a standing grant for this session)` : tool.name,
  );
  if (!byGrant) await run.agent.toolCalls.begin(key, { ...claim, arguments: args });
  const result = await abortable(
    tool.execute(args, { signal: run.signal, userId, sessionId, idempotencyKey: key }),
    run.signal,
  );
  await run.faults.hit('tool.executed');
  await run.agent.toolCalls.complete(key, result.content);
  await run.faults.hit('tool.recorded');
  await run.thinking('tool_execution', 'completed', result.summary);
  return done({ role: 'tool', toolCallId: call.id, name: call.name, content: result.content });
}
