/**
 * An object's events: its bytes decoded (formats/decode.ts), then read by the source's format.
 * A zip archive's entries are read one after another, each as a text of its own, and their
 * events carry `zip_entry` beside them in the envelope; a bad line names its entry.
 */
import type { Readable } from 'node:stream';
import { decodeParts, type DecodeTally } from './decode.js';
import type { Format, FormatContext, ParsedItem } from './types.js';

export async function* parseObject(format: Format, body: Readable, context: FormatContext, tally?: DecodeTally): AsyncGenerator<ParsedItem> {
  for await (const part of decodeParts(body, context.key, tally)) {
    const items = format.parse(part.bytes, context);
    const entry = part.entry;
    if (entry === undefined) {
      yield* items;
      continue;
    }
    for await (const item of items) {
      if ('bad' in item) yield { bad: { line: item.bad.line, reason: `zip entry ${entry}: ${item.bad.reason}` } };
      else yield { ...item, fields: { ...item.fields, zip_entry: entry } };
    }
  }
}
