import type { EventDataMap, InteractionOutcome, NewEvent } from '../contracts/events.js';
import type { InteractionRow } from './runs.repository.js';

/** What an answer adds to its `interaction_resolved`. */
export type AnswerDetails = Pick<
  EventDataMap['interaction_resolved'],
  'reason' | 'arguments' | 'edited' | 'scope'
>;

/**
 * The `interaction_resolved` event of an interaction row: tagged with the run and intent that
 * asked, and with the answering connection (in data and on the event) when a connection answered,
 * and what the answer adds: a denial's reason, an approval's edited arguments and its scope.
 */
export function interactionResolved(
  row: Pick<InteractionRow, 'id' | 'run_id' | 'intent_id'>,
  outcome: InteractionOutcome,
  connectionId?: string,
  answer: AnswerDetails = {},
): NewEvent {
  return {
    type: 'interaction_resolved',
    data: {
      interactionId: row.id,
      outcome,
      ...(connectionId ? { connectionId } : {}),
      ...(answer.reason ? { reason: answer.reason } : {}),
      ...(answer.arguments ? { arguments: answer.arguments, edited: answer.edited ?? true } : {}),
      ...(answer.scope ? { scope: answer.scope } : {}),
    },
    runId: row.run_id,
    intentId: row.intent_id,
    ...(connectionId ? { connectionId } : {}),
  };
}
