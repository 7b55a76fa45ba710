/**
 * Ending the process from a command, for the one case that cannot wait for the event loop to
 * drain: a shutdown whose grace period ran out. Part of the CLI entry; nothing below cli/ exits.
 *
 * Not process.exit(): it waits for libuv's thread pool, and a thread stuck in a write that never
 * returns (a FIFO nobody reads, a hung NFS mount) holds it forever. SIGTERM's default action
 * does not wait, and to systemd it is the ordinary end of a stopped service.
 */
export function forceExit(): void {
  // A moment for the log line that says what was abandoned to reach stderr.
  setTimeout(() => {
    process.removeAllListeners('SIGTERM');
    process.kill(process.pid, 'SIGTERM');
  }, 100);
}
