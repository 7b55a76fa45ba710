import type { OutputRecord, Sink } from '../../src/sinks/types.js';
import { SinkError } from '../../src/util/errors.js';

/** Keeps what it is given; can be told to fail, as a full disk or a dead receiver would. */
export class MemorySink implements Sink {
  readonly description = 'memory';
  readonly lines: string[] = [];
  failing = false;
  /** Fails every write after this many have succeeded (a receiver that dies mid-object). */
  failAfterWrites = Infinity;
  writes = 0;

  readonly records: OutputRecord[] = [];

  async write(records: OutputRecord[]): Promise<void> {
    if (this.failing || this.writes >= this.failAfterWrites) throw new SinkError('memory sink told to fail');
    this.writes += 1;
    this.records.push(...records);
    for (const record of records) this.lines.push(record.line);
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

/** Output records around ready-made events (JSON texts), for sink tests. */
export function recordsOf(lines: string[], source = 'test-source'): OutputRecord[] {
  return lines.map((line, index) => ({
    id: `id${index}`,
    time: '2026-11-23T10:00:00.000Z',
    source,
    sourceId: source,
    format: 'lines',
    line: `{"id":"id${index}","event":${line}}`,
    eventOffset: `{"id":"id${index}","event":`.length,
  }));
}
