// An HTTP attacker on the explorer in a process of its own (so its sockets do not load the test
// process that measures honest latency): connections from many loopback addresses (127.0.0.2 and
// up are all loopback on Linux), each one of these, and coming back after it is closed:
//   idle    connects and sends nothing (20 ms later);
//   trickle a request line, then a header byte a second (slowloris; 20 ms later);
//   busy    a small GET every intervalMs on one keep-alive connection, answers read (20 ms later);
//   stream  an event stream (GET /api/mvb/events), read and held (streamReconnectMs later).
// Run: node http-attacker.js '<json HttpAttackPlan>'. Prints a JSON line of counts every 500 ms
// ("ready" once every connection has connected at least once); ends when its stdin closes.
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export type HttpAttackMode = 'idle' | 'trickle' | 'busy' | 'stream';

export interface HttpAttackGroup {
  readonly addresses: readonly string[];
  readonly perAddress: number;
  readonly mode: HttpAttackMode;
}

export interface HttpAttackPlan {
  readonly port: number;
  readonly groups: readonly HttpAttackGroup[];
  /** The path busy connections GET. */
  readonly path: string;
  readonly intervalMs: number;
  readonly streamReconnectMs: number;
}

export interface HttpAttackCounts {
  connects: number;
  closes: number;
  open: number;
  requests: number;
  answers: number;
  streamOpens: number;
  bytesIn: number;
  ready: boolean;
}

const RECONNECT_MS = 20;
const ANSWER_MARK = 'HTTP/1.1 ';

function attack(plan: HttpAttackPlan): HttpAttackCounts {
  const counts: HttpAttackCounts = { connects: 0, closes: 0, open: 0, requests: 0, answers: 0, streamOpens: 0, bytesIn: 0, ready: false };
  const request = `GET ${plan.path} HTTP/1.1\r\nHost: explorer\r\n\r\n`;
  const slots: { address: string; mode: HttpAttackMode; connected: boolean }[] = [];
  let everConnected = 0;
  for (const g of plan.groups)
    for (const address of g.addresses) for (let i = 0; i < g.perAddress; i++) slots.push({ address, mode: g.mode, connected: false });
  const open = (slot: (typeof slots)[number]): void => {
    const s = net.connect({ host: '127.0.0.1', port: plan.port, localAddress: slot.address });
    const timers: NodeJS.Timeout[] = [];
    s.on('error', () => {});
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
      setTimeout(() => open(slot), slot.mode === 'stream' ? plan.streamReconnectMs : RECONNECT_MS);
    });
  };
  const start = (s: net.Socket, mode: HttpAttackMode): NodeJS.Timeout[] => {
    if (mode === 'busy') return [busy(s)];
    if (mode === 'trickle') {
      s.write('GET /api/blocks HTTP/1.1\r\nHost: explorer\r\nX-Slow: ');
      return [setInterval(() => !s.destroyed && s.write('a'), 1000)];
    }
    if (mode === 'stream') {
      s.on('data', (d: Buffer) => (counts.bytesIn += d.length));
      s.write('GET /api/mvb/events HTTP/1.1\r\nHost: explorer\r\nAccept: text/event-stream\r\n\r\n');
      counts.streamOpens++;
    }
    return [];
  };
  /** One request at a time: the next goes at the next tick once the last is answered. */
  const busy = (s: net.Socket): NodeJS.Timeout => {
    let outstanding = 0;
    let tail = '';
    s.on('data', (d: Buffer) => {
      counts.bytesIn += d.length;
      const text = tail + d.toString('latin1');
      const answers = text.split(ANSWER_MARK).length - 1;
      outstanding = Math.max(0, outstanding - answers);
      counts.answers += answers;
      tail = text.slice(-ANSWER_MARK.length + 1);
    });
    const send = (): void => {
      if (s.destroyed || outstanding > 0) return;
      s.write(request);
      outstanding++;
      counts.requests++;
    };
    send();
    return setInterval(send, plan.intervalMs);
  };
  slots.forEach((slot, i) => setTimeout(() => open(slot), Math.floor(i / 50))); // 50 a millisecond
  return counts;
}

/** Runs the plan in argv[2] when this file is the program (the test imports it only for its types and path). */
export const HTTP_ATTACKER_JS = fileURLToPath(import.meta.url);
if (process.argv[1] === HTTP_ATTACKER_JS) {
  const counts = attack(JSON.parse(process.argv[2] ?? '{}') as HttpAttackPlan);
  const report = setInterval(() => process.stdout.write(JSON.stringify(counts) + '\n'), 500);
  process.stdin.on('end', () => {
    clearInterval(report);
    process.exit(0);
  });
  process.stdin.resume();
}
