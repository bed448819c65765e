import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error.js';
import type { FormField, InteractionOutcome } from '../../contracts/events.js';
import { QuotaPolicy } from '../../quotas/quota-policy.service.js';
import type { InteractionRow } from '../../runs/runs.repository.js';
import { InteractionLifecycle } from '../../runs/interaction-lifecycle.service.js';
import { HistoryService } from '../../history/history.service.js';
import { contextOf, inSpan, linkToActive } from '../../observability/tracing.js';
import { assertOpen } from '../../sessions/sessions.service.js';
import { InteractionSweeper } from '../../runs/interaction-sweeper.service.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import { type ConfirmAnswer, confirmAnswer } from './confirm-answer.js';
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

/**
 * Checks a response against its interaction's kind (a confirm's edited arguments against the
 * tool's schema, a form's values against its fields); returns the outcome and what the answer adds
 * to `interaction_resolved`.
 */
function answerOf(
  row: InteractionRow,
  response: unknown,
  tools: ToolRegistry,
): ConfirmAnswer | { outcome: InteractionOutcome } {
  const keys = isObject(response) ? Object.keys(response) : [];
  switch (row.kind) {
    case 'confirm':
      return confirmAnswer(row, response, tools);
    case 'retry':
      if (!isObject(response) || typeof response.retry !== 'boolean' || keys.length !== 1)
        throw shapeError('{retry: boolean}');
      return { outcome: response.retry ? 'retry' : 'no_retry' };
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
      return { outcome: 'submitted' };
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
    @Inject(ToolRegistry) private readonly tools: ToolRegistry,
  ) {}

  async execute(cmd: AnswerCommand): Promise<void> {
    const { session, row } = await this.questions.open(
      cmd.userId,
      cmd.sessionId,
      cmd.interactionId,
    );
    // The answer's span is in the trace of the run that asked (its span was stored with the
    // question), wherever and whenever it is given; the command or request that gave it is a link.
    const attributes = {
      'session.id': row.session_id,
      'run.id': row.run_id,
      'intent.id': row.intent_id,
      'interaction.id': row.id,
      'interaction.kind': row.kind,
    };
    const span = { parent: contextOf(row.trace_parent), links: linkToActive(), attributes };
    return inSpan('answer_interaction', span, () => this.answer(cmd, session, row));
  }

  private async answer(
    cmd: AnswerCommand,
    session: { id: string },
    row: InteractionRow,
  ): Promise<void> {
    const { outcome, ...answered } = answerOf(row, cmd.response, this.tools);
    if (outcome === 'retry') await this.quotas.assertTokensLeft(cmd.userId);

    // The answer, its event and (for an accepted retry) the next run, or (for scope session)
    // the grant, commit together, under the session lock, and only while the session is active.
    const by = {
      connectionId: cmd.connectionId,
      response: cmd.response,
      userId: cmd.userId,
      ...answered,
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
