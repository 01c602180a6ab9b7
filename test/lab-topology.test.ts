// The lab's topologies measured as graphs (src/lab/experiment.ts meanHopCount): propagation over a
// random graph is compared with link delay × the graph's mean hop count, so that count must be right.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { meanHopCount, parseExperiment, randomGraph } from '../src/lab/experiment.js';

const x = (json: Record<string, unknown>) => parseExperiment(json, 'topology');

describe('lab: mean hop count of a topology', () => {
  it('is 1 on a full mesh, 9/5 on a ring of 6, 4/3 on a path of 3', () => {
    assert.equal(meanHopCount(x({ hosts: 5 })), 1);
    assert.equal(meanHopCount(x({ hosts: 6, topology: 'ring' })), 9 / 5);
    const path = {
      type: 'links',
      links: [
        { a: 'h1', b: 'h2' },
        { a: 'h2', b: 'h3' },
      ],
    };
    assert.equal(meanHopCount(x({ hosts: 3, topology: path })), 4 / 3);
  });

  it('on scale-50’s random graph equals a brute-force all-pairs count (Floyd–Warshall)', () => {
    const e = parseExperiment(JSON.parse(readFileSync('experiments/scale-50.json', 'utf8')), 'scale-50');
    assert.equal(e.topology.type, 'random');
    if (e.topology.type !== 'random') return;
    const n = e.hosts;
    const d = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : Infinity)));
    const edges = randomGraph(n, e.topology.degree, e.topology.seed);
    for (const [a, b] of edges) d[a]![b] = d[b]![a] = 1;
    for (let k = 0; k < n; k++)
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i]![j] = Math.min(d[i]![j]!, d[i]![k]! + d[k]![j]!);
    let sum = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j && d[i]![j]! < Infinity) {
          sum += d[i]![j]!;
          pairs++;
        }
    assert.equal(pairs, n * (n - 1), 'the graph is connected');
    const mean = meanHopCount(e);
    console.log(`      scale-50: ${edges.length} links, mean hop count ${mean.toFixed(3)}`);
    assert.ok(Math.abs(mean - sum / pairs) < 1e-12, `${mean} vs ${sum / pairs}`);
    assert.ok(mean > 1);
  });
});
