// `mvb-miner`: runs the miner daemon until SIGINT/SIGTERM, then shuts down cleanly.
import { existsSync, renameSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type CliCommand, CliError, command, flag, numberOption, stringOption } from '../../shared/node/cli/command.js';
import { processOutput } from '../../shared/node/cli/runner.js';
import { openEventLog } from '../../shared/node/events.js';
import { DirLock } from '../../shared/node/store/lock.js';
import { Miner } from '../miner.js';

export const runMinerCommand = command({
  name: '',
  describe: 'Run an mvb miner: mempool, mining threads, status broadcasts and a block server',
  options: {
    address: stringOption('--address <address>', "pay block rewards to this address (default: the datadir's mining-rewards key)"),
    threads: numberOption(
      '--threads <n>',
      "mining threads (default: the network's minerThreads: 1 on classroom, else one per core)",
      1,
      1024,
    ),
    name: stringOption(
      '--name <name>',
      'your name in the coinbase tag of the blocks you mine ("/alice/"), shown by the explorer (default: minerName)',
    ),
    mine: flag('--no-mine', 'relay and serve blocks only, do not mine'),
    quiet: flag('--quiet', 'print only warnings and errors'),
    events: stringOption(
      '--events <file>',
      'append an event log (JSON lines: blocks heard, mined, connected, reorganisations, transactions) to this file',
    ),
    resync: flag('--resync', 'move the chain store aside (e.g. after damage) and rebuild it from the network; keys are kept'),
    bind: stringOption('--bind <ip>', 'serve blocks on this address only (UDP ports always listen on all addresses, to hear broadcasts)'),
  },
  async handler(_args, opts, ctx) {
    if (opts.resync) {
      const dir = join(ctx.datadir, 'chain');
      if (existsSync(dir)) {
        // Taking the lock proves no miner runs on it; released at once (the store moves away).
        DirLock.acquire(dir, 'mvb-miner').release();
        const aside = `${dir}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        renameSync(dir, aside);
        ctx.io.err(`moved the old chain store to ${aside}; rebuilding from the network`);
      }
    }
    const miner = new Miner({
      settings: ctx.settings,
      datadir: ctx.datadir,
      rewardAddress: opts.address,
      ...minerThreads(opts.threads, ctx.settings.minerThreads, ctx.settings.network),
      name: opts.name ?? (ctx.settings.minerName || undefined),
      mine: opts.mine,
      quiet: opts.quiet,
      io: ctx.io,
      color: !ctx.env['NO_COLOR'] && process.stdout.isTTY === true ? undefined : false,
      bindAddress: opts.bind,
      progressBar: ctx.io === processOutput && process.stderr.isTTY === true && !ctx.json,
      events: openEventLog(opts.events),
    });
    try {
      await miner.start();
    } catch (e) {
      await miner.stop();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new CliError(`port in use: ${err.message}; pick another with --set blockServerPort=N`);
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EINVAL') {
        throw new CliError(
          `cannot serve blocks on ${opts.bind ?? 'this machine'}: ${err.code}; --bind takes an address of this machine, e.g. 127.0.0.1 or 192.168.1.20`,
        );
      }
      if (err.code === 'EACCES') throw new CliError(`not allowed to listen: ${err.message}; ports below 1024 need privileges`);
      throw e;
    }
    if (ctx.json) ctx.io.out(JSON.stringify(miner.info()));
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.io.out(`stopping: height ${miner.chain.height}, ${miner.stats.blocksMined} block(s) mined this session`);
    await miner.stop();
    return 0;
  },
});

/** How many mining threads, and why (said on start): --threads, else the network's minerThreads, else one per core. */
function minerThreads(asked: number | undefined, configured: number, network: string): { threads: number; threadsReason: string } {
  if (asked !== undefined) return { threads: asked, threadsReason: '--threads' };
  if (configured > 0) return { threads: configured, threadsReason: `minerThreads of network ${network}; --threads N for more` };
  return { threads: availableParallelism(), threadsReason: 'one per core; --threads N for fewer' };
}

export const minerCommands: readonly CliCommand[] = [runMinerCommand];
