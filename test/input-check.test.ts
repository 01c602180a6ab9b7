// The one checker for JSON inputs (src/shared/node/check): a table of bad inputs for each of
// config.json/--set, experiments and scenarios (wrong type, out of range, unknown field, missing
// field, too long a list or string, deep nesting), each refused with one short line that names
// the source and the field path; every shipped input passes; the checker's own pieces.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, pathText } from '../src/shared/node/check/input-error.js';
import { readJsonFile } from '../src/shared/node/check/json-file.js';
import { type Infer, check, list, number, object, optional, show, string, withDefault } from '../src/shared/node/check/schema.js';
import { DEFAULT_CONFIG_PATH, type LoadOptions, loadSettings } from '../src/shared/node/cli/config.js';
import { runCli } from '../src/shared/node/cli/runner.js';
import { parseExperiment } from '../src/lab/experiment.js';
import { parseScenario, simulateCommand } from '../src/tools/cmds/simulate.js';
import { removeDir, tempDir } from './kit/procs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A list nested this deep: JSON.parse takes it, a schema stops at its first level. */
const DEEP = 100_000;
const KNOWN_KEYS =
  'network, name, magic, addressVersion, genesis, targetBlockSeconds, retargetInterval, powLimitBits, subsidy, halvingInterval, coinbaseMaturity, maxBlockBytes, maxTxBytes, transactionPort, statusPort, blockServerPort, broadcastAddress, peers, statusBroadcastIntervalSeconds, transactionBroadcastIntervalSeconds, minRelayFeeRate, defaultFeeRate, maxFee, mempoolMaxBytes, minBlockTransactions, maxHashrate, maxTcpConnections, tcpTimeoutSeconds, peerBanSeconds, minerName, minerThreads';
const deep = (): unknown => JSON.parse('['.repeat(DEEP) + ']'.repeat(DEEP));

/** Asserts f throws one InputError whose whole message is `message` (one line, short). */
function refuses(f: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof InputError, `expected an InputError for: ${message}, got ${String(thrown)}`);
  assert.equal(thrown.message, message);
  assert.ok(!thrown.message.includes('\n') && thrown.message.length < 600, 'one short line');
}

