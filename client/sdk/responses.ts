import type { ApprovalScope } from '@hitl/contracts';

/**
 * An answer to a `confirm` (docs/protocol.md "Approvals"): approve, optionally with edited
 * `arguments` (checked against the tool's parameter schema) and `scope: "session"` (a standing
 * grant for the rest of the session); or deny, optionally saying why (1..500 characters).
 */
export type ConfirmResponse =
  | { approved: true; arguments?: Record<string, unknown>; scope?: ApprovalScope }
  | { approved: false; reason?: string };

/** An answer to a `form`: its fields' values by name. */
export interface FormResponse {
  values: Record<string, string>;
}

/** An answer to a `retry` offer. */
export interface RetryResponse {
  retry: boolean;
}

/** What `interaction:respond` (and its REST twin) carries, by the kind of the question. */
export type InteractionResponse = ConfirmResponse | FormResponse | RetryResponse;

/** Where VALIDATION_FAILED names an edited argument: `response.arguments.<path>`. */
export const ARGUMENT_FIELD_PREFIX = 'response.arguments.';
