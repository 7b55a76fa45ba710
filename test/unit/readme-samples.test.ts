import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { formatFor } from '../../src/formats/index.js';
import { FORMAT_NAMES, sourceSchema } from '../../src/config/schema.js';

/** The README's format samples, each a sample input and what s3pull makes of it. */
function readmeSamples(): { format: string; options: Record<string, unknown>; input: string; expected: unknown }[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Samples'), readme.indexOf('## Outputs'));
  const pattern = /<summary><code>(\w+)<\/code>(.*?)<\/summary>\n\n```text\n([\s\S]*?)\n```\n\n```json\n(.*?)\n```/g;
  return [...section.matchAll(pattern)].map(([, format, note, input, expected]) => ({
    format: format!,
    // "(with `records_path: data.items`, `time_field: observedAt`)" → options
    // "(with `cloudfront_realtime.fields: …`)" → { cloudfront_realtime: { fields: … } }
    options: Object.fromEntries(
      [...note!.matchAll(/`([\w.]+): ([^`]+)`/g)].map(([, key, value]) => {
        const [name, inner] = key!.split('.');
        return [name!, inner === undefined ? value! : { [inner]: value! }];
      }),
    ),
    input: input!,
    expected: JSON.parse(expected!),
  }));
}

describe('README: the format samples are what the code makes of them', () => {
  const samples = readmeSamples();

  it('has a sample for every format', () => {
    expect(samples.map((sample) => sample.format)).to.have.members([...FORMAT_NAMES]);
  });

  for (const sample of samples) {
    it(`${sample.format}`, async () => {
      const source = sourceSchema.parse({ id: 'readme', bucket: 'readme-bucket', region: 'us-east-1', format: sample.format, ...sample.options });
      const items = [];
      for await (const item of formatFor(source).parse(Readable.from([Buffer.from(sample.input)]), { key: 'readme' })) items.push(item);
      const first = items[0]!;
      expect(first, JSON.stringify(first)).to.have.property('event');
      if (!('event' in first)) return;
      expect({ time: first.time ?? null, ...(first.fields ?? {}), event: first.event }).to.deep.equal(sample.expected);
    });
  }
});
