/**
 * The source's lease: one poller (a `run`, a `once`, a backfill job) pulls a source's objects at
 * a time across the processes sharing the state file, so no object is pulled by two at once.
 */
import { hostname } from 'node:os';
import type { LeaseStore } from '../state/types.js';

/** How long a holder keeps the lease before it must renew; it renews with every batch. */
export const LEASE_MS = 10 * 60_000;
export const LEASE_OWNER = `${hostname()}:${process.pid}`;

export type LeaseAnswer = { held: true; tookOverFrom?: string } | { held: false; owner: string; untilMs: number };

/** A lease of one thing (a source, a job): taking or renewing it for an owner, and giving it back. */
export interface Lease {
  acquire(owner: string, nowMs: number, untilMs: number): { held: true } | { held: false; owner: string; untilMs: number };
  release(owner: string): void;
}

export function sourceLease(leases: Pick<LeaseStore, 'acquireLease' | 'releaseLease'>, sourceId: string): Lease {
  return { acquire: (owner, nowMs, untilMs) => leases.acquireLease(sourceId, owner, nowMs, untilMs), release: (owner) => leases.releaseLease(sourceId, owner) };
}

/** Takes the lease, or that of a holder on this host that died (SIGKILL, power loss) and so cannot renew. */
export function takeLease(lease: Lease, nowMs: number, owner = LEASE_OWNER): LeaseAnswer {
  const answer = lease.acquire(owner, nowMs, nowMs + LEASE_MS);
  if (answer.held || !isDeadLocalProcess(answer.owner)) return answer;
  lease.release(answer.owner);
  const taken = lease.acquire(owner, nowMs, nowMs + LEASE_MS);
  return taken.held ? { held: true, tookOverFrom: answer.owner } : taken;
}

export function isDeadLocalProcess(owner: string): boolean {
  const separator = owner.lastIndexOf(':');
  const host = owner.slice(0, separator);
  const pid = Number(owner.slice(separator + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
