import { ApiError } from '@hitl/sdk';

/** The service's message for an error it answered; a generic one for anything else. */
export const errorText = (err: unknown): string =>
  err instanceof ApiError ? err.message : 'Something went wrong';
