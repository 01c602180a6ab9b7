// The tamper lesson (after Anders Brownworth's blockchain demo, on real Bitcoin bytes): open a block
// in edit mode, change an output's value; the page recomputes in the browser, with the same
// SHA-256 the node uses (@noble/hashes, served by the explorer itself), the transaction's txid, the
// Merkle root, the header hash, and shows which checks now fail: the header's Merkle root, proof of
// work, and the next block's link to this one. The student then mines it again by trying nonces
// (the hash rate shown), and asks the node for its own verdict (POST /api/mvb/validate-block, which
// checks and never connects: Core's reason codes).
import { sha256 } from '/vendor/noble-hashes/sha2.js';

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const sha256d = (b) => sha256(sha256(b));
/** Display order: hashes are stored byte-reversed (Bitcoin's convention). */
const display = (b) => hex(Uint8Array.from(b).reverse());
const COIN = 100000000n;

/** Reads a compact size at r.at. */
function compactSize(bytes, r) {
  const first = bytes[r.at++];
  if (first < 0xfd) return first;
  const n = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  let v = 0;
  for (let i = 0; i < n; i++) v += bytes[r.at++] * 2 ** (8 * i);
  return v;
}

/** The block's transactions as byte ranges, with where each output's 8-byte value sits. */
export function parseBlock(bytes) {
  const r = { at: 80 };
  const count = compactSize(bytes, r);
  const txs = [];
  for (let t = 0; t < count; t++) {
    const start = r.at;
    r.at += 4;
    const inputs = compactSize(bytes, r);
    for (let i = 0; i < inputs; i++) {
      r.at += 36;
      // (Read the length first: `r.at += compactSize(...)` would add to the position before the read.)
      const scriptLength = compactSize(bytes, r);
      r.at += scriptLength + 4;
    }
    const outs = [];
    const outputs = compactSize(bytes, r);
    for (let o = 0; o < outputs; o++) {
      outs.push(r.at);
      r.at += 8;
      const scriptLength = compactSize(bytes, r);
      r.at += scriptLength;
    }
    r.at += 4;
    txs.push({ start, end: r.at, valueAt: outs });
  }
  return txs;
}

function readValue(bytes, at) {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
  return v;
}

function writeValue(bytes, at, v) {
  for (let i = 0; i < 8; i++) bytes[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** Bitcoin's Merkle root of txids (internal order), the last one paired with itself on odd levels. */
export function merkleRoot(ids) {
  let level = ids;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      const pair = new Uint8Array(64);
      pair.set(level[i]);
      pair.set(level[i + 1] ?? level[i], 32);
      next.push(sha256d(pair));
    }
    level = next;
  }
  return level[0];
}

function target(header) {
  const bits = header[72] | (header[73] << 8) | (header[74] << 16) | (header[75] << 24);
  const exp = bits >>> 24;
  const mant = BigInt(bits & 0x7fffff);
  return exp <= 3 ? mant >> BigInt(8 * (3 - exp)) : mant << BigInt(8 * (exp - 3));
}

const asNumber = (hash) => BigInt('0x' + display(hash));

/** The state of an edited block: its bytes, and every figure the page shows. */
function recompute(s) {
  const ids = s.txs.map((t) => sha256d(s.bytes.subarray(t.start, t.end)));
  const root = merkleRoot(ids);
  if (s.fixRoot) s.bytes.set(root, 36);
  const header = s.bytes.subarray(0, 80);
  const hash = sha256d(header);
  return {
    txids: ids.map(display),
    root: display(root),
    headerRoot: display(header.subarray(36, 68)),
    hash: display(hash),
    powOk: asNumber(hash) <= target(header),
    rootOk: hex(header.subarray(36, 68)) === hex(root),
    linkOk: s.next === null || display(hash) === s.originalHash,
  };
}

const check = (ok, yes, no) => `<li class="${ok ? 'ok' : 'bad'}" data-ok="${ok}">${ok ? '✓' : '✗'} ${ok ? yes : no}</li>`;

