// Selfish mining (Eyal & Sirer 2014), driven by the lab: the selfish miner is an ordinary mvb-miner
// whose UDP the switch drops while it withholds (its status broadcasts go unheard, so nobody
// fetches its blocks), while it still hears the others and fetches their blocks over TCP. The lab
// watches the event logs and opens the gate by the paper's strategy, counted from the last block
// its branch shares with the public chain:
//   - honest miners found a block and the private lead is now 1 (it was 2): publish, the branch wins;
//   - honest miners caught up (lead 0, a tie): publish and race; if the selfish miner finds the
//     next block it is published at once;
//   - otherwise (lead 1 after its own block, or lead ≥ 2) keep withholding.
// When the honest chain is longer the miner switches to it by itself (it is an honest node's
// code). Once its branch is public (or abandoned) the gate closes again.
import { ReplayedChain, readEvents } from './analyse.js';
import { pause, type RunContext } from './context.js';
import { eyalSirerRevenue } from './models.js';

export interface SelfishResult {
  /** The selfish miner's host index. */
  readonly miner: number;
  readonly alpha: number;
  /** Times the gate was opened (private blocks published). */
  readonly publications: number;
  /** Eyal & Sirer's relative revenue at this α for γ = 0 and γ = 0.5. */
  readonly eyalSirerGamma0: number;
  readonly eyalSirerGamma05: number;
}

/** The highest height at which the two chains hold the same block (0: genesis). */
function commonHeight(a: ReplayedChain, b: ReplayedChain): number {
  for (let h = Math.min(a.tipHeight, b.tipHeight); h > 0; h--) if (a.byHeight.get(h) === b.byHeight.get(h)) return h;
  return 0;
}

/** Runs the withholding gate until `done` resolves. */
export async function runSelfish(ctx: RunContext, miner: number, done: Promise<unknown>): Promise<SelfishResult> {
  let finished = false;
  void done.finally(() => (finished = true));
  const honest = ctx.net.hosts.map((h) => h.index).filter((i) => i !== miner);
  let open = false;
  let publications = 0;
  await ctx.net.mute([miner]);
  while (!finished) {
    const chains = ctx.eventFiles.map((f) => new ReplayedChain(readEvents(f).events));
    const s = chains[miner]!;
    const pub = honest.map((i) => chains[i]!).reduce((a, b) => (b.tipHeight > a.tipHeight ? b : a));
    const base = commonHeight(s, pub);
    const priv = s.tipHeight - base;
    const pubBlocks = pub.tipHeight - base;
    const lead = priv - pubBlocks;
    const want = priv > 0 && pubBlocks >= 1 && lead >= 0 && lead <= 1;
    if (want !== open) {
      await ctx.net.mute(want ? [] : [miner]);
      open = want;
      if (want) {
        publications++;
        ctx.note(`selfish ${ctx.net.hosts[miner]!.name}: publishes ${priv} private block(s) against ${pubBlocks} public (lead ${lead})`);
      }
    }
    await pause(100, ctx.signal);
  }
  await ctx.net.mute([]);
  const alpha = ctx.x.hashShares[miner]!;
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return { miner, alpha, publications, eyalSirerGamma0: r(eyalSirerRevenue(alpha, 0)), eyalSirerGamma05: r(eyalSirerRevenue(alpha, 0.5)) };
}
