import { expect } from 'chai';
import { splitRecords, SplitError, MissingRecordsError, MAX_PASSTHROUGH_DEPTH, type SplitItem } from '../../src/formats/record-splitter.js';

async function split(text: string | Buffer, recordsPath: string[], chunk: number, maxRecordBytes = 1 << 20): Promise<SplitItem[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunk) chunks.push(bytes.subarray(offset, offset + chunk));
  const items: SplitItem[] = [];
  for await (const batch of splitRecords(chunks, { recordsPath, maxRecordBytes })) items.push(...batch);
  return items;
}

/** A seeded generator, so that a failure can be reproduced from the seed in its message. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomValue(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
  switch (kind) {
    case 0:
      return Math.floor(next() * 1e6) / (next() < 0.5 ? 1 : 7);
    case 1: {
      const alphabet = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '{', '}', '[', ']', ',', ':', 'é', '€', '😀', '\u0001'];
      return Array.from({ length: Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    }
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}${next() < 0.2 ? '"\\' : ''}`, randomValue(next, depth + 1)]));
  }
}

describe('record splitter', () => {
  it('yields exactly what JSON.parse finds in the records array, for random documents, compact and pretty, at every chunk size', async () => {
    for (let seed = 1; seed <= 60; seed += 1) {
      const next = random(seed);
      const records = Array.from({ length: Math.floor(next() * 6) }, () => randomValue(next, 0));
      const document = { before: randomValue(next, 2), Records: records, after: randomValue(next, 2) };
      for (const text of [JSON.stringify(document), JSON.stringify(document, null, next() < 0.5 ? 2 : '\t')]) {
        for (const chunk of [1, 2, 3, 7, 64, text.length]) {
          const items = await split(text, ['Records'], chunk);
          expect(items.map((item) => (item.kind === 'record' ? item.value : item)), `seed ${seed}, chunk ${chunk}: ${text}`).to.deep.equal(records);
          // A compact document's record text is the record's own serialisation, character for character.
          if (!text.includes('\n')) expect(items.map((item) => item.kind === 'record' && item.json), `seed ${seed}, chunk ${chunk}`).to.deep.equal(records.map((record) => JSON.stringify(record)));
        }
      }
    }
  });

  it('finds a nested records path and a top-level array, and ignores arrays elsewhere with the same name', async () => {
    const doc = '{"meta":{"items":[9]},"data":{"x":[1],"items":[{"a":1},{"b":[2,{"c":"]"}]}]}}';
    expect((await split(doc, ['data', 'items'], 5)).map((item) => (item as { value: unknown }).value)).to.deep.equal([{ a: 1 }, { b: [2, { c: ']' }] }]);
    expect((await split(' [ {"a":1} , 2 , "s" , [3] ] ', [], 1)).map((item) => (item as { value: unknown }).value)).to.deep.equal([{ a: 1 }, 2, 's', [3]]);
    expect((await split('{"Records":[]}', ['Records'], 3))).to.deep.equal([]);
  });

  it('matches keys written with escapes, and not keys that only look alike', async () => {
    expect((await split('{"Rec\\u006frds":[1]}', ['Records'], 2)).length).to.equal(1);
    let missing: unknown;
    await split('{"records":[1],"x":{"Records":[2]}}', ['Records'], 4).catch((error: unknown) => (missing = error));
    expect(missing).to.be.instanceOf(MissingRecordsError);
  });

  it('passes over a huge key outside the records without mistaking it for the path', async () => {
    const doc = `{"${'k'.repeat(5000)}":1,"Records":[{"a":1}]}`;
    expect((await split(doc, ['Records'], 100)).map((item) => (item as { value: unknown }).value)).to.deep.equal([{ a: 1 }]);
  });

  it('counts a record over the limit without holding it, and goes on with the next', async () => {
    const big = `{"blob":"${'x'.repeat(5000)}"}`;
    const items = await split(`{"Records":[{"a":1},${big},{"b":2}]}`, ['Records'], 100, 1000);
    expect(items).to.deep.equal([{ kind: 'record', value: { a: 1 }, json: '{"a":1}' }, { kind: 'tooLarge', bytes: big.length }, { kind: 'record', value: { b: 2 }, json: '{"b":2}' }]);
  });

  it('refuses a truncated document, an unbalanced one and a broken record, naming the record', async () => {
    const failures: string[] = [];
    for (const text of ['{"Records":[{"a":1},{"b":', '{"Records":[{"a":1}]]', '{"Records":[{"a":tru}]}', '{"Records":[{"a":"x']) {
      try {
        await split(text, ['Records'], 4);
        failures.push('no error');
      } catch (error) {
        expect(error).to.be.instanceOf(SplitError);
        failures.push((error as Error).message);
      }
    }
    expect(failures[0]).to.match(/ends early/);
    expect(failures[1]).to.match(/unbalanced \]/);
    expect(failures[2]).to.match(/^record 1: /);
    expect(failures[3]).to.match(/ends early/);
  });

  it('keeps multi-byte UTF-8 characters whole when a chunk boundary cuts them', async () => {
    const text = '{"Records":[{"s":"€😀é"}]}';
    for (let chunk = 1; chunk < 8; chunk += 1) {
      expect((await split(text, ['Records'], chunk))[0]).to.deep.equal({ kind: 'record', value: { s: '€😀é' }, json: '{"s":"€😀é"}' });
    }
  });

  it('splits a document of hard strings the same at every chunk size and at every single boundary', async () => {
    const records = [
      { a: 'x\\', b: '"}{][,:', c: '\u00e9\ud83d\ude00', d: '\\"\\\\"', e: [[[{}]]], f: '' },
      { g: '\u2028\u2029\u0000\u001f', h: -1.5e-7, i: [true, false, null], j: { '"k"': { '[': ']' } } },
      '}]"',
      12.5,
    ];
    // Escapes as CloudTrail writes some of them (\u00e9, \/), which must reach the output unchanged.
    const text = JSON.stringify({ Records: records }).replace('"\u00e9', '"\\u00e9').replace('"}{][', '"}{]\\/[');
    const expected = (JSON.parse(text) as { Records: unknown[] }).Records;
    const texts = ['{"a":"x\\\\","b":"\\"}{]\\/[,:","c":"\\u00e9😀","d":"\\\\\\"\\\\\\\\\\"","e":[[[{}]]],"f":""}', JSON.stringify(records[1]), '"}]\\""', '12.5'];
    const bytes = Buffer.from(text);
    for (let chunk = 1; chunk <= bytes.length; chunk += 1) {
      const items = await split(bytes, ['Records'], chunk);
      expect(items.map((item) => item.kind === 'record' && item.value), `chunk ${chunk}`).to.deep.equal(expected);
      expect(items.map((item) => item.kind === 'record' && item.json), `chunk ${chunk}`).to.deep.equal(texts);
    }
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const items: SplitItem[] = [];
      for await (const batch of splitRecords([bytes.subarray(0, cut), bytes.subarray(cut)], { recordsPath: ['Records'], maxRecordBytes: 1 << 20 })) items.push(...batch);
      expect(items.map((item) => item.kind === 'record' && item.json), `cut at ${cut}`).to.deep.equal(texts);
    }
  });

  it('takes whitespace and a byte-order mark around the structure, and passes on only one-line records as text', async () => {
    const text = '\ufeff \n {"Records" :\t[ {"a":1} ,\r\n {"b":\n2}\n ] } \n';
    const items = await split(text, ['Records'], 3);
    expect(items).to.deep.equal([{ kind: 'record', value: { a: 1 }, json: '{"a":1}' }, { kind: 'record', value: { b: 2 } }]);
  });

  it('passes on text nested no deeper than a serialiser takes, and parses deeper records without it', async () => {
    const nested = (depth: number) => `${'['.repeat(depth - 1)}${'{"x":1}'}${']'.repeat(depth - 1)}`;
    const items = await split(`{"Records":[${nested(MAX_PASSTHROUGH_DEPTH)},${nested(MAX_PASSTHROUGH_DEPTH + 1)},${nested(100_000)}]}`, ['Records'], 4096);
    expect(items.map((item) => item.kind === 'record' && item.json !== undefined)).to.deep.equal([true, false, false]);
    let inner: unknown = (items[2] as { value: unknown }).value;
    let depth = 1;
    while (Array.isArray(inner)) [inner, depth] = [inner[0], depth + 1];
    expect(depth).to.equal(100_000);
  });

  it('names the record a truncated document breaks off in, or the last whole one', async () => {
    const messages: string[] = [];
    for (const text of ['{"Records":[{"a":1},{"b":', '{"Records":[{"a":1},{"b":"x', '{"Records":[{"a":1},12', '{"Records":[{"a":1}', '{"Records":[{"a":1}]', '{"Rec']) {
      await split(text, ['Records'], 5).then(
        () => messages.push('no error'),
        (error: Error) => messages.push(error.message),
      );
    }
    expect(messages).to.deep.equal([
      'the document ends early, inside record 2 (truncated?)',
      'the document ends early, inside record 2 (truncated?)',
      'the document ends early, inside record 2 (truncated?)',
      'the document ends early, after record 1 (truncated?)',
      'the document ends early, after record 1 (truncated?)',
      'the document ends early (truncated?)',
    ]);
  });

  it('refuses text that is not JSON before looking for the records: at its start, or outside the records', async () => {
    const messages: string[] = [];
    for (const text of ['not gzip, not json', '{"Records":[], oops}', '{"a":1} {"b":2}']) {
      await split(text, ['Records'], 100).then(
        () => messages.push('no error'),
        (error: Error) => messages.push(error.message),
      );
    }
    expect(messages).to.deep.equal(['the document is not a JSON object or array (it begins "not gzip, not json")', 'unexpected "o" outside the records', 'more than one JSON value at the top level']);
  });
});
