// The peer table's rules for whom a sync tries next and what a flood of statuses may push out
// (in-process, no sockets): peers that served us before claimed work, one address's entries
// bounded, a full table shedding the flooding address's entries before an honest miner's, and
// the claims that keep a wallet from calling itself synced.
import assert from 'node:assert/strict';
import { PeerTable } from '../src/shared/node/net/peers.js';
import type { Status } from '../src/shared/node/net/protocol.js';

function status(work: bigint, port: number, id: number): Status {
  const nodeId = new Uint8Array(8);
  new DataView(nodeId.buffer).setUint32(4, id);
  return { tipHash: new Uint8Array(32), height: Number(work), chainWork: work, blockServerPort: port, nodeId, mempoolSize: 0 };
}

describe('peer table (in-process)', () => {
  const any = () => true;

  it('tries a peer that served us before any claim of more work, then the most work claimed', () => {
    const t = new PeerTable({ statusBroadcastIntervalSeconds: 1 });
    const honest = t.heard('10.0.0.1', status(10n, 8000, 1));
    t.heard('10.0.0.2', status(1n << 200n, 8000, 2));
    const mid = t.heard('10.0.0.3', status(1n << 100n, 8000, 3));
    assert.equal(t.nextCandidate(0n, any)?.address, '10.0.0.2');
    t.served(honest);
    assert.equal(t.nextCandidate(0n, any), honest);
    assert.equal(
      t.nextCandidate(0n, (p) => p !== honest && p.address !== '10.0.0.2'),
      mid,
    );
    assert.equal(
      t.nextCandidate(10n, (p) => p === honest),
      undefined,
      'not ahead of us',
    );
  });

  it('a failed never-proven peer sets its whole address aside, other addresses stay candidates', () => {
    const t = new PeerTable({ statusBroadcastIntervalSeconds: 1 });
    const forged = t.heard('10.0.0.2', status(1n << 200n, 8000, 2));
    t.backOff(forged);
    t.heard('10.0.0.2', status(1n << 200n, 9000, 7)); // another port and node id, same address
    const honest = t.heard('10.0.0.1', status(10n, 8000, 1));
    assert.equal(t.nextCandidate(0n, any), honest);
  });

  it('a flood of made-up node ids from many addresses never pushes out an honest miner heard once', () => {
    const t = new PeerTable({ statusBroadcastIntervalSeconds: 60 });
    const honest = t.heard('10.0.0.1', status(10n, 8000, 1));
    for (let i = 0; i < 5000; i++) t.heard(`10.0.${1 + (i % 250)}.9`, status(1n << 200n, 8000, 1000 + i));
    assert.ok(t.peers.size <= 1000, `${t.peers.size} entries`);
    assert.equal(t.peers.get(honest.key), honest);
    const perAddress = [...t.peers.values()].filter((p) => p.address === '10.0.1.9').length;
    assert.ok(perAddress <= 16, `${perAddress} entries of one address`);
  });

  it('a peer that served us and announces more work counts as ahead even when set aside, unless it broke a rule', () => {
    const t = new PeerTable({ statusBroadcastIntervalSeconds: 1 });
    const p = t.heard('10.0.0.1', status(120n, 8000, 1));
    t.served(p);
    t.backOff(p);
    assert.deepEqual(t.credibleAhead(5n), [], 'set aside');
    assert.deepEqual(t.unsettledAhead(5n), [p], 'but its chain exists');
    t.ban(p, 60);
    assert.deepEqual(t.unsettledAhead(5n), [], 'an invalid chain is not one we miss');
  });

  it('a never-proven peer that timed out once is tried again after a second, and its claim stands until then', () => {
    const t = new PeerTable({ statusBroadcastIntervalSeconds: 1 });
    const slow = t.heard('10.0.0.1', status(120n, 8000, 1));
    const refused = t.heard('10.0.0.2', status(120n, 8000, 2));
    t.backOff(slow, true);
    t.backOff(refused, false);
    assert.deepEqual(t.credibleAhead(5n), [], 'both set aside');
    assert.deepEqual(t.unsettledAhead(5n), [slow], 'a timeout is not yet a dismissed claim');
    t.backOff(slow, true);
    assert.deepEqual(t.unsettledAhead(5n), [], 'twice is');
  });
});
