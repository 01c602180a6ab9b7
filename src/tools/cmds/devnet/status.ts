// `mvb devnet status`: each node of the devnet, whether it runs, and each miner's tip as it
// announces it (heard on the status port for a couple of status intervals).
import { hashToHex } from '../../../shared/core/bytes.js';
import { command } from '../../../shared/node/cli/command.js';
import { loadSettings } from '../../../shared/node/cli/config.js';
import type { Status } from '../../../shared/node/net/protocol.js';
import { DIR_OPTION, isOurProcess, listenStatus, nodeSets, requireState } from './state.js';

export interface NodeStatus {
  readonly name: string;
  readonly kind: string;
  readonly running: boolean;
  readonly pid?: number;
  readonly height?: number;
  readonly tip?: string;
  readonly mempool?: number;
  readonly datadir: string;
  readonly address?: string;
  readonly url?: string;
}

export async function devnetStatus(dirArg: string): Promise<NodeStatus[]> {
  const state = requireState(dirArg);
  const settings = loadSettings({ network: state.network, sets: nodeSets(state) });
  const running = state.nodes.map((n) => isOurProcess(n.pid, n.datadir));
  const wanted = state.nodes.filter((n, i) => n.kind === 'miner' && running[i]).map((n) => n.blockServerPort!);
  const heard = wanted.length
    ? await listenStatus(settings, 1000 * Math.max(2.5, settings.statusBroadcastIntervalSeconds * 2.5), (m) =>
        wanted.every((p) => m.has(p)),
      )
    : new Map<number, Status>();
  return state.nodes.map((n, i) => {
    const st = n.blockServerPort ? heard.get(n.blockServerPort) : undefined;
    return {
      name: n.name,
      kind: n.kind,
      running: running[i]!,
      pid: n.pid,
      datadir: n.datadir,
      address: n.address,
      ...(n.url ? { url: n.url } : {}),
      ...(st ? { height: st.height, tip: hashToHex(st.tipHash), mempool: st.mempoolSize } : {}),
    };
  });
}

export const statusCommand = command({
  name: 'status',
  describe: "each node: running or not, and each miner's tip",
  options: { dir: DIR_OPTION },
  async handler(_args, opts, ctx) {
    const rows = await devnetStatus(opts.dir);
    if (ctx.json) {
      ctx.io.out(JSON.stringify(rows));
      return 0;
    }
    for (const r of rows) {
      const what =
        r.kind === 'miner'
          ? r.height !== undefined
            ? `height ${r.height} tip ${r.tip!.slice(0, 16)}… mempool ${r.mempool}`
            : r.running
              ? 'not heard yet'
              : ''
          : r.kind === 'explorer'
            ? `${r.url ?? ''}`
            : `mvb-wallet --datadir ${r.datadir}`;
      ctx.io.out(`${r.name.padEnd(9)} ${(r.running ? `running (pid ${r.pid})` : 'stopped').padEnd(22)} ${what}`);
    }
    return 0;
  },
});
