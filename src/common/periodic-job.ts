/** Where a job's failed tick is reported (a Nest Logger fits). */
interface JobLogger {
  warn(message: unknown, context?: string): void;
}

interface PeriodicJobOptions<T> {
  /** Names the job in the log line of a tick that failed: `<name> failed`. */
  name: string;
  everyMs: number;
  /** One tick's work. */
  run: () => Promise<T> | T;
  logger: JobLogger;
}

/**
 * The scaffolding of every periodic job of a node: a timer that does not keep the process alive,
 * one tick at a time (a slow tick is not overlapped by the next one, and a tick asked for while
 * one runs joins it), a failed tick logged (the schedule goes on), and a stop that clears the
 * timer and waits for the tick in flight, so nothing of the job runs after the shutdown hook
 * that stopped it (the database closes after the hooks).
 */
export class PeriodicJob<T = void> {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<T> | undefined;
  private stopped = false;

  constructor(private readonly options: PeriodicJobOptions<T>) {}

  /** Whether stop() was called: a long tick checks it to end early. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** A tick every `everyMs`; the first one after an interval, or at once with `{ now: true }`. */
  start(opts: { now?: boolean } = {}): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.options.everyMs);
    this.timer.unref();
    if (opts.now) this.tick();
  }

  /** Runs a tick now, or joins the one in flight; rejects when that tick fails. */
  runOnce(): Promise<T> {
    this.inFlight ??= (async () => this.options.run())().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Stops the schedule and waits for the tick in flight (whose failure was logged already). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => undefined);
  }

  private tick(): void {
    if (this.stopped) return;
    this.runOnce().catch((err: unknown) =>
      this.options.logger.warn({ err }, `${this.options.name} failed`),
    );
  }
}
