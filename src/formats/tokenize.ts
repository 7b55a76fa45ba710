/**
 * Splits an AWS access-log line into fields: separated by spaces, a field may be "quoted" (with
 * \" escapes) or [bracketed] (S3 access logs' time). Returns undefined for an unbalanced line.
 */
export function tokenize(line: string): string[] | undefined {
  const fields: string[] = [];
  let index = 0;
  while (index < line.length) {
    if (line[index] === ' ') {
      index += 1;
      continue;
    }
    if (line[index] === '"') {
      // Quoted parts with something right after them are one field, as a shell joins them: NLB
      // writes its ALPN list as "h2","http/1.1" (→ h2,http/1.1).
      let value = '';
      while (index < line.length && line[index] !== ' ') {
        if (line[index] !== '"') {
          value += line[index];
          index += 1;
          continue;
        }
        index += 1;
        while (index < line.length && line[index] !== '"') {
          if (line[index] === '\\' && index + 1 < line.length) index += 1;
          value += line[index];
          index += 1;
        }
        if (index >= line.length) return undefined;
        index += 1;
      }
      fields.push(value);
    } else if (line[index] === '[') {
      const end = line.indexOf(']', index);
      if (end === -1) return undefined;
      fields.push(line.slice(index + 1, end));
      index = end + 1;
    } else {
      const end = line.indexOf(' ', index);
      fields.push(end === -1 ? line.slice(index) : line.slice(index, end));
      index = end === -1 ? line.length : end;
    }
  }
  return fields;
}

export interface FieldSpec {
  name: string;
  type?: 'number' | 'hostport';
}

/**
 * Names the fields of a tokenized line: `-` is null, numbers are numbers, `host:port` becomes
 * `<name>_ip` and `<name>_port`. Fields beyond the known ones (newer log versions) are kept as
 * `field_<n>` so that nothing is lost.
 */
export function nameFields(values: string[], specs: FieldSpec[]): { event: Record<string, unknown>; error?: string } {
  const event: Record<string, unknown> = {};
  for (let index = 0; index < values.length; index += 1) {
    const spec = specs[index] ?? { name: `field_${index + 1}` };
    const value = values[index]!;
    if (value === '-' || value === '') {
      if (spec.type === 'hostport') {
        event[`${spec.name}_ip`] = null;
        event[`${spec.name}_port`] = null;
      } else event[spec.name] = null;
      continue;
    }
    if (spec.type === 'number') {
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) return { event, error: `${spec.name} <${value}> is not a number` };
      event[spec.name] = parsed;
    } else if (spec.type === 'hostport') {
      const colon = value.lastIndexOf(':');
      event[`${spec.name}_ip`] = colon === -1 ? value : value.slice(0, colon);
      event[`${spec.name}_port`] = colon === -1 ? null : Number(value.slice(colon + 1));
    } else {
      event[spec.name] = value;
    }
  }
  return { event };
}
