/**
 * mvb's consensus core: Bitcoin's formats byte for byte, mvb's consensus rules and the chain
 * state, with no I/O, no clock and no module state. See docs/GLOSSARY.md for where each Bitcoin
 * concept lives.
 *
 * Encoding: decodeHeader/encodeHeader/headerHash, decodeBlock/encodeBlock, decodeTx/encodeTx/txid
 * (hashes are Uint8Array in internal byte order; hashToHex gives the display order).
 * Proof of work: bitsToTarget, targetToBits, nextBits, blockWork.
 * Signatures: legacySighash, verifyP2pkhInput, signDer, strict-DER helpers.
 * Addresses: encodeAddress, decodeAddress.
 * Rules: checkTxSanity, checkBlockSanity, checkHeaderContext, checkBlockContext, checkTxInputs,
 * checkTxScripts; failures are ValidationError with Bitcoin Core's reason code.
 * State: Chain over a ChainStore (MemoryChainStore here).
 */
export * from './bytes.js';
export * from './hash.js';
export * from './tx.js';
export * from './header.js';
export * from './block.js';
export * from './merkle.js';
export * from './pow.js';
export * from './script.js';
export * from './address.js';
export * from './sighash.js';
export * from './ecdsa.js';
export * from './params.js';
export * from './outpoint.js';
export * from './validation.js';
export * from './chain.js';
export * from './builder.js';
export * from './policy.js';
export * from './amount.js';
export * from './coinbase-tag.js';
export * from './hashcash.js';
export * from './siphash.js';
export * from './compact-block.js';
export * from './compact-rebuild.js';
export * from './block-txn.js';
