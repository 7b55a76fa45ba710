/**
 * Ending the process from a command, for the one case that cannot wait for the event loop to
 * drain (a shutdown whose grace period ran out). Part of the CLI entry; nothing below cli/ exits.
 */
export function forceExit(code: number): void {
  process.exit(code);
}
