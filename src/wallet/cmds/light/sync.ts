// light sync: headers from miners' block servers (checked by the core: proof of work, retarget,
// links from genesis; the most work wins), then every local address's history from each
// --explorer, each transaction verified against those headers before it counts; lies and hidden
// payments named one per line. Exit 0, or 4 when a server lied or hid a payment (the balance
// printed is still the proven one).
import { CliError, command } from '../../../shared/node/cli/command.js';
import { openAppDb } from '../../../shared/node/store/schema.js';
import { createWalletHint } from '../../datadir.js';
import { localKeys, openKeys } from '../../keys.js';
import { printJson } from '../../terminal.js';
import { EsploraClient } from '../../light/esplora-client.js';
import { type BlockServerAddr, type ServerReport, hearBlockServers, syncHeaders, tipLine } from '../../light/header-sync.js';
import { LightHeaders } from '../../light/headers.js';
import { balanceJson, lightBalance, printBalance } from '../../light/report.js';
import { type ScanResult, scanExplorers } from '../../light/scan.js';
import { LIGHT_OPTIONS, parseExplorers, parsePeers } from './options.js';
import type { CommandContext } from '../../../shared/node/cli/command.js';

/** Exit code when a server was caught lying or hiding a payment. */
export const EXIT_SERVER_LIED = 4;

function printHeaders(ctx: CommandContext, headers: LightHeaders, reports: readonly ServerReport[], added: number, ms: number): void {
  const rate = ms > 0 ? Math.round((added * 1000) / ms) : added;
  ctx.io.err(
    `headers: ${added} new in ${(ms / 1000).toFixed(2)} s (${rate} headers/s), each checked: proof of work, retarget, link; best chain ${tipLine(headers)}`,
  );
  for (const r of reports) {
    if (r.error !== undefined) ctx.io.err(`block server ${r.server}: ${r.error}`);
    else if (r.announcedMore)
      ctx.io.err(
        `block server ${r.server} announced more work (height ${r.announcedHeight ?? '?'}) than it served; our best chain stays at height ${headers.height}`,
      );
  }
}

function printScan(ctx: CommandContext, scan: ScanResult): void {
  for (const r of scan.reports) {
    ctx.io.err(
      `explorer ${r.server}: ${r.shown.size} transaction(s) shown, ${r.proven} proven, ${r.lies.length} lie(s)${r.unproven.length ? `, ${r.unproven.length} not provable yet` : ''}`,
    );
    if (r.error !== undefined) ctx.io.err(`explorer ${r.server}: not asked in full: ${r.error}`);
    for (const l of r.lies) ctx.io.out(l.message);
    for (const u of r.unproven) ctx.io.err(`not counted: ${u.txid}: ${u.reason}`);
  }
  for (const h of scan.hidden)
    ctx.io.out(
      `payment ${h.txid} not shown by this server: ${h.server} left it out; ${h.provenBy} showed it with a valid proof, so it is counted`,
    );
}

async function blockServers(ctx: CommandContext, peers: BlockServerAddr[], timeoutMs: number): Promise<BlockServerAddr[]> {
  if (peers.length > 0) return peers;
  const s = ctx.settings;
  const heard = await hearBlockServers(s.params, s.statusPort, timeoutMs, s.statusBroadcastIntervalSeconds * 1000);
  if (heard.length === 0)
    throw new CliError(
      `no miner heard within ${timeoutMs / 1000} s on UDP port ${s.statusPort} (broadcastAddress ${s.broadcastAddress}): start a miner, or name a block server with --peer HOST:PORT`,
    );
  return heard;
}

export const lightSync = command({
  name: 'sync',
  readsDataDir: createWalletHint,
  describe: 'fetch and check headers from miners, then prove each payment an explorer shows against them',
  options: LIGHT_OPTIONS,
  async handler(_args, opts, ctx) {
    const explorers = parseExplorers(opts.explorer, false);
    const peers = parsePeers(opts.peer);
    const timeoutMs = opts.timeout * 1000;
    const deadline = Date.now() + opts.deadline * 1000;
    const keys = localKeys(openKeys(ctx), ctx.settings.params.addressVersion);
    const servers = await blockServers(ctx, peers, timeoutMs);
    const headers = LightHeaders.open(ctx.datadir, ctx.settings.params);
    try {
      const before = headers.chain.entryCount;
      const t0 = performance.now();
      const reports = await syncHeaders(headers, ctx.settings.params, servers, { timeoutMs, deadline });
      const ms = performance.now() - t0;
      const added = headers.chain.entryCount - before;
      if (!ctx.json) printHeaders(ctx, headers, reports, added, ms);
      const clients = explorers.map((u) => new EsploraClient(u, timeoutMs, ctx.settings.params.maxTxBytes));
      const scan = await scanExplorers(
        clients,
        headers,
        keys.map((k) => k.address),
        deadline,
      );
      const txs = openAppDb(headers.store, 'light-txs');
      await txs.transaction(() => {
        for (const tx of scan.proven.values()) txs.put(tx.txid, tx);
      });
      const balance = lightBalance(headers, keys, ctx.settings.params.coinbaseMaturity);
      const caught = scan.reports.some((r) => r.lies.length > 0) || scan.hidden.length > 0;
      if (ctx.json) {
        printJson(ctx, {
          headers: { new: added, seconds: ms / 1000, servers: reports },
          explorers: scan.reports.map((r) => ({
            server: r.server,
            shown: r.shown.size,
            proven: r.proven,
            lies: r.lies,
            unproven: r.unproven,
            ...(r.error ? { error: r.error } : {}),
          })),
          hidden: scan.hidden,
          ...balanceJson(headers, balance),
        });
      } else {
        printScan(ctx, scan);
        printBalance(ctx, headers, balance);
      }
      return caught ? EXIT_SERVER_LIED : 0;
    } finally {
      headers.close();
    }
  },
});
