/**
 * JSA's "gateway log source" with a "log source identifier pattern": one s3pull source reads keys
 * of many accounts and regions, and each event is named after the account/region its key is under,
 * so the SIEM files it under the right log source.
 */

export interface IdentifierConfig {
  id: string;
  identifier_pattern?: string | undefined;
  identifier?: string | undefined;
}

/** Placeholders are `{group}` for the pattern's named groups, and `{id}` for the source id. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The named groups a pattern defines, in order (empty when it has none or does not compile). */
export function namedGroups(pattern: string): string[] {
  const names: string[] = [];
  // A named group opens with "(?<name>"; lookbehinds "(?<=" and "(?<!" are not names.
  for (const match of pattern.matchAll(/(?<!\\)\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)) names.push(match[1]!);
  return names;
}

/** Placeholders of a template that neither the pattern nor `{id}` provide. */
export function unknownPlaceholders(template: string, groups: string[]): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!).filter((name) => name !== 'id' && !groups.includes(name));
}

/**
 * The function that names an object's events: the template filled from the key's match, the
 * group values joined by "-" without a template, or the source id when the key does not match.
 */
export function sourceNamer(config: IdentifierConfig, onMiss?: (key: string) => void): (key: string) => string {
  if (!config.identifier_pattern) return () => config.id;
  const pattern = new RegExp(config.identifier_pattern);
  const groups = namedGroups(config.identifier_pattern);
  const template = config.identifier ?? groups.map((name) => `{${name}}`).join('-');
  return (key) => {
    const match = pattern.exec(key);
    if (!match?.groups) {
      onMiss?.(key);
      return config.id;
    }
    const found = match.groups;
    return template.replace(PLACEHOLDER, (_, name: string) => (name === 'id' ? config.id : (found[name] ?? '')));
  };
}
