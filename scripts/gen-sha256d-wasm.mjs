#!/usr/bin/env node
// Generates src/shared/node/mining/sha256d-simd-wasm.ts: a WebAssembly SIMD (v128) mining kernel
// that hashes four nonces per instruction (one per 32-bit lane). It is written here as SHA-256
// (FIPS 180-4 section 6.2.2) over symbolic values and compiled straight to WebAssembly binary
// (WebAssembly Core Specification 2.0, section 5 "Binary format"; SIMD opcodes from section 5.4.8),
// so the repository holds the source of every byte and needs no assembler to build.
//
// The symbolic values do the precomputation: a value is a compile-time constant (folded here), a
// job constant (depends only on the header's first 76 bytes: emitted once per call, before the
// loop) or per nonce (emitted in the loop). So the midstate's rounds 0..2 of the second block,
// the schedule words that do not depend on the nonce and every padding word fall out of the loop
// by themselves; sums are reassociated so their job-constant terms are added before the loop.
// Dead values are dropped: the second hash stops after round 60, whose new `e` becomes the
// digest's last word, the one compared with the target first (as in sha256d-rounds.ts).
//
// Run: node scripts/gen-sha256d-wasm.mjs > src/shared/node/mining/sha256d-simd-wasm.ts
// (test/mining-simd.test.ts checks that the checked-in module is this script's output.)

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Memory layout of the kernel's inputs (little-endian i32 words), written by the host per scan. */
export const LAYOUT = { mid: 0, tail: 32, targetTop: 44 };

// ---- symbolic values ------------------------------------------------------------------------
// A node is { id, op, args, imm, stage } with stage 0 = constant, 1 = job constant, 2 = per nonce.
const nodes = [];
const memo = new Map();
const FOLD = {
  add: (x, y) => (x + y) >>> 0,
  xor: (x, y) => (x ^ y) >>> 0,
  and: (x, y) => (x & y) >>> 0,
  or: (x, y) => (x | y) >>> 0,
  shl: (x, n) => (x << n) >>> 0,
  shr: (x, n) => x >>> n,
};

