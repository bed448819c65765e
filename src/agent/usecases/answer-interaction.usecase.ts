import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import {
  APPROVAL_SCOPES,
  type ApprovalScope,
  DENY_REASON_MAX,
  type FormField,
  type InteractionOutcome,
} from '../../contracts/events.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import type { InteractionRow } from '../../runs/runs.repository.js';
import { InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import { HistoryService } from '../../history/history.service.js';
import { assertOpen } from '../../sessions/sessions.service.js';
import { InteractionSweeper } from '../../runs/interaction-sweeper.service.js';
import { formValueProblem } from './form-values.js';
import { QuestionLookup } from './question-lookup.js';
import { busyOnConflict, RunStarts } from './run-starts.js';

const noRun = Promise.resolve(undefined);

export interface AnswerCommand {
  userId: string;
  sessionId: string;
  interactionId: string;
  response: unknown;
  connectionId?: string;
}

const MAX_VALUE_LENGTH = 500;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shapeError(expected: string): DomainError {
  return DomainError.validation(`The response must be ${expected}`, [
    { field: 'response', problems: [`must be ${expected}`] },
  ]);
}

/** What is wrong with a confirmation's `reason`, if anything (it goes only with a denial). */
function reasonProblem(approved: boolean, reason: unknown): string | undefined {
  if (approved) return 'goes only with approved: false';
  if (typeof reason !== 'string') return 'must be a string';
  if (reason.trim() === '') return 'must not be blank';
  if (reason.length > DENY_REASON_MAX) return `must be at most ${DENY_REASON_MAX} characters`;
  return undefined;
}

/** What is wrong with a confirmation's `scope`, if anything (it goes only with an approval). */
function scopeProblem(approved: boolean, scope: unknown): string | undefined {
  if (!approved) return 'goes only with approved: true';
  if (!APPROVAL_SCOPES.includes(scope as ApprovalScope))
    return `must be one of ${APPROVAL_SCOPES.join(', ')}`;
  return undefined;
}

/** An approval's scope when the answer gave one (checked by outcomeOf). */
function scopeOf(response: unknown): ApprovalScope | undefined {
  return isObject(response) && typeof response.scope === 'string'
    ? (response.scope as ApprovalScope)
    : undefined;
}

/** A denial's reason, trimmed, when the answer gave one (checked by outcomeOf). */
function reasonOf(response: unknown): string | undefined {
  return isObject(response) && typeof response.reason === 'string'
    ? response.reason.trim()
    : undefined;
}

/** Checks a response against its interaction's kind (and a form's fields); returns the outcome. */
function outcomeOf(row: InteractionRow, response: unknown): InteractionOutcome {
  const keys = isObject(response) ? Object.keys(response) : [];
  switch (row.kind) {
    case 'confirm':
      if (
        !isObject(response) ||
        typeof response.approved !== 'boolean' ||
        keys.some((k) => k !== 'approved' && k !== 'reason' && k !== 'scope')
      ) {
        throw shapeError(
          '{approved: true, scope?: "once" | "session"} or {approved: false, reason?: string}',
        );
      }
      if ('reason' in response) {
        const problem = reasonProblem(response.approved, response.reason);
        if (problem) {
          throw DomainError.validation(`The reason ${problem}`, [
            { field: 'response.reason', problems: [problem] },
          ]);
        }
      }
      if ('scope' in response) {
        const problem = scopeProblem(response.approved, response.scope);
        if (problem) {
          throw DomainError.validation(`The scope ${problem}`, [
            { field: 'response.scope', problems: [problem] },
          ]);
        }
      }
      return response.approved ? 'approved' : 'denied';
    case 'retry':
      if (!isObject(response) || typeof response.retry !== 'boolean' || keys.length !== 1)
        throw shapeError('{retry: boolean}');
      return response.retry ? 'retry' : 'no_retry';
    case 'form': {
      if (!isObject(response) || !isObject(response.values) || keys.length !== 1)
        throw shapeError('{values: {...}}');
      const fields = (row.payload.fields ?? []) as FormField[];
      const values = response.values;
      const problems: { field: string; problems: string[] }[] = [];
      for (const name of Object.keys(values)) {
        if (!fields.some((f) => f.name === name))
          problems.push({ field: `values.${name}`, problems: ['is not a field of this form'] });
      }
      for (const f of fields) {
        const v = values[f.name];
        if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
          if (f.required)
            problems.push({ field: `values.${f.name}`, problems: [`${f.label} is required`] });
        } else if (typeof v !== 'string') {
          problems.push({ field: `values.${f.name}`, problems: ['must be a string'] });
        } else if (v.length > MAX_VALUE_LENGTH) {
          problems.push({
            field: `values.${f.name}`,
            problems: [`must be at most ${MAX_VALUE_LENGTH} characters`],
          });
        } else {
          const problem = formValueProblem(f, v);
          if (problem) problems.push({ field: `values.${f.name}`, problems: [problem] });
        }
      }
      if (problems.length)
        throw DomainError.validation('Invalid form values; the form stays open', problems);
      return 'submitted';
    }
  }
}

/**
 * interaction:respond and its REST twin. The first answer from any tab wins (one conditional
 * UPDATE); later ones get INTERACTION_RESOLVED. A confirm or form answer wakes the waiting run;
 * a retry answer starts the next attempt or ends the intent. In a closed session: SESSION_CLOSED.
 */
@Injectable()
export class AnswerInteractionUseCase {
  constructor(
    @Inject(QuestionLookup) private readonly questions: QuestionLookup,
    @Inject(InteractionLifecycle) private readonly interactions: InteractionLifecycle,
    @Inject(InteractionSweeper) private readonly sweeper: InteractionSweeper,
    @Inject(QuotaPolicy) private readonly quotas: QuotaPolicy,
    @Inject(RunStarts) private readonly starts: RunStarts,
    @Inject(HistoryService) private readonly history: HistoryService,
  ) {}

  async execute(cmd: AnswerCommand): Promise<void> {
    const { session, row } = await this.questions.open(
      cmd.userId,
      cmd.sessionId,
      cmd.interactionId,
    );
    const outcome = outcomeOf(row, cmd.response);
    if (outcome === 'retry') await this.quotas.assertTokensLeft(cmd.userId);

    // The answer, its event and (for an accepted retry) the next run, or (for scope session)
    // the grant, commit together, under the session lock, and only while the session is active.
    const by = {
      connectionId: cmd.connectionId,
      response: cmd.response,
      reason: reasonOf(cmd.response),
      scope: scopeOf(cmd.response),
      userId: cmd.userId,
    };
    const won = await this.history
      .transaction(session.id, async (locked) => {
        assertOpen(locked);
        return this.interactions.resolveInTx(session.id, row.id, outcome, by, (r) =>
          outcome === 'retry' ? this.starts.next(r.intent_id, session.id, cmd.userId, by) : noRun,
        );
      })
      .catch(busyOnConflict);
    if (!won) throw new DomainError('INTERACTION_RESOLVED', 'This question was already answered');
    if (won.result) this.starts.launch(won.result);
    else this.sweeper.hand({ ...won.row, outcome, response: cmd.response });
  }
}
