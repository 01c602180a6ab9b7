// What the Electrum methods (methods.ts) are given: the explorer's lookups and the server's shared
// parts, and the connection asking. Kept apart so the method table and the socket side
// (server.ts, session.ts) do not import each other.
import type { Lookups } from '../lookups.js';
import type { HeaderProofs } from './header-proof.js';
import type { PoolIndex } from './history.js';
import type { Subscriptions } from './subscriptions.js';

export interface ElectrumSession {
  /** The address it counts under (IPv4-mapped IPv6 as plain IPv4). */
  readonly source: string;
  /** The protocol version server.version agreed (undefined before it). */
  protocol?: string;
  /** Sends one line (a notification) now. */
  send(line: string): void;
}

export interface ElectrumContext {
  readonly l: Lookups;
  readonly proofs: HeaderProofs;
  readonly subs: Subscriptions;
  readonly banner: string;
  /** The pool indexed by scripthash (rebuilt after each pool change, at most once per change). */
  pool(): PoolIndex;
  /** server.features: what this server is. */
  features(): Record<string, unknown>;
  /** A broadcast allowance per address (each transaction costs signature checks). */
  mayBroadcast(source: string): boolean;
}
