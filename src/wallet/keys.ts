// The wallet's keys and addresses: the key directory (DATADIR/keys, PEM files via KeyStore),
// passphrases for encrypted keys, and turning what the user typed (a local name or an address)
// into a public key hash, with errors that say exactly what is wrong.
import { keysDir } from './datadir.js';
import { ADDRESS_BYTES, AddressError, MAX_ADDRESS_CHARS, decodeAddress, encodeAddress } from '../shared/core/address.js';
import { equalBytes, toHex } from '../shared/core/bytes.js';
import { type CommandContext, CliError, processOutput } from '../shared/node/cli/runner.js';
import { KEY_NAME_RE, type KeyInfo, KeyStore } from '../shared/node/store/keystore.js';

export const PASSPHRASE_ENV = 'MVB_PASSPHRASE';

export function openKeys(ctx: CommandContext): KeyStore {
  return new KeyStore(keysDir(ctx.datadir));
}

export interface LocalKey extends KeyInfo {
  readonly address: string;
  readonly pkhHex: string;
}

/** Every readable local key with its address, by name. */
export function localKeys(ks: KeyStore, addressVersion: number): LocalKey[] {
  return ks.list().map((k) => ({ ...k, address: encodeAddress(k.pubkeyHash, addressVersion), pkhHex: toHex(k.pubkeyHash) }));
}

/**
 * Decodes a Base58Check P2PKH address of this network, naming what is wrong: the alphabet, the
 * length, the checksum or the network version byte.
 */
export function parseAddress(text: string, addressVersion: number, networkName: string): Uint8Array {
  try {
    return decodeAddress(text, addressVersion).hash160;
  } catch (e) {
    if (!(e instanceof AddressError)) throw e;
    throw new CliError(addressProblem(e, text, addressVersion, networkName));
  }
}

function addressProblem(e: AddressError, text: string, addressVersion: number, networkName: string): string {
  switch (e.reason) {
    case 'alphabet':
      return `invalid address "${text}": not Base58 (characters 0, O, I and l are not used)`;
    case 'length':
      if (e.found === undefined) return `invalid address "${text.slice(0, MAX_ADDRESS_CHARS)}…": too long for an address`;
      return `invalid address "${text}": ${e.found} bytes, an address has ${ADDRESS_BYTES}`;
    case 'checksum':
      return `invalid address "${text}": checksum mismatch (mistyped?)`;
    case 'version':
      return `address "${text}" belongs to another network: version byte ${e.found}, network ${networkName} uses ${addressVersion}`;
  }
}

/** Whether text (not a local name) should be judged as an address rather than as a name: address-length letters and digits. */
function looksLikeAddress(text: string): boolean {
  return !KEY_NAME_RE.test(text) || (/^[A-Za-z0-9]+$/.test(text) && text.length >= 26);
}

/** A local key by name or by address. */
export function resolveLocal(ks: KeyStore, text: string, addressVersion: number, networkName: string): LocalKey {
  const keys = localKeys(ks, addressVersion);
  const byName = keys.find((k) => k.name === text);
  if (byName) return byName;
  const byAddress = keys.find((k) => k.address === text);
  if (byAddress) return byAddress;
  if (!looksLikeAddress(text)) {
    // Broken key files are not in list(): let KeyStore say what is wrong with this one.
    if (ks.has(text)) ks.info(text);
    throw new CliError(`no local address named "${text}" (see mvb-wallet list-addresses)`);
  }
  const pkh = parseAddress(text, addressVersion, networkName);
  if (!keys.some((k) => equalBytes(k.pubkeyHash, pkh))) throw new CliError(`address ${text} is not one of this wallet's addresses`);
  return keys.find((k) => equalBytes(k.pubkeyHash, pkh))!;
}

/** Where a payment goes: a local name, or any address of this network. */
export function resolveDestination(
  ks: KeyStore,
  text: string,
  addressVersion: number,
  networkName: string,
): { pkh: Uint8Array; address: string; name?: string } {
  const local = localKeys(ks, addressVersion);
  const byName = local.find((k) => k.name === text);
  if (byName) return { pkh: byName.pubkeyHash, address: byName.address, name: byName.name };
  if (!looksLikeAddress(text)) {
    throw new CliError(`"${text}" is neither a local address name nor an address`);
  }
  const pkh = parseAddress(text, addressVersion, networkName);
  const mine = local.find((k) => equalBytes(k.pubkeyHash, pkh));
  return { pkh, address: text, name: mine?.name };
}

// ------------------------------------------------------------------ passphrases

function interactive(ctx: CommandContext): boolean {
  return ctx.io === processOutput && process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(prompt: string, signal?: AbortSignal): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = () => {
      stdin.off('data', onData);
      signal?.removeEventListener('abort', onAbort);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onAbort = () => {
      done();
      reject(new CliError('cancelled', 130));
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(buf);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          onAbort();
          return;
        }
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else if (ch >= ' ') buf += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The passphrase for an encrypted key: $MVB_PASSPHRASE, else asked at the terminal with hidden
 * input (twice when a new one is chosen), else a clear error.
 */
export async function getPassphrase(ctx: CommandContext, purpose: string, opts: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = ctx.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!interactive(ctx)) {
    throw new CliError(`${purpose} needs a passphrase: set ${PASSPHRASE_ENV} or run in a terminal to be asked`);
  }
  const p = await promptHidden(`Passphrase for ${purpose}: `, ctx.signal);
  if (p === '') throw new CliError('the passphrase must not be empty');
  if (opts.confirm) {
    const again = await promptHidden('Repeat the passphrase: ', ctx.signal);
    if (again !== p) throw new CliError('the passphrases do not match');
  }
  return p;
}

/**
 * An encrypted key whose public key file is lost (a crash while it was created, or a deleted
 * file) cannot be listed or used; rebuilding that file needs the passphrase, so a send from it
 * does it first.
 */
export async function repairPublicKey(ctx: CommandContext, ks: KeyStore, name: string): Promise<void> {
  if (!ks.needsPublicKey(name)) return;
  const pass = await getPassphrase(ctx, `key "${name}" (to rebuild its public key file)`);
  ks.rebuildPublicKey(name, pass);
  ctx.io.err(`rebuilt the public key file of "${name}"`);
}

/** The secret key of a local key, asking for its passphrase if it is encrypted. */
export async function unlock(ctx: CommandContext, ks: KeyStore, key: KeyInfo): Promise<Uint8Array> {
  if (!key.encrypted) return ks.secret(key.name);
  const pass = await getPassphrase(ctx, `key "${key.name}"`);
  return ks.secret(key.name, pass);
}
