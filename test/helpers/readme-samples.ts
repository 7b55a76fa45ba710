/** The README's format samples (section "Samples"): what the README-sample test checks and bench:formats repeats. */
import { readFileSync } from 'node:fs';

export interface ReadmeSample {
  format: string;
  /** "(with `records_path: data.items`, `cloudfront_realtime.fields: …`)" as source options. */
  options: Record<string, unknown>;
  input: string;
  expected: unknown;
}

export function readmeSamples(readmeFile: string | URL): ReadmeSample[] {
  const readme = readFileSync(readmeFile, 'utf8');
  const section = readme.slice(readme.indexOf('### Samples'), readme.indexOf('## Outputs'));
  const pattern = /<summary><code>(\w+)<\/code>(.*?)<\/summary>\n\n```text\n([\s\S]*?)\n```\n\n```json\n(.*?)\n```/g;
  return [...section.matchAll(pattern)].map(([, format, note, input, expected]) => ({
    format: format!,
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
