// Learning the wallet's transactions from explorers: each explorer is asked for every local
// address's confirmed history, and every transaction it shows is verified (verify.ts) before it
// counts. With several explorers, a transaction one proved and another did not show is reported as
// hidden by that one: SPV cannot stop a server from leaving a payment out, only from inventing one,
// so a second server is the only way to notice an omission, and it is never a wrong balance.
import { HttpClientError } from '../../shared/node/net/http-client.js';
import { type EsploraClient, ServerError } from './esplora-client.js';
import type { LightHeaders } from './headers.js';
import { type Lie, type ProvenTx, verifyClaim } from './verify.js';

/** Explorers asked at most, per sync. */
export const MAX_EXPLORERS = 4;

export interface ExplorerReport {
  readonly server: string;
  /** Txids it showed in the addresses' confirmed histories. */
  readonly shown: Set<string>;
  proven: number;
  readonly lies: Lie[];
  readonly unproven: { readonly txid: string; readonly reason: string }[];
  /** It could not be asked everything (unreachable, a malformed answer, the deadline). */
  error?: string;
}

export interface ScanResult {
  readonly proven: Map<string, ProvenTx>;
  readonly reports: ExplorerReport[];
  /** A transaction one explorer proved that another (that answered) did not show. */
  readonly hidden: { readonly server: string; readonly txid: string; readonly provenBy: string }[];
}

async function scanOne(
  client: EsploraClient,
  headers: LightHeaders,
  addresses: readonly string[],
  deadline: number,
  proven: Map<string, ProvenTx>,
  provenBy: Map<string, string>,
): Promise<ExplorerReport> {
  const r: ExplorerReport = { server: client.name, shown: new Set(), proven: 0, lies: [], unproven: [] };
  try {
    for (const address of addresses) {
      for (const claim of await client.confirmedHistory(address)) {
        if (Date.now() > deadline) throw new ServerError('the deadline passed before every transaction was checked');
        if (r.shown.has(claim.txid)) continue;
        r.shown.add(claim.txid);
        const o = await verifyClaim(client, headers, claim);
        if (o.kind === 'lie') r.lies.push(o.lie);
        else if (o.kind === 'unproven') r.unproven.push({ txid: o.txid, reason: o.reason });
        else {
          r.proven++;
          if (!proven.has(o.tx.txid)) {
            proven.set(o.tx.txid, o.tx);
            provenBy.set(o.tx.txid, client.name);
          }
        }
      }
    }
  } catch (e) {
    if (!(e instanceof HttpClientError || e instanceof ServerError)) throw e;
    r.error = e.message;
  }
  return r;
}

export async function scanExplorers(
  clients: readonly EsploraClient[],
  headers: LightHeaders,
  addresses: readonly string[],
  deadline: number,
): Promise<ScanResult> {
  const proven = new Map<string, ProvenTx>();
  const provenBy = new Map<string, string>();
  const reports: ExplorerReport[] = [];
  for (const c of clients.slice(0, MAX_EXPLORERS)) reports.push(await scanOne(c, headers, addresses, deadline, proven, provenBy));
  const hidden: ScanResult['hidden'][number][] = [];
  for (const r of reports) {
    if (r.error !== undefined) continue; // an explorer we could not ask in full hid nothing we can name
    for (const txid of proven.keys()) if (!r.shown.has(txid)) hidden.push({ server: r.server, txid, provenBy: provenBy.get(txid)! });
  }
  return { proven, reports, hidden };
}
