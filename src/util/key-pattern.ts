/**
 * Regular expressions over object keys (`file_pattern`, `identifier_pattern`) run on RE2's
 * engine (re2js), whose matching time grows linearly with the key: a pattern such as `(a+)+$`,
 * which backtracks for minutes in JavaScript's engine, costs microseconds, so no pattern can
 * stall a poll or the process. RE2 has no backreferences (`\1`) and no lookaround (`(?=`,
 * `(?!`, `(?<=`, `(?<!`); a pattern that uses them is refused when the config is loaded.
 */
import { RE2JS } from 're2js';

export interface KeyPattern {
  readonly source: string;
  test(key: string): boolean;
  /** The named groups' values when the key matches; undefined when it does not. */
  groups(key: string): Record<string, string> | undefined;
  /** Group names, in the order the pattern opens them. */
  readonly groupNames: string[];
}

/** Compiles with RE2 semantics; throws an Error whose message says what RE2 refuses. */
export function compileKeyPattern(source: string): KeyPattern {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (error) {
    throw new Error(`${(error as Error).message.replace(/^error parsing regexp: /, '')} (patterns use RE2 syntax: no backreferences or lookaround)`);
  }
  const named = compiled.namedGroups() as Record<string, number>;
  const groupNames = Object.entries(named)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
  return {
    source,
    groupNames,
    test: (key) => compiled.matcher(key).find(),
    groups(key) {
      const matcher = compiled.matcher(key);
      if (!matcher.find()) return undefined;
      const found: Record<string, string> = {};
      for (const name of groupNames) found[name] = matcher.group(name) ?? '';
      return found;
    },
  };
}

/** The reason RE2 refuses a pattern, or undefined when it compiles. */
export function keyPatternProblem(source: string): string | undefined {
  try {
    compileKeyPattern(source);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
