import { isDeepStrictEqual } from 'node:util';
import { DomainError } from '../../common/domain-error.js';
import type { FieldProblem } from '../../contracts/error-codes.js';
import { APPROVAL_SCOPES, type ApprovalScope, DENY_REASON_MAX } from '../../contracts/events.js';
import type { InteractionRow } from '../../runs/runs.repository.js';
import type { ToolRegistry } from '../tools/tool-registry.js';

/** A checked answer to a `confirm`: what `interaction_resolved` says besides who answered. */
export interface ConfirmAnswer {
  outcome: 'approved' | 'denied';
  /** A denial's reason, trimmed. */
  reason?: string;
  /** The arguments the person gave the tool (it runs with these). */
  arguments?: Record<string, unknown>;
  /** Whether those differ from the arguments asked about (set whenever `arguments` is). */
  edited?: boolean;
  /** An approval's scope when the answer gave one; `session` is a standing grant of the tool. */
  scope?: ApprovalScope;
}

const KEYS = new Set(['approved', 'reason', 'arguments', 'scope']);
const SHAPE =
  '{approved: true, arguments?: {...}, scope?: "once" | "session"} or {approved: false, reason?: string}';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What is wrong with a confirmation's `reason`, if anything (it goes only with a denial). */
function reasonProblem(approved: boolean, reason: unknown): string | undefined {
  if (approved) return 'goes only with approved: false';
  if (typeof reason !== 'string') return 'must be a string';
  if (reason.trim() === '') return 'must not be blank';
  if (reason.length > DENY_REASON_MAX) return `must be at most ${DENY_REASON_MAX} characters`;
  return undefined;
}

/**
 * Checks an answer to a `confirm` question. Edited `arguments` are checked against the asked
 * tool's parameter schema (each bad one named `response.arguments.<name>`); `scope` is "once"
 * (the default) or "session" (a standing grant, recorded with the answer), and only with an
 * approval. Anything wrong is VALIDATION_FAILED, thrown before anything is stored, so the
 * question stays open.
 */
export function confirmAnswer(
  row: InteractionRow,
  response: unknown,
  tools: ToolRegistry,
): ConfirmAnswer {
  if (
    !isObject(response) ||
    typeof response.approved !== 'boolean' ||
    Object.keys(response).some((k) => !KEYS.has(k))
  ) {
    throw DomainError.validation(`The response must be ${SHAPE}`, [
      { field: 'response', problems: [`must be ${SHAPE}`] },
    ]);
  }
  const approved = response.approved;
  const problems: FieldProblem[] = [];
  const refuse = (field: string, problem: string): void => {
    problems.push({ field, problems: [problem] });
  };
  if ('reason' in response) {
    const problem = reasonProblem(approved, response.reason);
    if (problem) refuse('response.reason', problem);
  }
  if ('scope' in response) {
    if (!approved) refuse('response.scope', 'goes only with approved: true');
    else if (!APPROVAL_SCOPES.includes(response.scope as ApprovalScope))
      refuse('response.scope', `must be one of ${APPROVAL_SCOPES.join(', ')}`);
  }
  let args: Record<string, unknown> | undefined;
  if ('arguments' in response) {
    const given = response.arguments;
    const tool = tools.get(String(row.payload.tool));
    if (!approved) refuse('response.arguments', 'goes only with approved: true');
    else if (!isObject(given)) refuse('response.arguments', 'must be an object');
    else if (!tool) refuse('response.arguments', 'cannot be edited: the tool is no longer offered');
    else {
      problems.push(...tools.argumentProblems(tool, given, 'response.arguments'));
      args = given;
    }
  }
  if (problems.length > 0) {
    const [first] = problems;
    throw DomainError.validation(
      problems.length === 1
        ? `${first.field} ${first.problems[0]}; the question stays open`
        : 'Invalid answer; the question stays open',
      problems,
    );
  }
  if (!approved) {
    const reason = typeof response.reason === 'string' ? response.reason.trim() : undefined;
    return { outcome: 'denied', ...(reason ? { reason } : {}) };
  }
  const scope = typeof response.scope === 'string' ? (response.scope as ApprovalScope) : undefined;
  return {
    outcome: 'approved',
    ...(scope ? { scope } : {}),
    ...(args ? { arguments: args, edited: !isDeepStrictEqual(args, row.payload.arguments) } : {}),
  };
}