function node(op, args, imm, stage) {
  const key = `${op}:${imm ?? ''}:${args.map((a) => a.id).join(',')}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const depth = stage === 2 ? 1 + Math.max(0, ...args.map((a) => a.depth)) : 0;
  const n = { id: nodes.length, op, args, imm, stage, depth, uses: 0, local: -1 };
  nodes.push(n);
  memo.set(key, n);
  return n;
}
const konst = (v) => node('const', [], v >>> 0, 0);
const input = (offset) => node('load', [], offset, 1);
const stageOf = (args) => Math.max(1, ...args.map((a) => a.stage));

function binary(op, x, y) {
  if (x.stage === 0 && y.stage === 0) return konst(FOLD[op](x.imm, y.imm));
  if (op === 'and' && ((x.stage === 0 && x.imm === 0) || (y.stage === 0 && y.imm === 0))) return konst(0);
  for (const [p, q] of [
    [x, y],
    [y, x],
  ])
    if (p.stage === 0 && p.imm === 0 && op !== 'and') return q;
  const [a, b] = x.id <= y.id ? [x, y] : [y, x]; // all four are commutative: one node per pair
  return node(op, [a, b], undefined, stageOf([a, b]));
}
function shift(op, x, n) {
  if (x.stage === 0) return konst(FOLD[op](x.imm, n));
  return node(op, [x], n, x.stage);
}
/**
 * An n-ary commutative, associative operation: constants folded and job constants combined first
 * (before the loop), then the per-nonce terms combined shallowest first, so the dependency chain
 * through a round stays short (a Huffman tree on the critical-path depth).
 */
function nary(op, terms) {
  const fixed = terms.filter((t) => t.stage < 2).sort((a, b) => a.stage - b.stage);
  const open = terms.filter((t) => t.stage === 2);
  if (fixed.length) open.push(fixed.reduce((acc, t) => binary(op, acc, t)));
  while (open.length > 1) {
    open.sort((a, b) => a.depth - b.depth || a.id - b.id);
    const [x, y] = open.splice(0, 2);
    open.push(binary(op, x, y));
  }
  return open[0];
}
const add = (...t) => nary('add', t);
const xor = (...t) => nary('xor', t);
const ror = (x, n) => [shift('shr', x, n), shift('shl', x, 32 - n)];
const bigSigma0 = (x) => xor(...ror(x, 2), ...ror(x, 13), ...ror(x, 22));
const bigSigma1 = (x) => xor(...ror(x, 6), ...ror(x, 11), ...ror(x, 25));
const smallSigma0 = (x) => xor(...ror(x, 7), ...ror(x, 18), shift('shr', x, 3));
const smallSigma1 = (x) => xor(...ror(x, 17), ...ror(x, 19), shift('shr', x, 10));
const ch = (e, f, g) => xor(binary('and', xor(f, g), e), g);
// Maj(a,b,c) = b ^ ((a ^ b) & (b ^ c)): this round's a ^ b is the next round's b ^ c (memoised).
const maj = (a, b, c) => xor(b, binary('and', xor(a, b), xor(b, c)));

/** Runs rounds 0..last of a compression of 16 words from state s; returns the working variables. */
function compress(state, words, last = 63) {
  const w = [...words];
  for (let t = 16; t <= last; t++) w[t] = add(smallSigma1(w[t - 2]), w[t - 7], smallSigma0(w[t - 15]), w[t - 16]);
  let [a, b, c, d, e, f, g, h] = state;
  for (let t = 0; t <= last; t++) {
    const t1 = add(h, bigSigma1(e), ch(e, f, g), konst(K[t]), w[t]);
    const t2 = add(bigSigma0(a), maj(a, b, c));
    [h, g, f, e, d, c, b, a] = [g, f, e, add(d, t1), c, b, a, add(t1, t2)];
  }
  return [a, b, c, d, e, f, g, h];
}

/** Groups of 4 nonces per loop iteration. Two interleaved groups measured slower (x64 has 16 vector
 * registers; one group already spills), so one. */
export const WAYS = 1;
export const LANES = 4 * WAYS;

/** The dataflow of nonce group g: the top word of its 4 double hashes, compared with the target. */
function buildGroup(g) {
  const mid = Array.from({ length: 8 }, (_, i) => input(LAYOUT.mid + 4 * i));
  const tail = [0, 1, 2].map((i) => input(LAYOUT.tail + 4 * i));
  const nonce = node('nonce', [], g, 2); // the group's 4 nonces, byte-swapped to big-endian
  const block2 = [...tail, nonce, konst(0x80000000), ...Array(10).fill(konst(0)), konst(640)];
  const v = compress(mid, block2);
  const first = v.map((x, i) => add(mid[i], x));
  const block3 = [...first, konst(0x80000000), ...Array(6).fill(konst(0)), konst(256)];
  const v2 = compress(IV.map(konst), block3, 60);
  const top = add(v2[4], konst(IV[7])); // after round 60 `e` is what round 63 leaves in `h`
  const swapped = node('bswap', [top, top], undefined, 2);
  return node('le_u', [swapped, input(LAYOUT.targetTop)], undefined, 2);
}

// ---- WebAssembly binary encoding -------------------------------------------------------------
const u32 = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const s32 = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const vec = (items) => [...u32(items.length), ...items.flat()];
const name = (s) => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const section = (id, bytes) => [id, ...u32(bytes.length), ...bytes];
const simd = (op) => [0xfd, ...u32(op)];
const OP = {
  add: simd(0xae),
  xor: simd(0x51),
  and: simd(0x4e),
  or: simd(0x50),
  shl: simd(0xab),
  shr: simd(0xad),
  le_u: simd(0x3e),
  splat: simd(0x11),
  bitmask: simd(0xa4),
  const: simd(0x0c),
  shuffle: simd(0x0d),
};
const LOCAL_GET = 0x20,
  LOCAL_SET = 0x21,
  LOCAL_TEE = 0x22;
const PARAM_FROM = 0,
  PARAM_COUNT = 1,
  LOCAL_I = 2,
  LOCAL_MASK = 3,
  FIRST_V128 = 4;
const BSWAP_LANES = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
const splatConst = (v) => [...OP.const, ...[0, 1, 2, 3].flatMap(() => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])];

function countUses(roots) {
  const live = new Set();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop();
    n.uses++;
    if (live.has(n)) continue;
    live.add(n);
    stack.push(...n.args);
  }
  return live;
}

/** Bytes that leave node n's value on the operand stack: single-use values of its stage inline. */
function emitValue(n, stage, out) {
  if (n.local >= 0) return out.push(LOCAL_GET, ...u32(n.local));
  if (n.op === 'const') return out.push(...splatConst(n.imm));
  if (n.uses !== 1 || n.stage !== stage) throw new Error(`node ${n.id} used before it is computed`);
  emitNode(n, out);
}
function emitNode(n, out) {
  if (n.op === 'load') return out.push(0x41, ...s32(n.imm), 0x28, 2, 0, ...OP.splat);
  if (n.op === 'nonce') {
    // splat(from + i) + (0, 1, 2, 3), then each lane byte-swapped (SHA-256 reads words big-endian)
    out.push(LOCAL_GET, PARAM_FROM, LOCAL_GET, LOCAL_I, 0x6a, ...OP.splat);
    out.push(...OP.const, ...[0, 1, 2, 3].flatMap((i) => [4 * n.imm + i, 0, 0, 0]), ...OP.add);
    return out.push(LOCAL_TEE, ...u32(n.tmp), LOCAL_GET, ...u32(n.tmp), ...OP.shuffle, ...BSWAP_LANES);
  }
  for (const a of n.args) emitValue(a, n.stage, out);
  if (n.op === 'shl' || n.op === 'shr') out.push(0x41, ...s32(n.imm));
  out.push(...(n.op === 'bswap' ? [...OP.shuffle, ...BSWAP_LANES] : OP[n.op]));
}

/** Assigns locals to values used more than once (and to job constants), emits both regions. */
function emitFunction(roots) {
  const live = countUses(roots);
  const order = [...live].sort((a, b) => a.id - b.id);
  let locals = FIRST_V128;
  const regions = { 1: [], 2: [] };
  for (const n of order) {
    if (n.op === 'nonce') n.tmp = locals++;
    if (n.op === 'const' || (n.stage === 2 && n.uses === 1 && !roots.includes(n))) continue;
    emitNode(n, regions[n.stage]);
    n.local = locals++;
    regions[n.stage].push(LOCAL_SET, ...u32(n.local));
  }
  const loop = [...regions[2]];
  // mask = bitmask(group 0) | bitmask(group 1) << 4 | ...: bit k set when nonce from + i + k passes
  roots.forEach((r, g) => {
    loop.push(LOCAL_GET, ...u32(r.local), ...OP.bitmask);
    if (g > 0) loop.push(0x41, ...s32(4 * g), 0x74, 0x72);
  });
  loop.push(LOCAL_TEE, LOCAL_MASK, 0x04, 0x40, LOCAL_GET, LOCAL_I, LOCAL_GET, LOCAL_MASK, 0x68, 0x6a, 0x0f, 0x0b);
  loop.push(LOCAL_GET, LOCAL_I, 0x41, ...s32(LANES), 0x6a, LOCAL_SET, LOCAL_I, 0x0c, 0);
  const body = [
    ...vec([
      [...u32(2), 0x7f],
      [...u32(locals - FIRST_V128), 0x7b],
    ]),
    ...regions[1],
    0x02,
    0x40,
    0x03,
    0x40,
    LOCAL_GET,
    LOCAL_I,
    LOCAL_GET,
    PARAM_COUNT,
    0x4f,
    0x0d,
    1,
    ...loop,
    0x0b,
    0x0b,
    0x41,
    ...s32(-1),
    0x0b,
  ];
  return { body, locals: locals - FIRST_V128, live: live.size };
}

/**
 * The module: exports `memory` (one page; inputs at LAYOUT) and `scan(from, count) -> i32`, which
 * hashes nonces from, from+1, ... (count a multiple of LANES) and returns the offset of the first whose
 * top digest word, read as Core compares it, is <= the target's top word; -1 if none.
 */
export function buildModule() {
  nodes.length = 0;
  memo.clear();
  const roots = Array.from({ length: WAYS }, (_, g) => buildGroup(g));
  const { body, locals, live } = emitFunction(roots);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[0x7f], [0x7f]]), ...vec([[0x7f]])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('scan'), 0x00, 0],
        [...name('memory'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([[...u32(body.length), ...body]])),
  ];
  return { bytes: Uint8Array.from(bytes), locals, live };
}

export function moduleSource() {
  const { bytes, locals, live } = buildModule();
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}'`);
  return [
    '// GENERATED by scripts/gen-sha256d-wasm.mjs: do not edit by hand (the script is the source).',
    `// WebAssembly SIMD SHA-256d mining kernel: ${bytes.length} bytes, ${live} values, ${locals} v128 locals.`,
    '/* eslint-disable */',
    '',
    `/** Where the kernel reads its inputs (byte offsets of little-endian i32 words in its memory). */`,
    `export const KERNEL_LAYOUT = { mid: ${LAYOUT.mid}, tail: ${LAYOUT.tail}, targetTop: ${LAYOUT.targetTop} } as const;`,
    '',
    '/** Nonces per loop iteration: `scan` takes a count that is a multiple of this. */',
    `export const KERNEL_LANES = ${LANES};`,
    '',
    '/** The module, base64. */',
    'export const SHA256D_SIMD_WASM =',
    lines.join(' +\n') + ';',
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(moduleSource());
