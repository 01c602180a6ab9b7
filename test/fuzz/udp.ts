// Sends fuzzed datagrams (fuzz.ts: datagrams) to both UDP ports of a real miner process on
// loopback, from 100 loopback source addresses, and checks it stays alive and announcing.
import dgram from 'node:dgram';
import { StatusWatcher, netPorts, removeDir, startMiner, stopProc, tempDir, testSettings, waitFor } from '../kit/procs.js';
import { datagrams } from './fuzz.js';

/** Sends n fuzzed datagrams to both UDP ports of a real miner; returns what it dropped. */
export async function fuzzUdp(seed: number, n: number): Promise<{ sent: number; alive: boolean; announced: boolean; output: string }> {
  const ports = await netPorts();
  const dir = tempDir('fuzz-miner');
  const m = await startMiner({ ports, datadir: dir, args: ['--no-mine'] });
  const watcher = new StatusWatcher(testSettings(ports));
  await watcher.start();
  // Many loopback sources (127.0.0.100-199), each under the per-source rate limit.
  const socks = await Promise.all(
    Array.from(
      { length: 100 },
      (_, k) =>
        new Promise<dgram.Socket>((r) => {
          const s = dgram.createSocket('udp4');
          s.on('error', () => {});
          s.bind(0, `127.0.0.${100 + k}`, () => r(s));
        }),
    ),
  );
  let sent = 0;
  try {
    for (const d of datagrams(seed, n)) {
      socks[sent % socks.length]!.send(d.bytes, d.port === 'tx' ? ports.transactionPort : ports.statusPort, '127.0.0.1');
      if (++sent % 500 === 0) await new Promise((r) => setTimeout(r, 50));
    }
    watcher.latest.clear();
    // Still announcing its tip after the flood: alive and its event loop turning.
    const announced = await waitFor(
      () => watcher.of(m.info.nodeId) !== undefined,
      10_000,
      () => 'no status after the flood',
    ).then(
      () => true,
      () => false,
    );
    return { sent, alive: m.child.exitCode === null, announced, output: m.output() };
  } finally {
    for (const s of socks) s.close();
    await watcher.close();
    await stopProc(m);
    removeDir(dir);
  }
}
