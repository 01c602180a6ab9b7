// The lab's pure pieces: the published formulas against the published numbers, experiment
// validation, topologies and the event-log replay (no root needed).
import assert from 'node:assert/strict';
import { InputError } from '../src/shared/node/check/input-error.js';
import { linkShapes, medianLinkDelay, parseExperiment, randomGraph } from '../src/lab/experiment.js';
import { memoryShortfall } from '../src/lab/cmds/run.js';
import { NAKAMOTO_TABLE, doubleSpendWin, eyalSirerRevenue, nakamotoCatchUp, staleModel } from '../src/lab/models.js';
import { ReplayedChain, analyse, percentiles } from '../src/lab/analyse.js';
import { activeChainTxids } from '../src/lab/run.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('lab: models, experiment files, analysis', () => {
  it("Nakamoto's catch-up probability reproduces the white paper's table (section 11) to 7 decimals", () => {
    for (const [z, p] of NAKAMOTO_TABLE.q01) assert.equal(nakamotoCatchUp(0.1, z).toFixed(7), p.toFixed(7), `q=0.1 z=${z}`);
    for (const [z, p] of NAKAMOTO_TABLE.q03) assert.equal(nakamotoCatchUp(0.3, z).toFixed(7), p.toFixed(7), `q=0.3 z=${z}`);
    assert.equal(nakamotoCatchUp(0.7, 1), 1);
  });

  it("Eyal & Sirer's revenue: break-even at α = 1/3 for γ = 0, at 1/4 for γ = 1/2, and above α beyond", () => {
    assert.ok(Math.abs(eyalSirerRevenue(1 / 3, 0) - 1 / 3) < 1e-12);
    assert.ok(Math.abs(eyalSirerRevenue(0.25, 0.5) - 0.25) < 1e-12);
    assert.ok(eyalSirerRevenue(0.4, 0) > 0.4);
    assert.ok(eyalSirerRevenue(0.2, 0) < 0.2);
  });

  it('the stale model 1 − e^(−d/T) at Bitcoin 2013 figures (d 6.5 s, T 600 s) is about 1.08 %', () => {
    assert.equal(staleModel(6.5, 600).toFixed(4), '0.0108');
    assert.equal(staleModel(0, 1), 0);
  });

  it('experiment files are validated field by field, with one clear line', () => {
    const bad = (x: unknown, re: RegExp) =>
      assert.throws(
        () => parseExperiment(x, 't'),
        (e: unknown) => e instanceof InputError && e.message.startsWith('t.json: ') && re.test(e.message),
      );
    bad({ hosts: 1 }, /hosts: expected a whole number from 2 to 250, got 1/);
    bad({ hosts: 3, bogus: 1 }, /bogus: unknown key/);
    bad({ hosts: 3, link: { delayMs: -1 } }, /link.delayMs/);
    bad({ hosts: 3, hashShares: [0.5, 0.5, 0.5] }, /add up to 1/);
    bad({ hosts: 3, payments: [{ at: 1, from: 'h4', to: 'h1', amount: '1' }] }, /payments\[0\].from: expected a host h1..h3/);
    bad({ hosts: 3, events: [{ at: 1, partition: [['h1']] }] }, /at least two groups/);
    bad(
      {
        hosts: 3,
        events: [
          {
            at: 1,
            partition: [
              ['h1', 'h2'],
              ['h2', 'h3'],
            ],
          },
        ],
      },
      /events\[0\].partition: h2 is in more than one group/,
    );
    bad({ hosts: 3, events: [{ at: 1, stop: 'h1', start: 'h2' }] }, /events\[0\]: one action per event, got stop and start/);
    bad({ hosts: 3, attack: { type: 'double-spend', attacker: 'h1', merchant: 'h1' } }, /another host/);
    // The name names the output folder, written as root: nothing that leaves lab-runs/.
    bad({ name: '../../../root/x', hosts: 3 }, /name: expected up to 80 letters, digits/);
    bad({ name: 'a/b', hosts: 3 }, /name: expected/);
    bad({ name: 7, hosts: 3 }, /name: expected/);
    assert.equal(parseExperiment({ hosts: 3 }, 'my run (copy)').name, 'my_run__copy_');
    const x = parseExperiment({ hosts: 4, topology: 'ring', link: { delayMs: 30 } }, 'ring');
    assert.equal(x.name, 'ring');
    assert.deepEqual(x.hashShares, [0.25, 0.25, 0.25, 0.25]);
    const f = linkShapes(x);
    assert.equal(f(0, 1)?.delayMs, 30);
    assert.equal(f(0, 2), undefined);
    assert.equal(f(3, 0)?.delayMs, 30);
    assert.equal(medianLinkDelay(x), 30);
  });

  it('refuses an experiment whose processes would not fit in free memory, with one line', () => {
    const x = parseExperiment({ hosts: 250, payments: [{ at: 1, from: 'h1', to: 'h2', amount: '1' }] }, 'big');
    // 250 miners, 1 paying wallet, the switch: 252 processes of about 75 MB each.
    assert.equal(
      memoryShortfall(x, 8e9),
      '250 hosts run 252 processes, about 18900 MB, and this machine has 8000 MB free: use fewer hosts',
    );
    assert.equal(memoryShortfall(x, 20e9), undefined);
    assert.equal(memoryShortfall(parseExperiment({ hosts: 50 }, 's'), 8e9), undefined);
  });

  it('a random graph is connected and keeps close to its degree', () => {
    const n = 50;
    const edges = randomGraph(n, 4, 7);
    const adj = Array.from({ length: n }, () => new Set<number>());
    for (const [a, b] of edges) {
      adj[a]!.add(b);
      adj[b]!.add(a);
    }
    const seen = new Set([0]);
    const todo = [0];
    while (todo.length) for (const y of adj[todo.pop()!]!) if (!seen.has(y)) (seen.add(y), todo.push(y));
    assert.equal(seen.size, n);
    assert.ok(adj.every((s) => s.size >= 2 && s.size <= 4));
  });

  it("replays a node's events into its active chain and measures stale blocks and propagation", () => {
    const blk = (ev: string, t: number, hash: string, height: number, extra = {}) => ({ t, ev, hash, height, ...extra });
    // h0 mines a1 and b2 at height 1/2; h1 mines c1 (loses) then reorganises to a1, b2.
    const h0 = [
      blk('mined', 0, 'a1', 1),
      blk('connected', 0, 'a1', 1),
      blk('mined', 1000, 'b2', 2),
      blk('connected', 1000, 'b2', 2),
      blk('mined', 2000, 'd3', 3),
      blk('connected', 2000, 'd3', 3),
      blk('mined', 3000, 'e4', 4),
      blk('connected', 3000, 'e4', 4),
    ];
    const h1 = [
      blk('mined', 10, 'c1', 1),
      blk('connected', 10, 'c1', 1, { txids: ['x'] }),
      blk('disconnected', 400, 'c1', 1),
      blk('connected', 400, 'a1', 1),
      { t: 400, ev: 'reorg', depth: 1 },
      blk('connected', 1300, 'b2', 2),
      blk('connected', 2300, 'd3', 3),
      blk('connected', 3300, 'e4', 4),
    ];
    const c = new ReplayedChain(h1);
    assert.equal(c.tipHeight, 4);
    assert.equal(c.byHeight.get(1), 'a1');
    assert.deepEqual(c.txHeights('x'), []);
    const a = analyse([h0, h1], 10_000, 0);
    assert.equal(a.decided, 3); // a1, c1, b2 (d3, e4 within 2 of the tip)
    assert.equal(a.stale, 1);
    assert.deepEqual(a.reorgDepths, { 1: 1 });
    assert.deepEqual(a.propagationSamples, [300, 400]);
    assert.deepEqual(percentiles([1, 2, 3, 4]), { p50: 2, p90: 4, p99: 4, count: 4 });
  });

  it("settling: a txid is in a node's active chain while it joined more blocks than it left", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvb-test-lab-settle-'));
    try {
      const f = join(dir, 'h1.jsonl');
      const ev = (o: object) => JSON.stringify({ t: 1, ...o });
      const lines = [
        ev({ ev: 'connected', txids: ['a', 'b'] }),
        ev({ ev: 'disconnected', txids: ['b'] }),
        ev({ ev: 'connected', txids: ['c'] }),
        ev({ ev: 'disconnected', txids: ['c'] }),
        ev({ ev: 'connected', txids: ['c'] }),
        ev({ ev: 'tip', height: 3 }),
      ];
      writeFileSync(f, lines.join('\n') + '\n');
      assert.deepEqual([...activeChainTxids(f)].sort(), ['a', 'c']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lab: the double-spend race model (models.ts doubleSpendWin)', () => {
  const never = { giveUpBehind: Infinity, giveUpAfter: Infinity } as const;

  it("with a tie counting, Nakamoto's Poisson start and no give-up it is the white paper's table", () => {
    for (const [z, p] of NAKAMOTO_TABLE.q01)
      assert.equal(doubleSpendWin({ q: 0.1, z, lead: 0, start: 'poisson', ...never }).toFixed(7), p.toFixed(7), `q=0.1 z=${z}`);
    for (const [z, p] of NAKAMOTO_TABLE.q03)
      assert.equal(doubleSpendWin({ q: 0.3, z, lead: 0, start: 'poisson', ...never }).toFixed(7), p.toFixed(7), `q=0.3 z=${z}`);
    // A give-up far beyond any likely race changes nothing visible: the programme agrees with the closed form.
    for (const z of [0, 1, 2, 4, 6])
      assert.ok(
        Math.abs(doubleSpendWin({ q: 0.3, z, lead: 0, start: 'poisson', giveUpBehind: 400, giveUpAfter: 2000 }) - nakamotoCatchUp(0.3, z)) <
          1e-9,
        `z=${z}`,
      );
  });

  it('matches a seeded simulation of the race under the lab rule (lead 1, give up 3 behind, or after 20 blocks)', () => {
    let s = 12345;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const [q, z, after] of [
      [0.1, 0, 20],
      [0.3, 1, 20],
      [0.4, 4, 20],
      [0.4, 2, Infinity],
    ] as const) {
      const rule = { q, z, lead: 1, start: 'exact', giveUpBehind: 3, giveUpAfter: after } as const;
      const n = 100_000;
      let wins = 0;
      for (let i = 0; i < n; i++) {
        let h = 0;
        let a = 0;
        for (;;) {
          if (rand() < q) a++;
          else h++;
          if (h >= z && a - h >= 1) {
            wins++;
            break;
          }
          if ((h >= z && h - a > 3) || h >= z + after) break;
        }
      }
      const model = doubleSpendWin(rule);
      const se = Math.sqrt((model * (1 - model)) / n);
      assert.ok(Math.abs(wins / n - model) < 5 * se + 1e-9, `q=${q} z=${z}: simulated ${wins / n}, model ${model}`);
    }
  });

  it('giving up and needing a strict lead only lower the probability', () => {
    for (const q of [0.1, 0.2, 0.3, 0.4])
      for (const z of [0, 1, 2, 4, 6]) {
        const naka = nakamotoCatchUp(q, z);
        const exact = doubleSpendWin({ q, z, lead: 1, start: 'exact', ...never });
        const gaveUp = doubleSpendWin({ q, z, lead: 1, start: 'exact', giveUpBehind: 3, giveUpAfter: Infinity });
        assert.ok(gaveUp <= exact + 1e-12 && exact <= naka + 1e-12, `q ${q} z ${z}: ${gaveUp} ${exact} ${naka}`);
      }
    // A strict lead from a tie with no give-up: the gambler's ruin q/p.
    assert.ok(Math.abs(doubleSpendWin({ q: 0.2, z: 0, lead: 1, start: 'exact', ...never }) - 0.25) < 1e-12);
  });
});
