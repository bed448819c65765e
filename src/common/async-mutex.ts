/** A FIFO lock: `acquire()` resolves with a release function once every earlier holder released. */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  get pending(): number {
    return this.waiting;
  }

  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const previous = this.tail;
    this.tail = previous.then(() => held);
    this.waiting++;
    return previous.then(() => {
      this.waiting--;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    });
  }
}
