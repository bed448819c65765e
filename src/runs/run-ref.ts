/** What identifies one run to the lifecycle (the ids every event of the run carries). */
export interface RunRef {
  runId: string;
  intentId: string;
  sessionId: string;
  userId: string;
  attempt: number;
}

/** A retry offer just made: its interaction expires at `expiresAt` (timers are set after commit). */
export interface RetryOffer {
  interactionId: string;
  expiresAt: Date;
}
