// A /api/v1/ws client's requests, as mempool.space's backend reads them: `{"action":"want",
// "data":[...]}` (the state of each subscription new to it is sent at once), `{"action":"init"}`
// (every state part), `{"action":"ping"}` (`{"pong":true}`), `{"refresh-blocks":true}`,
// `{"track-address":A}`, `{"track-addresses":[A...]}` (at most maxTrackedAddresses),
// `{"track-tx":TXID}`. A message none of these apply to is answered with `{"error":...}`; every
// field is checked before use (addresses by checksum and network, txids as 64 hex digits).
import { hexToHash } from '../shared/core/bytes.js';
import type { Lookups } from './lookups.js';
import { address } from './params.js';
import { WANTABLE, type Want, type WsClient } from './ws-clients.js';
import { inputsOf } from './ws-feed.js';
import { type Encoded, INIT_PARTS, STATS_PARTS, type WsState, joinResponse } from './ws-messages.js';

export const UNKNOWN_MESSAGE = 'unknown message: expected action want, init or ping, track-address, track-addresses or track-tx';

export interface RequestContext {
  readonly api: Lookups;
  readonly state: WsState;
  readonly maxTrackedAddresses: number;
}

/** The answer to one parsed message (undefined: nothing to say), and whether anything in it was understood. */
export function answer(ctx: RequestContext, c: WsClient, msg: Record<string, unknown>): { text?: string; understood: boolean } {
  const r: Encoded = {};
  let understood = false;
  if (msg['action'] === 'want' && Array.isArray(msg['data'])) {
    understood = true;
    want(ctx, c, msg['data'], r);
  }
  if (msg['refresh-blocks']) {
    understood = true;
    r['blocks'] = ctx.state.part('blocks');
  }
  if ('track-address' in msg) understood = trackAddress(ctx, c, msg['track-address'], r) || understood;
  if ('track-addresses' in msg) understood = trackAddresses(ctx, c, msg['track-addresses'], r) || understood;
  if ('track-tx' in msg) understood = trackTx(ctx, c, msg['track-tx']) || understood;
  const position = c.trackTx && 'track-tx' in msg ? ctx.state.txPosition(c.trackTx) : undefined;
  if (position) r['txPosition'] = position;
  if (msg['action'] === 'init') return { text: joinResponse(ctx.state.parts(INIT_PARTS)), understood: true };
  if (msg['action'] === 'ping') {
    understood = true;
    r['pong'] = 'true';
  }
  if (!understood) r['error'] = JSON.stringify(UNKNOWN_MESSAGE);
  return { text: Object.keys(r).length ? joinResponse(r) : undefined, understood };
}

/** The subscriptions are replaced by the list; each one new to the client is sent its state now. */
function want(ctx: RequestContext, c: WsClient, data: unknown[], r: Encoded): void {
  const now = new Set(WANTABLE.filter((w) => data.includes(w)));
  const fresh = (w: Want) => now.has(w) && !c.wants.has(w);
  if (fresh('blocks')) r['blocks'] = ctx.state.part('blocks');
  if (fresh('mempool-blocks')) r['mempool-blocks'] = ctx.state.part('mempool-blocks');
  if (fresh('stats')) Object.assign(r, ctx.state.parts(STATS_PARTS));
  c.wants.clear();
  for (const w of now) c.wants.add(w);
}

/** A valid address of this network is tracked (replacing the last); anything else stops tracking, with an error. */
function validAddress(ctx: RequestContext, a: unknown): string | undefined {
  if (typeof a !== 'string') return undefined;
  try {
    address(a, ctx.api.ex.settings.params.addressVersion);
    return a;
  } catch {
    return undefined;
  }
}

function trackAddress(ctx: RequestContext, c: WsClient, a: unknown, r: Encoded): boolean {
  c.trackAddress = validAddress(ctx, a);
  if (!c.trackAddress && a !== null && a !== 'stop') r['track-address-error'] = JSON.stringify('invalid address');
  return true;
}

function trackAddresses(ctx: RequestContext, c: WsClient, list: unknown, r: Encoded): boolean {
  if (!Array.isArray(list)) return false;
  const valid = new Set<string>();
  for (const a of list.slice(0, ctx.maxTrackedAddresses + 1)) {
    const ok = validAddress(ctx, a);
    if (ok) valid.add(ok);
  }
  if (list.length > ctx.maxTrackedAddresses) {
    r['track-addresses-error'] = JSON.stringify(
      `too many addresses requested, this connection supports tracking a maximum of ${ctx.maxTrackedAddresses} addresses`,
    );
    c.trackAddresses = undefined;
  } else c.trackAddresses = valid.size ? valid : undefined;
  return true;
}

function trackTx(ctx: RequestContext, c: WsClient, id: unknown): boolean {
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{64}$/.test(id)) {
    c.trackTx = c.trackTxInputs = undefined;
    return id === null || id === 'stop';
  }
  c.trackTx = id.toLowerCase();
  const pooled = ctx.api.ex.mempool.get(hexToHash(c.trackTx));
  c.trackTxInputs = pooled ? inputsOf(pooled.tx) : undefined;
  return true;
}