describe('one checker for JSON inputs', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tempDir('input-check');
  });
  after(() => removeDir(dir));

  it('experiments: each bad input names the file and the field', () => {
    const cases: [string, unknown, string][] = [
      ['wrong type', { hosts: '3' }, 'hosts: expected a whole number from 2 to 250, got "3"'],
      ['out of range', { hosts: 3, link: { lossPercent: 101 } }, 'link.lossPercent: expected a number from 0 to 100, got 101'],
      [
        'out of range, nested',
        {
          hosts: 3,
          topology: {
            type: 'links',
            links: [
              { a: 'h1', b: 'h2' },
              { a: 'h2', b: 'h9' },
            ],
          },
        },
        'topology.links[1].b: expected a host h1..h3, got "h9"',
      ],
      [
        'unknown field',
        { hosts: 3, payments: [{ at: 1, from: 'h1', to: 'h2', amount: '1', memo: 'x' }] },
        'payments[0].memo: unknown key (known: at, from, to, amount)',
      ],
      ['missing field', { hosts: 3, events: [{ heal: true }] }, 'events[0].at: missing, expected a number from 0 to 86400'],
      ['missing field, top level', {}, 'hosts: missing, expected a whole number from 2 to 250'],
      [
        'too long a list',
        { hosts: 3, payments: Array.from({ length: 1001 }, () => ({})) },
        'payments: expected at most 1000 entries, got 1001',
      ],
      [
        'too long a string',
        { hosts: 3, description: 'x'.repeat(2001) },
        `description: expected a string of 0 to 2000 characters, got "${'x'.repeat(40)}…"`,
      ],
      ['deep nesting', { hosts: 3, link: deep() }, 'link: expected an object, got a list of 1'],
      ['deep nesting in a list', { hosts: 3, hashShares: deep() }, 'hashShares[0]: expected a number from 0 to 1, got a list of 1'],
      [
        'a rule across fields',
        { hosts: 3, attack: { type: 'double-spend', attacker: 'h2', merchant: 2 } },
        'attack.merchant: the merchant must be another host than the attacker',
      ],
      [
        'the wrong case of a tagged object',
        { hosts: 3, attack: { type: 'selfish', attacker: 'h1' } },
        'attack.attacker: unknown key (known: type, miner)',
      ],
      ['not an object', [1, 2], 'expected an object, got a list of 2'],
    ];
    for (const [, json, where] of cases) refuses(() => parseExperiment(json, 'x', 'experiments/x.json'), `experiments/x.json: ${where}`);
    assert.equal(cases.length, 13);
  });

  it('scenarios: each bad input names the file, the entry and the field', () => {
    const ok = { from: 'wallet-1', to: 'wallet-2', amount: '1' };
    const cases: [string, unknown, string][] = [
      ['wrong type', { payments: [ok, { ...ok, delay: '5' }] }, 'payments[1].delay: expected a number from 0 to 3600, got "5"'],
      ['out of range', { payments: [ok], confirmTimeoutSeconds: 0 }, 'confirmTimeoutSeconds: expected a number from 1 to 86400, got 0'],
      [
        'too many decimals',
        { payments: [{ ...ok, amount: '1.123456789' }] },
        'payments[0].amount: expected a positive amount of coins (up to 8 decimals), got "1.123456789"',
      ],
      ['unknown field', { payments: [ok], repeat: 3 }, 'repeat: unknown key (known: description, payments, confirmTimeoutSeconds)'],
      [
        'missing field',
        { payments: [{ to: 'wallet-2', amount: '1' }] },
        'payments[0].from: missing, expected a wallet name or DATADIR:keyname',
      ],
      ['missing list', { description: 'none' }, 'payments: missing, expected a list of 1 to 10000 entries, each an object'],
      ['empty list', { payments: [] }, 'payments: expected 1 to 10000 entries, got 0'],
      ['too long a list', { payments: Array.from({ length: 10_001 }, () => ok) }, 'payments: expected 1 to 10000 entries, got 10001'],
      [
        'too long a string',
        { payments: [{ ...ok, from: 'w'.repeat(4097) }] },
        `payments[0].from: expected a wallet name or DATADIR:keyname, got "${'w'.repeat(40)}…"`,
      ],
      [
        'deep nesting',
        { payments: [{ ...ok, amount: deep() }] },
        'payments[0].amount: expected a positive amount of coins (up to 8 decimals), got a list of 1',
      ],
    ];
    for (const [, json, where] of cases) refuses(() => parseScenario(json, 's.json'), `s.json: ${where}`);
    assert.equal(cases.length, 10);
  });

  it('config.json and --set: each bad input names the layer it came from and the key', () => {
    const shipped = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, unknown> & {
      networks: Record<string, Record<string, unknown>>;
    };
    /** A copy of config.json with one change, written to a file of its own. */
    const variant = (name: string, change: (c: typeof shipped) => void): string => {
      const c = structuredClone(shipped);
      change(c);
      const f = join(dir, `${name}.json`);
      writeFileSync(f, JSON.stringify(c));
      return f;
    };
    const cases: [string, LoadOptions, string][] = [
      [
        'wrong type in the file',
        { configFile: variant('type', (c) => (c['peers'] = 'a,b')) },
        `${join(dir, 'type.json')}: peers: expected a list of at most 1000 entries, each a peer address (host or host:port), got "a,b"`,
      ],
      [
        'out of range in a network entry',
        { configFile: variant('range', (c) => (c.networks['devnet']!['maxTxBytes'] = 70_000)), network: 'devnet' },
        `${join(dir, 'range.json')}: networks.devnet.maxTxBytes: expected a whole number from 1 to 60000, got 70000`,
      ],
      ['out of range in --set', { sets: ['tcpTimeoutSeconds=0'] }, '--set: tcpTimeoutSeconds: expected a number from 0.1 to 3600, got 0'],
      [
        'wrong type in --set',
        { sets: ['broadcastAddress=[1]'] },
        '--set: broadcastAddress: expected an IPv4 address such as 192.168.1.255, got a list of 1',
      ],
      [
        'unknown field in the file',
        { configFile: variant('unknown', (c) => (c['statusPortt'] = 1)) },
        `${join(dir, 'unknown.json')}: statusPortt: unknown key (did you mean statusPort?)`,
      ],
      ['unknown field in --set', { sets: ['colour=red'] }, `--set: colour: unknown key (known: ${KNOWN_KEYS})`],
      [
        'missing field',
        { configFile: variant('missing', (c) => delete c['statusPort']) },
        `${join(dir, 'missing.json')}: statusPort: missing, expected a whole number from 1 to 65535`,
      ],
      [
        'unknown network',
        { network: 'moon' },
        `--network: unknown network "moon" (${fileURLToPath(DEFAULT_CONFIG_PATH)} has: lan, classroom, devnet)`,
      ],
      [
        'too long a list',
        { sets: [`peers=${JSON.stringify(Array.from({ length: 1001 }, () => '10.0.0.1'))}`] },
        '--set: peers: expected at most 1000 entries, got 1001',
      ],
      ['too long a string', { sets: [`magic=${'ab'.repeat(5)}`] }, '--set: magic: expected 8 hex digits, got "ababababab"'],
      [
        'deep nesting',
        { sets: [`peers=${'['.repeat(DEEP)}${']'.repeat(DEEP)}`] },
        '--set: peers[0]: expected a peer address (host or host:port), got a list of 1',
      ],
      [
        'a meaning the core refuses',
        { sets: ['genesis=00'], network: 'devnet' },
        '--set: genesis: is not a block: unexpected end of data reading header version',
      ],
      ['not key=value', { sets: ['statusPort'] }, '--set: expected key=value, got "statusPort"'],
    ];
    for (const [, opts, message] of cases) refuses(() => loadSettings(opts), message);
    assert.equal(cases.length, 13);
  });

  it('files: missing, over the size limit, not JSON, deeply nested: one line naming the file', () => {
    const f = join(dir, 'deep.json');
    writeFileSync(f, '['.repeat(DEEP) + ']'.repeat(DEEP));
    refuses(() => parseScenario(readJsonFile(f, 1_000_000), f), `${f}: expected an object, got a list of 1`);
    refuses(() => readJsonFile(f, 1000), `${f}: is over 1000 bytes`);
    refuses(() => readJsonFile(join(dir, 'none.json'), 1000), `${join(dir, 'none.json')}: cannot read: no such file`);
    writeFileSync(f, '{"a":');
    assert.throws(
      () => readJsonFile(f, 1000),
      (e: unknown) => e instanceof InputError && e.message.startsWith(`${f}: not JSON: `),
    );
  });

  it('through the CLI: exit code 2 and the one line, nothing sent', async () => {
    const f = join(dir, 'scenario.json');
    writeFileSync(f, JSON.stringify({ payments: [{ from: 'wallet-1', to: 'wallet-2', amount: 0 }] }));
    const err: string[] = [];
    const code = await runCli('mvb', [simulateCommand], ['simulate', f, '--dir', join(dir, 'no-devnet')], {
      app: 'tool',
      io: { out: () => {}, err: (l) => err.push(l) },
    });
    assert.equal(code, 2);
    assert.deepEqual(err, [`error: ${f}: payments[0].amount: expected a positive amount of coins (up to 8 decimals), got 0`]);
  });

  it('every shipped experiment, scenario and network passes', () => {
    const experiments = readdirSync(join(ROOT, 'experiments')).filter((f) => f.endsWith('.json'));
    for (const f of experiments)
      assert.ok(parseExperiment(JSON.parse(readFileSync(join(ROOT, 'experiments', f), 'utf8')), f.slice(0, -5)).hosts >= 2, f);
    const scenarios = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.json'));
    for (const f of scenarios)
      assert.ok(parseScenario(JSON.parse(readFileSync(join(ROOT, 'scenarios', f), 'utf8')), f).payments.length > 0, f);
    for (const network of ['lan', 'classroom', 'devnet']) assert.equal(loadSettings({ network }).params.name, network);
    assert.ok(experiments.length >= 8 && scenarios.length >= 2, `${experiments.length} experiments, ${scenarios.length} scenarios`);
  });

  it('the checker: paths, shown values, defaults, and the type inferred from the schema', () => {
    assert.equal(pathText(['nodes', 3, 'hashrate']), 'nodes[3].hashrate');
    assert.equal(pathText(['networks', 'a b', 'x']), 'networks["a b"].x');
    assert.equal(pathText([]), '');
    assert.equal(show('y'.repeat(100)), `"${'y'.repeat(40)}…"`);
    assert.equal(show({}), 'an object');
    assert.equal(show(undefined), 'nothing');
    const node = object({
      hashrate: number({ min: 1, max: Infinity }),
      label: optional(string({ max: 8 })),
      weight: withDefault(number({ min: 0, max: 1 }), 1),
    });
    const nodes = object({ nodes: list(node, { max: 10 }) });
    const value: Infer<typeof nodes> = check(nodes, { nodes: [{ hashrate: 2 }] }, 'x.json');
    assert.deepEqual(value, { nodes: [{ hashrate: 2, weight: 1 }] });
    refuses(
      () => check(nodes, { nodes: [{ hashrate: 1 }, { hashrate: 1 }, { hashrate: 1 }, { hashrate: 0 }] }, 'experiments/x.json'),
      'experiments/x.json: nodes[3].hashrate: expected a number ≥ 1, got 0',
    );
    // A __proto__ key from JSON.parse is an own key: refused as unknown, nothing reaches a prototype.
    refuses(
      () => check(node, JSON.parse('{"hashrate":1,"__proto__":{"polluted":1}}'), 'p.json'),
      'p.json: __proto__: unknown key (known: hashrate, label, weight)',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
