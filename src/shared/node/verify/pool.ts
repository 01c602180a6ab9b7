// Signature checks in worker threads (as Core's CCheckQueue): a block's checks are split into one
// contiguous share per thread, packed into one buffer each, and verified in parallel; the answer
// is one flag per check. Every request has a deadline: a thread that does not answer in time
// is replaced and its share reported unverified (the caller then verifies on its own thread).
import { Worker } from 'node:worker_threads';
import { type PackedCheck, type VerifyRequest, type VerifyResponse, packChecks } from './protocol.js';

interface Slot {
  worker: Worker;
  waiting: Map<number, (ok: Uint8Array | undefined) => void>;
}

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  /** threads: worker threads; deadlineMs: how long one share may take. */
  constructor(
    readonly threads: number,
    readonly deadlineMs = 30_000,
  ) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new RangeError('threads must be a whole number from 1 to 256');
  }

  /** Threads start on first use, so a process that never checks a block in parallel has none. */
  private ensureStarted(): void {
    while (this.slots.length < this.threads) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    const slot: Slot = { worker, waiting: new Map() };
    worker.on('message', (m: VerifyResponse) => {
      slot.waiting.get(m.id)?.(m.ok);
      slot.waiting.delete(m.id);
    });
    worker.on('error', () => this.fail(slot));
    worker.on('exit', () => this.fail(slot));
    worker.unref();
    return slot;
  }

  private fail(slot: Slot): void {
    for (const done of slot.waiting.values()) done(undefined);
    slot.waiting.clear();
    const i = this.slots.indexOf(slot);
    if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
  }

  private share(slot: Slot, checks: readonly PackedCheck[]): Promise<Uint8Array | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.waiting.delete(id);
        resolve(undefined);
        void slot.worker.terminate();
      }, this.deadlineMs);
      slot.waiting.set(id, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
      slot.worker.postMessage({ id, packed: packChecks(checks) } satisfies VerifyRequest);
    });
  }

  /** One flag per check: true = verified; false = invalid or not verified in time. */
  async verify(checks: readonly PackedCheck[]): Promise<boolean[]> {
    if (this.closed) throw new Error('verify pool is closed');
    this.ensureStarted();
    const n = Math.min(this.slots.length, checks.length);
    const per = Math.ceil(checks.length / Math.max(n, 1));
    const shares = Array.from({ length: n }, (_, i) => this.share(this.slots[i]!, checks.slice(i * per, (i + 1) * per)));
    const answers = await Promise.all(shares);
    const out: boolean[] = [];
    answers.forEach((a, i) => {
      const len = Math.min(per, checks.length - i * per);
      for (let k = 0; k < len; k++) out.push(a?.[k] === 1);
    });
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
