// Keys as PEM files under names the user picks: <name>.pem holds the private key as PKCS#8
// (encrypted PKCS#8 with --encrypt), <name>.pub.pem the public key, so addresses can be listed
// without a passphrase. Files are mode 0600, written to a temporary name and linked into place,
// which is atomic and never overwrites. PEM/PKCS#8 handling is OpenSSL's, through node:crypto.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as secp from '@noble/secp256k1';
import { encodeAddress } from '../../core/address.js';
import { equalBytes } from '../../core/bytes.js';
import { hash160 } from '../../core/hash.js';
import { isValidSecretKey, publicKeyOf } from '../../core/ecdsa.js';

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

export const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkKeyName(name: string): void {
  if (!KEY_NAME_RE.test(name) || name.endsWith('.pub')) {
    throw new KeyError(`invalid name "${name}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

/**
 * For a name that is to be created: as checkKeyName, and no ".pem" ending (the file is NAME.pem
 * already; "x.pem" would make x.pem.pem). Existing keys with such names still open.
 */
export function checkNewKeyName(name: string): void {
  if (/\.pem$/i.test(name))
    throw new KeyError(`invalid name "${name}": give the name without ".pem" (the key is saved as ${name.replace(/\.pem$/i, '')}.pem)`);
  checkKeyName(name);
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export interface KeyInfo {
  readonly name: string;
  /** Compressed SEC1 public key. */
  readonly publicKey: Uint8Array;
  readonly pubkeyHash: Uint8Array;
  readonly encrypted: boolean;
}

/** Writes data to path atomically; fails with EEXIST rather than replace an existing file. */
export function writeNewFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } finally {
    unlinkSync(tmp);
  }
}

export function secretToPem(secret: Uint8Array, passphrase?: string): { priv: string; pub: string } {
  if (!isValidSecretKey(secret)) throw new KeyError('not a valid secp256k1 secret key');
  const un = secp.getPublicKey(secret, false);
  const jwk = { kty: 'EC', crv: 'secp256k1', d: b64u(secret), x: b64u(un.subarray(1, 33)), y: b64u(un.subarray(33, 65)) };
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const priv =
    passphrase === undefined
      ? (key.export({ type: 'pkcs8', format: 'pem' }) as string)
      : (key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string);
  const pub = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
  return { priv, pub };
}

/** Reads a private key PEM (PKCS#8, encrypted PKCS#8 or SEC1 "EC PRIVATE KEY") on secp256k1. */
export function pemToSecret(pem: string, passphrase?: string): Uint8Array {
  if (/-----BEGIN (EC )?PUBLIC KEY-----/.test(pem) && !/PRIVATE KEY-----/.test(pem)) {
    throw new KeyError(
      'this is a public key: a wallet needs the private key to spend (a file starting -----BEGIN PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)',
    );
  }
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (e) {
    const msg = (e as Error).message;
    // An encrypted PKCS#8 opened with a wrong passphrase fails the AES-CBC padding check, except
    // about one time in 256, when the padding passes by chance and the decrypted bytes then fail to
    // decode as a key ("DECODER routines::unsupported"): with a passphrase, either is a wrong one.
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem);
    if (/bad decrypt|passphrase|interrupted or cancelled/i.test(msg) || (encrypted && passphrase !== undefined))
      throw new KeyError(passphrase === undefined ? 'the key is encrypted: a passphrase is needed' : 'wrong passphrase');
    throw new KeyError(`not a private key PEM: ${msg}`);
  }
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'secp256k1' || !jwk.d) throw new KeyError(`key is not on secp256k1 (curve ${jwk.crv ?? key.asymmetricKeyType})`);
  const d = new Uint8Array(Buffer.from(jwk.d, 'base64url'));
  const out = new Uint8Array(32);
  out.set(d, 32 - d.length);
  return out;
}

export function isEncryptedPem(pem: string): boolean {
  return pem.includes('ENCRYPTED PRIVATE KEY') || /Proc-Type: 4,ENCRYPTED/.test(pem);
}

export class KeyStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private paths(name: string): { priv: string; pub: string } {
    return { priv: join(this.dir, `${name}.pem`), pub: join(this.dir, `${name}.pub.pem`) };
  }

  has(name: string): boolean {
    try {
      readFileSync(this.paths(name).priv);
      return true;
    } catch {
      return false;
    }
  }

  /** Saves a key under a new name; throws KeyError if the name is taken or invalid. */
  save(name: string, secret: Uint8Array, passphrase?: string): KeyInfo {
    checkKeyName(name);
    const { priv, pub } = secretToPem(secret, passphrase);
    const p = this.paths(name);
    try {
      writeNewFileAtomic(p.priv, priv);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyError(`a key named "${name}" already exists`);
      throw e;
    }
    try {
      unlinkSync(p.pub);
    } catch {
      /* none */
    }
    writeNewFileAtomic(p.pub, pub, 0o644);
    const publicKey = publicKeyOf(secret);
    return { name, publicKey, pubkeyHash: hash160(publicKey), encrypted: passphrase !== undefined };
  }

  create(name: string, passphrase?: string): KeyInfo {
    checkKeyName(name);
    if (this.has(name)) throw new KeyError(`a key named "${name}" already exists`);
    return this.save(name, secp.utils.randomSecretKey(), passphrase);
  }

  info(name: string): KeyInfo {
    checkKeyName(name);
    const p = this.paths(name);
    let privPem: string;
    try {
      privPem = readFileSync(p.priv, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new KeyError(code === 'ENOENT' ? `no key named "${name}"` : `cannot read ${name}.pem: ${code ?? (e as Error).message}`);
    }
    const encrypted = isEncryptedPem(privPem);
    let publicKey: Uint8Array;
    try {
      const jwk = createPublicKey(readFileSync(p.pub, 'utf8')).export({ format: 'jwk' });
      const x = Buffer.from(jwk.x!, 'base64url');
      const y = Buffer.from(jwk.y!, 'base64url');
      publicKey = new Uint8Array(33);
      publicKey[0] = (y[y.length - 1]! & 1) === 1 ? 0x03 : 0x02;
      publicKey.set(x, 33 - x.length);
    } catch {
      if (encrypted)
        throw new KeyError(
          `public key file ${name}.pub.pem of encrypted key "${name}" is missing or damaged; \`mvb-wallet send ${name} ...\` rebuilds it (it asks for the passphrase)`,
        );
      publicKey = publicKeyOf(pemToSecret(privPem));
    }
    return { name, publicKey, pubkeyHash: hash160(publicKey), encrypted };
  }

  /** True if the key is encrypted and its public key file is missing or damaged, so it cannot be listed until rebuilt. */
  needsPublicKey(name: string): boolean {
    if (!KEY_NAME_RE.test(name) || name.endsWith('.pub')) return false;
    let privPem: string;
    try {
      privPem = readFileSync(this.paths(name).priv, 'utf8');
    } catch {
      return false;
    }
    if (!isEncryptedPem(privPem)) return false;
    try {
      this.info(name);
      return false;
    } catch {
      return true;
    }
  }

  /** Writes <name>.pub.pem again from the private key (for an encrypted key, with its passphrase). */
  rebuildPublicKey(name: string, passphrase?: string): KeyInfo {
    checkKeyName(name);
    const p = this.paths(name);
    const secret = pemToSecret(readFileSync(p.priv, 'utf8'), passphrase);
    try {
      unlinkSync(p.pub);
    } catch {
      /* none */
    }
    writeNewFileAtomic(p.pub, secretToPem(secret).pub, 0o644);
    return this.info(name);
  }

  /**
   * Key files that cannot be used, and why: those list() leaves out, and unencrypted keys whose
   * private key file is damaged or does not match the public key file (list() shows those from
   * the public key, but nothing can be spent from them). Encrypted private keys are not checked:
   * that needs the passphrase.
   */
  problems(): { name: string; problem: string }[] {
    const out: { name: string; problem: string }[] = [];
    for (const name of this.names()) {
      let info: KeyInfo;
      try {
        info = this.info(name);
      } catch (e) {
        out.push({ name, problem: (e as Error).message });
        continue;
      }
      if (info.encrypted) continue;
      try {
        const secret = pemToSecret(readFileSync(this.paths(name).priv, 'utf8'));
        if (!equalBytes(hash160(publicKeyOf(secret)), info.pubkeyHash))
          out.push({ name, problem: `${name}.pem and ${name}.pub.pem hold different keys` });
      } catch (e) {
        out.push({
          name,
          problem: `damaged (${(e as Error).message}): the address shown comes from ${name}.pub.pem, but nothing can be spent from it`,
        });
      }
    }
    return out;
  }

  /** The secret key; passphrase needed for encrypted keys. */
  secret(name: string, passphrase?: string): Uint8Array {
    const info = this.info(name);
    const pem = readFileSync(this.paths(name).priv, 'utf8');
    if (info.encrypted && passphrase === undefined) throw new KeyError(`key "${name}" is encrypted: a passphrase is needed`);
    return pemToSecret(pem, info.encrypted ? passphrase : undefined);
  }

  names(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.pem') && !f.endsWith('.pub.pem'))
      .map((f) => f.slice(0, -4))
      .filter((n) => KEY_NAME_RE.test(n))
      .sort();
  }

  list(): KeyInfo[] {
    const out: KeyInfo[] = [];
    for (const n of this.names()) {
      try {
        out.push(this.info(n));
      } catch {
        /* unreadable file: skipped, reported by `info` when named */
      }
    }
    return out;
  }

  address(name: string, version: number): string {
    return encodeAddress(this.info(name).pubkeyHash, version);
  }
}