function draw(s, root, esc) {
  const f = recompute(s);
  const out = s.txs
    .map((t, k) =>
      t.valueAt
        .map(
          (at, o) =>
            `<label>tx ${k} output ${o}: <input class="value" data-at="${at}" inputmode="decimal" value="${esc(fmt(readValue(s.bytes, at)))}"> coins</label>`,
        )
        .join(' '),
    )
    .join('<br>');
  root.innerHTML = `
    <p>${out}</p>
    <p><label><input type="checkbox" id="fix-root" ${s.fixRoot ? 'checked' : ''}> put the new Merkle root in the header</label></p>
    <table class="tamper">
      <tr><td>txids</td><td class="mono hash" id="t-txids">${f.txids.map(esc).join('<br>')}</td></tr>
      <tr><td>Merkle root of the transactions</td><td class="mono hash" id="t-root">${esc(f.root)}</td></tr>
      <tr><td>Merkle root in the header</td><td class="mono hash" id="t-header-root">${esc(f.headerRoot)}</td></tr>
      <tr><td>header hash</td><td class="mono hash" id="t-hash">${esc(f.hash)}</td></tr>
      <tr><td>nonce</td><td class="mono" id="t-nonce">${nonceOf(s.bytes)}</td></tr>
    </table>
    <ul class="checks" id="t-checks">
      ${check(f.rootOk, 'the header commits to these transactions', 'the header’s Merkle root is not these transactions’ (bad-txnmrklroot)')}
      ${check(f.powOk, 'proof of work: the hash is at most the target', 'proof of work fails: the hash is above the target (high-hash)')}
      ${check(f.linkOk, s.next ? 'the next block still points here' : 'no next block yet', `block ${s.height + 1} points to ${s.originalHash.slice(0, 16)}…, not to this hash: the chain is broken here`)}
    </ul>
    <p><button id="t-mine" type="button">Mine it again (try nonces)</button> <span id="t-rate" class="muted"></span>
       <button id="t-ask" type="button">Ask the node</button> <span id="t-verdict"></span></p>`;
}

function fmt(v) {
  const s = v.toString().padStart(9, '0');
  return `${s.slice(0, -8)}.${s.slice(-8)}`.replace(/\.?0+$/, '') || '0';
}

function parseCoinsText(text) {
  const m = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(text.trim());
  return m ? BigInt(m[1]) * COIN + BigInt((m[2] ?? '').padEnd(8, '0')) : undefined;
}

const nonceOf = (b) => (b[76] | (b[77] << 8) | (b[78] << 16) | (b[79] << 24)) >>> 0;

/** Tries nonces in slices (the page stays live), showing the rate; resolves when one works or after 2^32. */
async function mine(s, onRate) {
  const h = s.bytes.subarray(0, 80);
  const t = target(h);
  const t0 = performance.now();
  for (let n = 0, tried = 0; n < 2 ** 32;) {
    const sliceEnd = Math.min(n + 20000, 2 ** 32);
    for (; n < sliceEnd; n++, tried++) {
      h[76] = n & 0xff;
      h[77] = (n >>> 8) & 0xff;
      h[78] = (n >>> 16) & 0xff;
      h[79] = (n >>> 24) & 0xff;
      if (asNumber(sha256d(h)) <= t) return onRate(tried, performance.now() - t0);
    }
    onRate(tried, performance.now() - t0);
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** The tamper page for a block: fetched raw, edited in memory, never sent anywhere but to the node's verdict. */
export async function tamperPage(hash, view, esc) {
  const [raw, info] = await Promise.all([
    fetch(`/api/block/${hash}/raw`).then((r) => r.arrayBuffer()),
    fetch(`/api/mvb/block/${hash}`).then((r) => r.json()),
  ]);
  const s = {
    bytes: new Uint8Array(raw),
    txs: [],
    fixRoot: true,
    originalHash: hash,
    height: info.block.height,
    next: info.status.next_best ?? null,
  };
  s.txs = parseBlock(s.bytes);
  view.innerHTML = `<h1>Tamper with block ${s.height}</h1>
    <p>Change a value: the txid, the Merkle root and the header hash change at once, and the checks below say what breaks.
    <a href="#/block/${esc(hash)}">back to the block</a></p><div id="tamper"></div>`;
  const root = document.getElementById('tamper');
  const redraw = () => draw(s, root, esc);
  root.addEventListener('change', (e) => {
    const el = e.target;
    if (el.id === 'fix-root') s.fixRoot = el.checked;
    if (el.classList.contains('value')) {
      const v = parseCoinsText(el.value);
      if (v !== undefined) writeValue(s.bytes, Number(el.dataset.at), v);
    }
    redraw();
  });
  root.addEventListener('click', async (e) => {
    if (e.target.id === 't-mine') {
      await mine(s, (tried, ms) => {
        const rate = document.getElementById('t-rate');
        if (rate)
          rate.textContent = `${tried.toLocaleString('en-US')} nonces tried, ${Math.round(tried / Math.max(ms / 1000, 0.001)).toLocaleString('en-US')} hashes/s`;
      });
      const keep = document.getElementById('t-rate')?.textContent ?? '';
      redraw();
      document.getElementById('t-rate').textContent = keep;
    }
    if (e.target.id === 't-ask') {
      const r = await fetch('/api/mvb/validate-block', { method: 'POST', body: hex(s.bytes) });
      const v = r.ok ? await r.json() : { valid: false, reason: (await r.text()).trim() };
      document.getElementById('t-verdict').innerHTML = v.valid
        ? '<b class="ok" id="t-node">the node: valid</b>'
        : `<b class="bad" id="t-node">the node: ${esc(v.reason)}</b> <span class="muted">${esc(v.detail ?? '')}</span>`;
    }
  });
  redraw();
}
