/**
 * Audit events from a worker (`process.started`, `.completed`, `.failed`, `.cancelled`), batched:
 * they are added to the durable audit queue together every few milliseconds with one `addBulk`,
 * rather than one Redis call each on the job path.
 */
import type { AuditEvent, AuditEventInput } from '@ward/contracts';
import { type AuditEmitter, completeAuditEvent } from '@ward/queue';
import type { Logger } from 'pino';

export class AuditBuffer {
  #pending: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly emitter: AuditEmitter,
    private readonly log: Logger,
    private readonly lingerMs = 20,
  ) {}

  push(input: AuditEventInput): void {
    this.#pending.push(completeAuditEvent(input, 'worker'));
    this.#timer ??= setTimeout(() => void this.flush(), this.lingerMs);
  }

  /** Sends what is pending now. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return this.#flushing;
    this.#flushing = this.#flushing.then(() =>
      this.emitter.emitMany(batch).catch((err: Error) => {
        this.log.error({ events: batch.length, reason: err.message }, 'audit events not enqueued');
      }),
    );
    return this.#flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.emitter.close();
  }
}
