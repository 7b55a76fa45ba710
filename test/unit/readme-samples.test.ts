import { expect } from 'chai';
import { Readable } from 'node:stream';
import { formatFor } from '../../src/formats/index.js';
import { FORMAT_NAMES, sourceSchema } from '../../src/config/schema.js';
import { readmeSamples } from '../helpers/readme-samples.js';

describe('README: the format samples are what the code makes of them', () => {
  const samples = readmeSamples(new URL('../../README.md', import.meta.url));

  it('has a sample for every format (and for the options that change what a format reads)', () => {
    expect([...new Set(samples.map((sample) => sample.format))]).to.have.members([...FORMAT_NAMES]);
    const options = samples.flatMap((sample) => Object.keys(sample.options));
    expect(options).to.include.members(['vpcflow', 'envelope', 'cloudfront_realtime', 'records_path']);
  });

  for (const sample of samples) {
    it(`${sample.format}${Object.keys(sample.options).length > 0 ? ` (${Object.keys(sample.options).join(', ')})` : ''}`, async () => {
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
