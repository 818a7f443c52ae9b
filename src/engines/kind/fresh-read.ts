/**
 * One read at a time of something costly to read (a `docker exec` into the node), shared by every
 * caller it can be fresh for: a caller gets the result of a read that started no earlier than its own
 * call — never an older one — and callers that ask while a read runs share the one read that starts
 * after it. Reads start at least `minIntervalMs` apart. Many waiters polling the same state (several
 * probes waiting for the network plugin at once) then cost one read every interval instead of a
 * stream of reads each.
 */
export class FreshRead<T> {
  private current?: { started: number; result: Promise<T> };
  private next?: Promise<T>;
  private lastStart = -Infinity;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly minIntervalMs = 0,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get(): Promise<T> {
    const asked = this.now();
    const cur = this.current;
    if (cur && cur.started >= asked) return cur.result;
    // No read, or one that began before this call: share the next one (after the running one ends).
    if (!this.next) {
      const before = cur
        ? cur.result.then(
            () => undefined,
            () => undefined,
          )
        : Promise.resolve();
      this.next = before.then(() => this.start());
    }
    return this.next;
  }

  private async start(): Promise<T> {
    const wait = this.lastStart + this.minIntervalMs - this.now();
    if (wait > 0) await this.sleep(wait);
    this.next = undefined;
    const started = this.now();
    this.lastStart = started;
    const result = this.read();
    const entry = { started, result };
    this.current = entry;
    const clear = () => {
      if (this.current === entry) this.current = undefined;
    };
    result.then(clear, clear);
    return result;
  }
}
