// A block-server attacker in a process of its own (so its sockets do not load the test process
// that measures honest latency): connections from many loopback addresses (127.0.0.2 and up are
// all loopback on Linux), each holding a slot one way, and coming back 20 ms after it is closed:
//   busy    a small valid request (given as hex) every intervalMs, answers read and discarded;
//   trickle a request's frame header, then a byte a second (slowloris);
//   idle    connects and sends nothing;
//   noread  asks for blocks (hex) a few times and never reads (it gives up and reconnects after
//           `noreadMs`: a paused socket does not see the server close it).
// Run: node block-attacker.js '<json AttackPlan>'. Prints a JSON line of counts every 500 ms
// ("ready" once every connection has connected at least once); ends when its stdin closes.
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export type AttackMode = 'busy' | 'trickle' | 'idle' | 'noread';

export interface AttackGroup {
  readonly addresses: readonly string[];
  readonly perAddress: number;
  readonly mode: AttackMode;
}

export interface AttackPlan {
  readonly port: number;
  readonly groups: readonly AttackGroup[];
  /** A whole request frame, hex (busy: sent every intervalMs; trickle: its first 17 bytes). */
  readonly requestHex: string;
  /** A GETBLOCKS frame, hex (noread). */
  readonly blocksRequestHex: string;
  readonly intervalMs: number;
  readonly noreadMs: number;
}

export interface AttackCounts {
  connects: number;
  closes: number;
  open: number;
  requests: number;
  bytesIn: number;
  ready: boolean;
}

const RECONNECT_MS = 20;

function attack(plan: AttackPlan): AttackCounts {
  const counts: AttackCounts = { connects: 0, closes: 0, open: 0, requests: 0, bytesIn: 0, ready: false };
  const request = Buffer.from(plan.requestHex, 'hex');
  const header = request.subarray(0, 17);
  const blocks = Buffer.from(plan.blocksRequestHex, 'hex');
  const slots: { address: string; mode: AttackMode; connected: boolean }[] = [];
  let everConnected = 0;
  for (const g of plan.groups)
    for (const address of g.addresses) for (let i = 0; i < g.perAddress; i++) slots.push({ address, mode: g.mode, connected: false });
  const open = (slot: (typeof slots)[number]): void => {
    const s = net.connect({ host: '127.0.0.1', port: plan.port, localAddress: slot.address });
    const timers: NodeJS.Timeout[] = [];
    s.on('error', () => {});
    s.on('data', (d: Buffer) => (counts.bytesIn += d.length));
    let connected = false;
    s.on('connect', () => {
      connected = true;
      counts.connects++;
      counts.open++;
      if (!slot.connected) everConnected++;
      slot.connected = true;
      counts.ready = everConnected === slots.length;
      timers.push(...start(s, slot.mode));
    });
    s.on('close', () => {
      timers.forEach((t) => clearInterval(t));
      if (connected) counts.open--;
      counts.closes++;
      setTimeout(() => open(slot), RECONNECT_MS);
    });
  };
  const start = (s: net.Socket, mode: AttackMode): NodeJS.Timeout[] => {
    if (mode === 'busy') {
      const send = () => !s.destroyed && s.write(request) && counts.requests++;
      send();
      return [setInterval(send, plan.intervalMs)];
    }
    if (mode === 'trickle') {
      s.write(header);
      return [setInterval(() => !s.destroyed && s.write(Uint8Array.of(0)), 1000)];
    }
    if (mode === 'noread') {
      s.pause();
      for (let i = 0; i < 8; i++) s.write(blocks);
      counts.requests += 8;
      return [setTimeout(() => s.destroy(), plan.noreadMs)];
    }
    return [];
  };
  slots.forEach((slot, i) => setTimeout(() => open(slot), Math.floor(i / 50))); // 50 a millisecond
  return counts;
}

/** Runs the plan in argv[2] when this file is the program (the test imports it only for its types and path). */
export const ATTACKER_JS = fileURLToPath(import.meta.url);
if (process.argv[1] === ATTACKER_JS) {
  const counts = attack(JSON.parse(process.argv[2] ?? '{}') as AttackPlan);
  const report = setInterval(() => process.stdout.write(JSON.stringify(counts) + '\n'), 500);
  process.stdin.on('end', () => {
    clearInterval(report);
    process.exit(0);
  });
  process.stdin.resume();
}
