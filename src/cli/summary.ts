import type { PollResult } from '../poll/poll-source.js';

/** A fixed-width table, for terminals and for logs alike. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function pollSummary(results: PollResult[]): string {
  const rows = results.map((result) => [
    result.sourceId,
    result.status,
    String(result.objectsDone),
    String(result.events),
    String(result.badLines),
    String(result.duplicates),
    String(result.objectsSkipped),
    String(result.objectsRetrying),
    String(result.objectsFailed),
  ]);
  let text = table(['SOURCE', 'STATUS', 'OBJECTS', 'EVENTS', 'BAD LINES', 'REPEATS', 'SKIPPED', 'RETRYING', 'FAILED'], rows);
  for (const result of results) {
    if (result.messages) {
      text += `  ${result.sourceId}: ${result.messages.received} message(s) received, ${result.messages.deleted} deleted, ${result.messages.returned} returned to the queue for a later try\n`;
    }
    if (result.objectsRecovered) text += `  ${result.sourceId}: ${result.objectsRecovered} log file(s) recovered: a CloudTrail digest listed them after the marker had passed them\n`;
    if (result.digestProblems) text += `  ${result.sourceId}: ${result.digestProblems} CloudTrail digest problem(s): \`s3pull verify ${result.sourceId}\` lists them\n`;
    for (const error of result.errors.slice(0, 5)) text += `  ${result.sourceId}: ${error}\n`;
    if (result.errors.length > 5) text += `  ${result.sourceId}: … and ${result.errors.length - 5} more (see the log)\n`;
  }
  return text;
}
