/**
 * JSA's "gateway log source" with a "log source identifier pattern": one s3pull source reads keys
 * of many accounts and regions, and each event is named after the account/region its key is under,
 * so the SIEM files it under the right log source.
 */
import { compileKeyPattern } from '../util/key-pattern.js';

export interface IdentifierConfig {
  id: string;
  identifier_pattern?: string | undefined;
  identifier?: string | undefined;
}

/** Placeholders are `{group}` for the pattern's named groups, and `{id}` for the source id. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The named groups a pattern defines, in order (empty when it has none or does not compile). */
export function namedGroups(pattern: string): string[] {
  try {
    return compileKeyPattern(pattern).groupNames;
  } catch {
    return [];
  }
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
  const pattern = compileKeyPattern(config.identifier_pattern);
  const template = config.identifier ?? pattern.groupNames.map((name) => `{${name}}`).join('-');
  return (key) => {
    const found = pattern.groups(key);
    if (!found) {
      onMiss?.(key);
      return config.id;
    }
    return template.replace(PLACEHOLDER, (_, name: string) => (name === 'id' ? config.id : (found[name] ?? '')));
  };
}
