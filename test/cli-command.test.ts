// Typed command definitions: an option declared under another key than commander's name for it is
// refused when the command is made; a handler gets each option as its builder's type (defaults
// applied, --no-x true unless given, repeatable lists in order), and the shared options in ctx.shared.
import assert from 'node:assert/strict';
import { type CliCommand, command, commandGroup, flag, listOption, numberOption, stringOption } from '../src/shared/node/cli/command.js';
import { type CommandContext, runCli } from '../src/shared/node/cli/runner.js';
import { mvbCommands } from '../src/tools/commands.js';
import { walletCommands } from '../src/wallet/commands.js';
import { minerCommands } from '../src/miner/cmds/run.js';
import { explorerCommands } from '../src/explorer/cmds/run.js';
import { labCommands } from '../src/lab/cmds/run.js';

const OPTIONS = {
  maxPeers: numberOption('--max-peers <n>', 'peers', 1, 10, 4),
  mine: flag('--no-mine', 'do not mine'),
  quiet: flag('--quiet', 'say less'),
  name: stringOption('--name <name>', 'a name'),
  tag: listOption('--tag <tag>', 'tags (repeatable)'),
};

async function runProbe(argv: string[]): Promise<{ code: number; seen: unknown[]; err: string[] }> {
  const seen: unknown[] = [];
  const err: string[] = [];
  const probe = command({
    name: 'probe',
    describe: 'records what it is given',
    args: ['[word]'],
    options: OPTIONS,
    async handler(args, opts, ctx: CommandContext) {
      // Typed: no casts (a wrong type here would not compile).
      const peers: number = opts.maxPeers;
      const name: string | undefined = opts.name;
      const tags: readonly string[] = opts.tag;
      seen.push({ args, peers, mine: opts.mine, quiet: opts.quiet, name, tags, shared: ctx.shared });
      return 0;
    },
  });
  const code = await runCli('t', [probe], argv, { app: 'tool', io: { out: () => {}, err: (l) => err.push(l) } });
  return { code, seen, err };
}

describe('typed commands', function () {
  it('refuses an option declared under another key than commander names it', () => {
    assert.throws(
      () =>
        command({ name: 'x', describe: 'x', options: { max_peers: numberOption('--max-peers <n>', 'p', 1, 2) }, handler: async () => 0 }),
      /option --max-peers <n> is declared as "max_peers" but commander names it "maxPeers"/,
    );
    assert.throws(
      () => command({ name: 'x', describe: 'x', options: { noMine: flag('--no-mine', 'm') }, handler: async () => 0 }),
      /"mine"/,
    );
  });

  it('gives the handler defaults when nothing is given', async () => {
    const r = await runProbe(['probe', '--network', 'devnet']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.seen, [
      {
        args: [undefined],
        peers: 4,
        mine: true,
        quiet: false,
        name: undefined,
        tags: [],
        shared: { datadir: undefined, network: 'devnet', config: undefined, set: [], json: false },
      },
    ]);
  });

  it('gives the handler every option as given, and the shared ones in ctx.shared', async () => {
    const r = await runProbe([
      '--json',
      'probe',
      'w',
      '--max-peers',
      '7',
      '--no-mine',
      '--quiet',
      '--name',
      'n',
      '--tag',
      'a',
      '--tag',
      'b',
      '--set',
      'maxFee=2',
      '--network',
      'devnet',
    ]);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.seen, [
      {
        args: ['w'],
        peers: 7,
        mine: false,
        quiet: true,
        name: 'n',
        tags: ['a', 'b'],
        shared: { datadir: undefined, network: 'devnet', config: undefined, set: ['maxFee=2'], json: true },
      },
    ]);
  });

  it('refuses a number out of bounds as a usage error (exit code 2)', async () => {
    const r = await runProbe(['probe', '--max-peers', '11']);
    assert.equal(r.code, 2);
    assert.deepEqual(r.err, ['error: --max-peers must be a whole number from 1 to 10']);
    assert.deepEqual(r.seen, []);
  });

  it('a group runs no handler of its own: without a subcommand it prints help (exit code 2)', async () => {
    const err: string[] = [];
    const group = commandGroup({
      name: 'g',
      describe: 'a group',
      subcommands: [command({ name: 's', describe: 's', handler: async () => 0 })],
    });
    const code = await runCli('t', [group], ['g'], { app: 'tool', io: { out: () => {}, err: (l) => err.push(l) } });
    assert.equal(code, 2);
    assert.match(err.join('\n'), /Usage: t g/);
  });

  it("every app's commands declare their options under commander's names", () => {
    const all = [...mvbCommands, ...walletCommands, ...minerCommands, ...explorerCommands, ...labCommands];
    const walk = (cs: readonly CliCommand[]): number => cs.reduce((n, c) => n + 1 + walk(c.subcommands ?? []), 0);
    // Importing them ran the check; they are all there.
    assert.ok(walk(all) >= 30, `only ${walk(all)} commands`);
  });
});
