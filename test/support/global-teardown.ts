// Loaded natively like global-setup.ts: no project imports.
const STARTED = Symbol.for('hitl.test.stop-started-services');

/** Stops the PostgreSQL cluster and redis-server that global-setup.ts started, if any. */
export default function globalTeardown(): void {
  (globalThis as Record<symbol, (() => void) | undefined>)[STARTED]?.();
}
