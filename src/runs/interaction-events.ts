import type { ApprovalScope, InteractionOutcome, NewEvent } from '../contracts/events.js';
import type { InteractionRow } from './runs.repository.js';

/**
 * The `interaction_resolved` event of an interaction row: tagged with the run and intent that
 * asked, and with the answering connection (in data and on the event) when a connection answered,
 * a denial's reason when it gave one, and an approval's scope.
 */
export function interactionResolved(
  row: Pick<InteractionRow, 'id' | 'run_id' | 'intent_id'>,
  outcome: InteractionOutcome,
  connectionId?: string,
  reason?: string,
  scope?: ApprovalScope,
): NewEvent {
  return {
    type: 'interaction_resolved',
    data: {
      interactionId: row.id,
      outcome,
      ...(connectionId ? { connectionId } : {}),
      ...(reason ? { reason } : {}),
      ...(scope ? { scope } : {}),
    },
    runId: row.run_id,
    intentId: row.intent_id,
    ...(connectionId ? { connectionId } : {}),
  };
}
