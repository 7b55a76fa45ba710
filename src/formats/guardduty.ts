import type { Format, ParsedItem } from './types.js';
import { parseLines } from './lines-reader.js';
import { parseJsonLine } from './jsonlines.js';
import { isoTime } from './typed.js';

/**
 * GuardDuty findings exported to S3: one finding per line, and a line may also be a wrapper
 * `{"findings": [...]}` (an empty one is how an export says "nothing new"). Each finding is an
 * event at its `updatedAt`, the time GuardDuty last saw the activity.
 */
export const guarddutyFormat: Format = {
  name: 'guardduty',
  parse: (input, context) =>
    parseLines(input, context.maxRecordBytes, (line, number) => {
      const parsed = parseJsonLine(line, number);
      if (!parsed || 'bad' in parsed) return parsed;
      const wrapped = parsed.event.findings;
      return Array.isArray(wrapped) ? wrapped.map((finding) => findingItem(finding, number)) : findingItem(parsed.event, number);
    }),
};

function findingItem(finding: unknown, line: number): ParsedItem {
  if (finding === null || typeof finding !== 'object' || Array.isArray(finding)) return { bad: { line, reason: 'a finding is not a JSON object' } };
  const record = finding as Record<string, unknown>;
  return { event: record, time: isoTime(record.updatedAt) ?? isoTime(record.createdAt) };
}
