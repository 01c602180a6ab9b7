// mvb chain [--last N]: the last N heights as an ASCII tree, the best chain in the first column
// and each stale branch in a column of its own (where it forked from), who mined each block, and
// the reorganisations an explorer's datadir recorded.
import { hashToHex } from '../../../shared/core/bytes.js';
import { CliError, command, stringOption } from '../../../shared/node/cli/command.js';
import type { ViewEntry } from '../../../shared/node/store/chain-view.js';
import { openAppDb } from '../../../shared/node/store/schema.js';
import { minerOf, openDatadir, short } from './datadir.js';

const MAX_LAST = 1000;

interface Row {
  readonly hash: string;
  readonly height: number;
  readonly prev: string | null;
  readonly active: boolean;
  readonly status: string;
  readonly miner: string | null;
  readonly txs: number | null;
  column: number;
}

export const chainCommand = command({
  name: 'chain',
  describe: 'show the last blocks as a tree: the best chain, stale branches, who mined each, reorganisations',
  options: { last: stringOption('--last <n>', `heights to show (1 to ${MAX_LAST})`, '20') },
  async handler(_args, opts, ctx) {
    const last = Number(opts.last);
    if (!Number.isInteger(last) || last < 1 || last > MAX_LAST)
      throw new CliError(`invalid --last "${opts.last}": a whole number from 1 to ${MAX_LAST}`, 2);
    const d = openDatadir(ctx);
    try {
      const from = Math.max(0, d.view.height - last + 1);
      const row = (e: ViewEntry): Row => {
        const b = d.view.block(e);
        return {
          hash: hashToHex(e.record.hash),
          height: e.record.height,
          prev: e.parent ? hashToHex(e.parent.record.hash) : null,
          active: e.active,
          status: e.record.status,
          miner: b ? minerOf(b, ctx.settings.params.addressVersion) : null,
          txs: b?.txs.length ?? null,
          column: 0,
        };
      };
      const rows: Row[] = [];
      for (let h = from; h <= d.view.height; h++) rows.push(row(d.view.active[h]!));
      const off = [...d.view.entries()]
        .filter((e) => !e.active && e.record.height >= from)
        .slice(0, 5000)
        .map(row);
      assignColumns(rows, off);
      const reorgs = [...openAppDb(d.store, 'explorer-reorgs').getRange({ reverse: true, limit: 10 })].map((x) => x.value);
      const all = [...rows, ...off];
      if (ctx.json) {
        ctx.io.out(JSON.stringify({ height: d.view.height, tip: hashToHex(d.view.tip!.record.hash), blocks: all, reorgs }, null, 2));
        return 0;
      }
      draw(ctx.io.out, all, d.view.height, from);
      if (reorgs.length) {
        ctx.io.out('reorganisations (newest first):');
        for (const r of reorgs)
          ctx.io.out(
            `  ${new Date(r.at).toISOString()}: fork at ${r.forkHeight}, ${r.disconnected.length} block(s) left the best chain, ${r.connected.length} came`,
          );
      }
      return 0;
    } finally {
      d.close();
    }
  },
});

/** Column 0 for the best chain; a stale block continues its parent's column, else takes the first column free at its height. */
function assignColumns(active: Row[], off: Row[]): void {
  const byHash = new Map([...active, ...off].map((r) => [r.hash, r]));
  const taken = new Set<string>();
  for (const r of off.sort((a, b) => a.height - b.height)) {
    const p = r.prev ? byHash.get(r.prev) : undefined;
    let col = p && !p.active && !taken.has(`${p.column}:${r.height}`) ? p.column : 1;
    while (col !== p?.column && taken.has(`${col}:${r.height}`)) col++;
    r.column = col;
    taken.add(`${col}:${r.height}`);
  }
}

function draw(say: (l: string) => void, rows: Row[], tipHeight: number, from: number): void {
  const cols = Math.max(0, ...rows.map((r) => r.column)) + 1;
  const W = 34;
  const byHash = new Map(rows.map((r) => [r.hash, r]));
  say(`height  ${'best chain'.padEnd(W)}${cols > 1 ? 'stale branches' : ''}`.trimEnd());
  for (let h = tipHeight; h >= from; h--) {
    const cells: string[] = Array.from({ length: cols }, () => ''.padEnd(W));
    for (const r of rows.filter((x) => x.height === h)) {
      const p = r.prev ? byHash.get(r.prev) : undefined;
      const forked = !r.active && (!p || p.active) ? ` ┘${h - 1}` : '';
      const what = r.status === 'header' ? 'header only' : `${r.txs ?? '?'} tx ${short(r.miner ?? '?', 8)}`;
      cells[r.column] = `${r.active ? '●' : '○'} ${short(r.hash, 10)} ${what}${forked}`.padEnd(W);
    }
    say(`${String(h).padStart(6)}  ${cells.join('').trimEnd()}`);
  }
}
