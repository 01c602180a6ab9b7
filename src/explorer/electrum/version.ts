// server.version (Electrum protocol, "Version negotiation"): the client names itself and gives the
// protocol versions it speaks, a [min, max] pair or one string meaning both; the server answers
// with its software version and the highest version both speak, or an error (and closes, as
// ElectrumX does) when there is none. Only the first call negotiates.
import { packageVersion } from '../../shared/node/cli/runner.js';
import type { ElectrumContext, ElectrumSession } from './context.js';
import { BAD_REQUEST, INVALID_PARAMS, RpcError } from './rpc.js';

export const PROTOCOL_MIN = '1.4';
export const PROTOCOL_MAX = '1.4.2';
/** The protocol versions this server speaks, lowest first. */
const SPOKEN = ['1.4', '1.4.1', '1.4.2'];

export const serverVersion = (): string => `mvb ${packageVersion()}`;

/** Thrown when no version is shared: the session answers it, then closes. */
export class NoCommonVersion extends RpcError {}

/** "1.4.2" as [1, 4, 2]; undefined when it is not a version. */
function parse(v: unknown): number[] | undefined {
  if (typeof v !== 'string' || !/^\d{1,4}(\.\d{1,4}){0,3}$/.test(v)) return undefined;
  return v.split('.').map(Number);
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function negotiate(_c: ElectrumContext, s: ElectrumSession, clientName: unknown, asked: unknown): [string, string] {
  if (s.protocol !== undefined) throw new RpcError(BAD_REQUEST, 'server.version already sent');
  if (clientName !== undefined && (typeof clientName !== 'string' || clientName.length > 256))
    throw new RpcError(INVALID_PARAMS, 'client_name must be a string of at most 256 characters');
  const pair = asked === undefined ? [PROTOCOL_MIN, PROTOCOL_MIN] : Array.isArray(asked) ? asked : [asked, asked];
  const lo = parse(pair[0]);
  const hi = parse(pair[1]);
  if (pair.length !== 2 || !lo || !hi) throw new RpcError(INVALID_PARAMS, 'protocol_version must be "1.4" or ["1.4", "1.4.2"]');
  const both = SPOKEN.filter((v) => compare(parse(v)!, lo) >= 0 && compare(parse(v)!, hi) <= 0);
  const chosen = both[both.length - 1];
  if (!chosen)
    throw new NoCommonVersion(BAD_REQUEST, `unsupported protocol version: this server speaks ${PROTOCOL_MIN} to ${PROTOCOL_MAX}`);
  s.protocol = chosen;
  return [serverVersion(), chosen];
}
