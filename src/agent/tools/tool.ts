import type { FormField } from '../../contracts/events.js';

export interface ToolContext {
  signal: AbortSignal;
  userId: string;
  sessionId: string;
  /** Stable across retries of the same call (see toolCallKey): a side effect is made once per key. */
  idempotencyKey: string;
}

export interface ToolResult {
  /** What the model reads back (JSON text). */
  content: string;
  /** A one-line summary for the `thinking` event. */
  summary: string;
}

/** A tool the agent can call: described to the model by name and JSON schema. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON schema of the arguments (object). */
  readonly parameters: Record<string, unknown>;
  readonly needsConfirmation: boolean;
  /** Arguments that must be present; missing ones are asked for with a form. */
  readonly required: readonly string[];
  /** Form fields for the required arguments. */
  readonly formFields: readonly FormField[];
  /** Given arguments that cannot be used as they are; they are asked for with a form too. */
  invalidArguments?(args: Record<string, unknown>): string[];
  /** Runs the tool; it stops (rejecting) when ctx.signal aborts. */
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>;
}

/** Rejects with the signal's reason once it aborts: for awaiting anything cancellable. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Nobody will await `work` now; its own rejection (often the same abort) must not go unhandled.
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** A delay that ends early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return abortable(new Promise<void>((r) => setTimeout(r, ms).unref()), signal);
}

/** A tool argument as text (models sometimes send numbers or objects where text is expected). */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}
