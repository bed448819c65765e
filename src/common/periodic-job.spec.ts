import { afterEach, beforeEach, expect, it, jest } from '@jest/globals';
import { PeriodicJob } from './periodic-job.js';

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

/** A job whose ticks are held until released, counting the ticks begun. */
function heldJob() {
  const warnings: unknown[][] = [];
  const gates: (() => void)[] = [];
  let begun = 0;
  const job = new PeriodicJob<number>({
    name: 'test job',
    everyMs: 10,
    logger: { warn: (...args: unknown[]) => void warnings.push(args) },
    run: () => {
      begun++;
      return new Promise<number>((resolve) => gates.push(() => resolve(begun)));
    },
  });
  const releaseAll = (): void => {
    for (const release of gates.splice(0)) release();
  };
  return { job, warnings, begun: () => begun, releaseAll };
}

it('ticks every interval, the first after one interval, and never overlaps the tick in flight', async () => {
  const { job, begun, releaseAll } = heldJob();
  job.start();
  await jest.advanceTimersByTimeAsync(9);
  expect(begun()).toBe(0);
  await jest.advanceTimersByTimeAsync(1);
  expect(begun()).toBe(1);
  // The tick is held: ten more intervals start nothing.
  await jest.advanceTimersByTimeAsync(100);
  expect(begun()).toBe(1);
  releaseAll();
  await jest.advanceTimersByTimeAsync(10);
  expect(begun()).toBe(2);
  releaseAll();
  await job.stop();
});

it('starts with a tick at once when told to', async () => {
  const { job, begun, releaseAll } = heldJob();
  job.start({ now: true });
  expect(begun()).toBe(1);
  releaseAll();
  await job.stop();
});

it('runOnce joins the tick in flight', async () => {
  const { job, begun, releaseAll } = heldJob();
  job.start({ now: true });
  const joined = job.runOnce();
  expect(begun()).toBe(1);
  releaseAll();
  await expect(joined).resolves.toBe(1);
  // The tick ended: the next runOnce is a tick of its own.
  const next = job.runOnce();
  expect(begun()).toBe(2);
  releaseAll();
  await expect(next).resolves.toBe(2);
  await job.stop();
});

it('stop clears the timer and waits for the tick in flight', async () => {
  const { job, begun, releaseAll } = heldJob();
  job.start();
  await jest.advanceTimersByTimeAsync(10);
  expect(begun()).toBe(1);
  let stopped = false;
  const stopping = job.stop().then(() => (stopped = true));
  await jest.advanceTimersByTimeAsync(100);
  expect(stopped).toBe(false);
  expect(job.stopping).toBe(true);
  releaseAll();
  await stopping;
  expect(stopped).toBe(true);
  expect(jest.getTimerCount()).toBe(0);
  job.start();
  await jest.advanceTimersByTimeAsync(100);
  expect(begun()).toBe(1);
});

it('logs a failed tick and goes on with the schedule', async () => {
  const warnings: unknown[][] = [];
  let runs = 0;
  const job = new PeriodicJob({
    name: 'flaky job',
    everyMs: 10,
    logger: { warn: (...args: unknown[]) => void warnings.push(args) },
    run: () => {
      runs++;
      if (runs === 1) return Promise.reject(new Error('database away'));
      if (runs === 2) throw new Error('thrown, not rejected');
    },
  });
  job.start();
  await jest.advanceTimersByTimeAsync(10);
  expect(warnings).toEqual([[{ err: new Error('database away') }, 'flaky job failed']]);
  await jest.advanceTimersByTimeAsync(10);
  expect(warnings[1]).toEqual([{ err: new Error('thrown, not rejected') }, 'flaky job failed']);
  await jest.advanceTimersByTimeAsync(10);
  expect(runs).toBe(3);
  expect(warnings).toHaveLength(2);
  await job.stop();
});

it('a stop while a failing tick is in flight resolves', async () => {
  let fail!: (err: Error) => void;
  const job = new PeriodicJob({
    name: 'failing job',
    everyMs: 10,
    logger: { warn: () => undefined },
    run: () => new Promise<void>((_, reject) => (fail = reject)),
  });
  job.start({ now: true });
  const stopping = job.stop();
  fail(new Error('gone'));
  await expect(stopping).resolves.toBeUndefined();
});
