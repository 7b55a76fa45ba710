import type { Format, ParsedItem } from './types.js';
import { readLines, MAX_LINE_BYTES } from './lines-reader.js';
import { isoTime } from './typed.js';

/**
 * GuardDuty findings exported to S3: one finding per line, and a line may also be a wrapper
 * `{"findings": [...]}` (an empty one is how an export says "nothing new"). Each finding is an
 * event at its `updatedAt`, the time GuardDuty last saw the activity.
 */
export const guarddutyFormat: Format = {
  name: 'guardduty',
  async *parse(input) {
    for await (const item of readLines(input)) {
      if ('tooLong' in item) {
        yield { bad: { line: item.number, reason: `line of ${item.tooLong} bytes is longer than the ${MAX_LINE_BYTES} allowed` } };
        continue;
      }
      if (item.line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(item.line);
      } catch (error) {
        yield { bad: { line: item.number, reason: `invalid JSON: ${(error as Error).message}` } };
        continue;
      }
      const findings = isObject(value) && Array.isArray(value.findings) ? value.findings : [value];
      for (const finding of findings) yield findingItem(finding, item.number);
    }
  },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function findingItem(finding: unknown, line: number): ParsedItem {
  if (!isObject(finding)) return { bad: { line, reason: 'a finding is not a JSON object' } };
  return { event: finding, time: isoTime(finding.updatedAt) ?? isoTime(finding.createdAt) };
}
