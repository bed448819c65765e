import { Inject, Injectable } from '@nestjs/common';
import { ClusterBus } from '../../cluster/cluster-bus.js';
import { DomainError } from '../../common/domain-error.js';
import { isUuid } from '../../common/uuid.js';
import type { FormField, InteractionOutcome } from '../../contracts/events.js';
import { HistoryService } from '../../history/history.service.js';
import { UsageService } from '../../quotas/usage.service.js';
import { RunsRepository, type InteractionRow } from '../../sessions/runs.repository.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import { AgentRepository } from '../agent.repository.js';
import { InteractionHub } from '../interaction-hub.js';
import { RetryIntentUseCase } from './retry-intent.usecase.js';
import { formValueProblem } from './form-values.js';
import { interactionResolved } from '../../sessions/interaction-events.js';

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

/** Checks a response against its interaction's kind (and a form's fields); returns the outcome. */
export function outcomeOf(row: InteractionRow, response: unknown): InteractionOutcome {
  const keys = isObject(response) ? Object.keys(response) : [];
  switch (row.kind) {
    case 'confirm':
      if (!isObject(response) || typeof response.approved !== 'boolean' || keys.length !== 1) {
        throw shapeError('{approved: boolean}');
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
 * a retry answer starts the next attempt or ends the intent.
 */
@Injectable()
export class AnswerInteractionUseCase {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(AgentRepository) private readonly repo: AgentRepository,
    @Inject(RunsRepository) private readonly runs: RunsRepository,
    @Inject(HistoryService) private readonly history: HistoryService,
    @Inject(InteractionHub) private readonly hub: InteractionHub,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(RetryIntentUseCase) private readonly retry: RetryIntentUseCase,
    @Inject(ClusterBus) private readonly cluster: ClusterBus,
  ) {}

  async execute(cmd: AnswerCommand): Promise<void> {
    const session = await this.sessions.requireOwned(cmd.userId, cmd.sessionId);
    const row = isUuid(cmd.interactionId)
      ? await this.repo.findInteraction(cmd.interactionId)
      : undefined;
    if (!row || row.session_id !== session.id) throw DomainError.notFound('Interaction');
    if (row.resolved_at)
      throw new DomainError(
        'INTERACTION_RESOLVED',
        `This question was already answered (${row.outcome})`,
      );
    const outcome = outcomeOf(row, cmd.response);
    if (outcome === 'retry') await this.usage.assertWithinQuota(cmd.userId);

    const won = await this.runs.resolveInteraction(
      row.id,
      outcome,
      cmd.connectionId ?? null,
      cmd.response,
    );
    if (!won) throw new DomainError('INTERACTION_RESOLVED', 'This question was already answered');
    await this.history.append(session.id, [interactionResolved(row, outcome, cmd.connectionId)]);
    if (row.kind !== 'retry') {
      // The run waits on the node that executes it; that may be another one.
      if (!this.hub.deliver(row.id, { outcome, response: cmd.response })) {
        this.cluster.publish({
          kind: 'answer',
          interactionId: row.id,
          outcome,
          response: cmd.response,
        });
      }
      return;
    }
    if (outcome === 'retry') await this.retry.execute(row.intent_id, session.id, cmd.userId);
    else await this.repo.setIntentStatus(row.intent_id, ['active'], 'failed');
  }
}
