import { expect } from 'chai';
import { splitRecords, SplitError, MissingRecordsError, type SplitItem } from '../../src/formats/record-splitter.js';

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
    expect(items).to.deep.equal([{ kind: 'record', value: { a: 1 } }, { kind: 'tooLarge', bytes: big.length }, { kind: 'record', value: { b: 2 } }]);
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
      expect((await split(text, ['Records'], chunk))[0]).to.deep.equal({ kind: 'record', value: { s: '€😀é' } });
    }
  });
});
