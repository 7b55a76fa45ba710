import type { Sink } from '../../src/sinks/types.js';
import { SinkError } from '../../src/util/errors.js';

/** Keeps what it is given; can be told to fail, as a full disk or a dead receiver would. */
export class MemorySink implements Sink {
  readonly description = 'memory';
  readonly lines: string[] = [];
  failing = false;
  writes = 0;

  async write(lines: string[]): Promise<void> {
    if (this.failing) throw new SinkError('memory sink told to fail');
    this.writes += 1;
    this.lines.push(...lines);
  }

  async reopen(): Promise<void> {}

  async close(): Promise<void> {}

  events(): { id: string; key: string; event: { eventID?: string } & Record<string, unknown> }[] {
    return this.lines.map((line) => JSON.parse(line));
  }

  eventIds(): string[] {
    return this.events().map((event) => String(event.event.eventID));
  }
}
