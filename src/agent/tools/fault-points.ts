/**
 * Hooks at the moments where a crash hurts most, for tests that must hit them exactly (no
 * sleeping and hoping). Unset in the service, where calling them costs one property read.
 */
export const faultPoints: {
  /** After a tool's side effect, before its result is recorded or checkpointed. */
  afterToolSideEffect?: (tool: string) => void;
} = {};
