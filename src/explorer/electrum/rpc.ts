// JSON-RPC 2.0 (www.jsonrpc.org/specification) as the Electrum protocol uses it: one request, or a
// batch (an array of them), per line. The codes: JSON-RPC's own for malformed messages, and
// ElectrumX's BAD_REQUEST (1) for a well-formed request the server refuses (an unknown
// transaction, a height past the tip, a transaction the pool rejects), with a one-line message.
import { hexToHash } from '../../shared/core/bytes.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** ElectrumX's BAD_REQUEST: the request is understood and refused. */
export const BAD_REQUEST = 1;
/** A limit of this server (too many subscriptions, a history too long to send). */
export const SERVER_BUSY = -32000;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type RpcId = string | number | null;

/** One request of a line, checked for JSON-RPC's shape; params are positional or named. */
export interface RpcRequest {
  readonly id: RpcId;
  /** Absent: a notification (no answer is sent). */
  readonly hasId: boolean;
  readonly method: string;
  readonly params: readonly unknown[] | Readonly<Record<string, unknown>>;
}

export function errorReply(id: RpcId, e: RpcError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code: e.code, message: e.message } });
}

export function resultReply(id: RpcId, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}

export function notification(method: string, params: readonly unknown[]): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}

/** A parsed value's request shape; throws RpcError(INVALID_REQUEST) with what is wrong. */
export function asRequest(v: unknown): RpcRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RpcError(INVALID_REQUEST, 'a request must be a JSON object');
  const o = v as Record<string, unknown>;
  const id = o['id'];
  const hasId = 'id' in o;
  if (hasId && id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id)))
    throw new RpcError(INVALID_REQUEST, 'id must be a string, a number or null');
  if (typeof o['method'] !== 'string' || o['method'].length > 64) throw new RpcError(INVALID_REQUEST, 'method must be a string');
  const params = o['params'] ?? [];
  if (typeof params !== 'object' || params === null) throw new RpcError(INVALID_REQUEST, 'params must be an array or an object');
  return { id: hasId ? (id as RpcId) : null, hasId, method: o['method'], params: params as RpcRequest['params'] };
}

/** The id to answer a malformed request with: its own when it has a usable one, else null. */
export function idOf(v: unknown): RpcId {
  const id = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['id'] : null;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

/** Positional parameters by their names (a named-params request gives them by name). */
export function paramList(params: RpcRequest['params'], names: readonly string[]): unknown[] {
  if (Array.isArray(params)) {
    if (params.length > names.length) throw new RpcError(INVALID_PARAMS, `at most ${names.length} parameters (${names.join(', ')})`);
    return params as unknown[];
  }
  const named = params as Record<string, unknown>;
  for (const k of Object.keys(named)) if (!names.includes(k)) throw new RpcError(INVALID_PARAMS, `unknown parameter ${k}`);
  return names.map((n) => named[n]);
}

export function intParam(v: unknown, name: string, min: number, max: number, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RpcError(INVALID_PARAMS, `${name} must be an integer from ${min} to ${max}`);
  return v;
}

export function boolParam(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new RpcError(INVALID_PARAMS, `${name} must be true or false`);
  return v;
}

/** A 32-byte hash in display hex (a txid, a scripthash), lower-cased. */
export function hashParam(v: unknown, name: string): string {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) throw new RpcError(INVALID_PARAMS, `${name} must be 64 hex digits`);
  return v.toLowerCase();
}

export function hashBytes(v: unknown, name: string): Uint8Array {
  return hexToHash(hashParam(v, name));
}
