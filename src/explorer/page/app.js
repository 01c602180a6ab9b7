// The mvb explorer page: plain JavaScript, no framework and no build step (the page is a few views
// over a JSON API; a framework would add a download, a build and a layer for students to read
// through, and nothing here needs one). Routes live in the URL hash (#/block/HASH, #/tx/TXID,
// #/address/ADDR, #/tamper/HASH: the tamper lesson, tamper.js); live changes arrive as Server-Sent
// Events from /api/mvb/events.
import { tamperPage } from './tamper.js';

const $ = (sel, root = document) => root.querySelector(sel);
const view = $('#view');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const short = (h, n = 10) => (h && h.length > n ? `${h.slice(0, n)}…` : (h ?? ''));
/** Base units as coins, by string arithmetic (amounts are integers; no float rounding). */
function coins(v) {
  const neg = v < 0;
  const s = String(Math.abs(v)).padStart(9, '0');
  return `${neg ? '-' : ''}${s.slice(0, -8)}.${s.slice(-8)}`;
}
const when = (t) => new Date(t * 1000).toLocaleTimeString();

async function api(path) {
  const r = await fetch(`/api${path}`);
  const text = await r.text();
  if (!r.ok) throw new Error(`${r.status}: ${text.trim()}`);
  return r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
}

// ---------------------------------------------------------------- routing

const routes = [
  [/^#?\/?$/, home],
  [/^#\/block\/([0-9a-f]{64})$/, blockPage],
  [/^#\/tamper\/([0-9a-f]{64})$/, (hash) => tamperPage(hash, view, esc)],
  [/^#\/tx\/([0-9a-f]{64})(?:\/in\/([0-9a-f]{64}))?$/, txPage],
  [/^#\/address\/([1-9A-HJ-NP-Za-km-z]{25,40})$/, addressPage],
];
let current = { name: '', arg: '' };

async function render() {
  const hash = location.hash || '#/';
  for (const [re, fn] of routes) {
    const m = re.exec(hash);
    if (!m) continue;
    current = { name: fn.name, arg: m[1] ?? '' };
    try {
      await fn(m[1], m[2]);
    } catch (e) {
      view.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
    return;
  }
  view.innerHTML = '<p class="error">No such page.</p>';
}
window.addEventListener('hashchange', async () => {
  $('#field-info').hidden = true;
  await render();
  // The network's name in the header on every page, deep links included (home() refreshes it).
  api('/mvb/summary').then(
    (sum) => ($('#network').textContent = `network ${sum.network}`),
    () => {},
  );
  // A new page starts at its top, its title below the sticky header (focus alone would scroll the
  // view's first line under the header); focus then moves without scrolling again.
  window.scrollTo(0, 0);
  view.focus({ preventScroll: true });
});

// ---------------------------------------------------------------- home: chain, mempool, miners

let lastTip = '';
async function home() {
  // A redraw keeps keyboard focus on the block it was on.
  const focusedHash = document.activeElement?.closest?.('.block-node')?.dataset.hash;
  const [sum, tree, mem, miners, reorgs, board] = await Promise.all([
    api('/mvb/summary'),
    api('/mvb/tree?last=24'),
    api('/mvb/mempool/blocks'),
    api('/mvb/miners'),
    api('/mvb/reorgs?limit=5'),
    api('/mvb/leaderboard?last=1000'),
  ]);
  const room = sum.classroom ? await api('/mvb/classroom').catch(() => null) : null;
  $('#network').textContent = `network ${sum.network}`;
  view.innerHTML = `${room ? joinBox(room) : ''}
    <div class="stats">
      <div class="stat">height<b id="tip-height">${sum.height}</b></div>
      <div class="stat">miners heard<b id="miner-count">${miners.filter((m) => m.active).length}</b></div>
      <div class="stat">stale blocks<b id="stale-count">${sum.staleBlocks}</b></div>
      <div class="stat">reorganisations<b id="reorg-count">${sum.reorgs}</b></div>
      <div class="stat">mempool<b id="mempool-count">${sum.mempool.count} tx</b></div>
    </div>
    <h2>The chain, live <span class="muted">(grey, dashed: stale blocks; ▲ a miner’s tip)</span></h2>
    <div id="chain-svg">${chainSvg(tree)}</div>
    <h2>Mempool: the next blocks as a miner would fill them</h2>
    <div id="mempool" class="projected">${mem.length ? mem.map(projected).join('') : '<p class="muted">empty: every transaction heard is in a block</p>'}</div>
    <h2>Who mined the last ${board.blocks} block(s) <span class="muted">(names from the coinbase tags, as pools tag theirs)</span></h2>
    ${leaderboardTable(board)}
    <h2>Miners heard</h2>
    <table id="miners"><tr><th>miner</th><th>heard from</th><th class="num">height</th><th>tip</th><th class="num">mempool</th><th>last seen</th></tr>
      ${miners.map((m) => `<tr><td>${m.name ? `${swatch(m.name)} ${esc(m.name)}` : '<span class="muted">unnamed</span>'}</td><td class="mono">${esc(m.key)}</td><td class="num">${m.height}</td><td class="mono"><a href="#/block/${esc(m.tip)}">${esc(short(m.tip, 16))}</a></td><td class="num">${m.mempoolSize}</td><td>${m.active ? 'now' : esc(new Date(m.lastSeenMs).toLocaleTimeString())}</td></tr>`).join('')}
    </table>
    <h2>Reorganisations</h2>
    <div id="reorgs">${reorgs.length ? reorgs.map(reorgLine).join('') : '<p class="muted">none yet</p>'}</div>`;
  lastTip = tree.tip;
  const box = $('#chain-svg');
  box.scrollLeft = box.scrollWidth;
  if (focusedHash) document.querySelector(`.block-node[data-hash="${focusedHash}"]`)?.focus();
}

/** A class's join line, large enough to read from the back of the room, and the faucet's state. */
function joinBox(room) {
  const f = room.faucet;
  const faucet = f
    ? `<p>Faucet: ${esc(f.amount.replace(/\.?0+$/, ''))} coins each, ${esc(f.spendable.replace(/\.?0+$/, '') || '0')} coins ready (${f.grantsReady} grant(s)), ${f.grantsLastHour} of ${f.maxPerHour} given this hour.</p>`
    : '';
  return `<section id="join" class="card join"><h2>Join the class</h2><p class="join-line mono" id="join-line">${esc(room.join)}</p>${faucet}</section>`;
}

/** A colour per miner (its name, else its address), the same on every page and every laptop. */
function minerColour(key) {
  let h = 0x811c9dc5;
  for (const ch of String(key)) h = Math.imul(h ^ ch.codePointAt(0), 0x01000193) >>> 0;
  return `hsl(${h % 360}, 70%, 45%)`;
}

const minerLabel = (name, address) => name ?? (address ? short(address, 10) : 'unknown');
const swatch = (key) =>
  `<svg class="swatch" width="14" height="14" aria-hidden="true"><rect width="14" height="14" rx="3" fill="${minerColour(key)}"/></svg>`;

function leaderboardTable(board) {
  if (!board.rows.length) return '<p class="muted">no blocks mined yet</p>';
  const rows = board.rows
    .map(
      (r) =>
        `<tr><td>${swatch(r.miner)} ${r.name ? `<b>${esc(r.name)}</b>` : r.address ? `<a class="mono" href="#/address/${esc(r.address)}">${esc(short(r.address, 14))}</a>` : esc(r.miner)}</td><td class="num">${r.blocks}</td><td class="num">${(r.share * 100).toFixed(1)} %</td><td class="num">${r.stale}</td></tr>`,
    )
    .join('');
  return `<table id="leaderboard"><tr><th>miner</th><th class="num">blocks on the best chain</th><th class="num">share</th><th class="num">stale blocks</th></tr>${rows}</table>`;
}

function reorgLine(r) {
  const list = (xs) => xs.map((b) => `<a class="mono" href="#/block/${esc(b.hash)}">${b.height}:${esc(short(b.hash, 8))}</a>`).join(' ');
  return `<div class="card">${esc(new Date(r.at).toLocaleTimeString())}: fork at height ${r.forkHeight}; left the best chain ${list(r.disconnected)}; came ${list(r.connected)}</div>`;
}

function projected(b, i) {
  const rows = b.txs
    .map(
      (t) =>
        `<a class="mempool-tx mono" data-txid="${esc(t.txid)}" href="#/tx/${esc(t.txid)}">${esc(short(t.txid, 12))} · ${t.feeRate.toFixed(1)}/B · ${t.size} B</a>`,
    )
    .join('');
  return `<div class="projected-block"><h3>${i === 0 ? 'next block' : `block +${i + 1}`}</h3>
    <div class="muted">${b.txCount} tx · ${b.bytes} bytes · fees ${coins(b.fees)} · ${b.minFeeRate.toFixed(1)}–${b.maxFeeRate.toFixed(1)} per byte</div>${rows}${b.txCount > b.txs.length ? `<div class="muted">… ${b.txCount - b.txs.length} more</div>` : ''}</div>`;
}

/** Heights left to right; the best chain on the top row, each stale branch on a row below. */
function chainSvg(tree) {
  const W = 86,
    H = 64,
    GAP = 30,
    ROW = 80;
  const byHash = new Map(tree.blocks.map((b) => [b.hash, b]));
  const rowOf = new Map();
  let rows = 1;
  const sorted = [...tree.blocks].sort((a, b) => a.height - b.height);
  for (const b of sorted) {
    if (b.active) rowOf.set(b.hash, 0);
    else {
      const p = byHash.get(b.prev);
      const parentRow = p && !p.active ? rowOf.get(p.hash) : undefined;
      const taken = parentRow !== undefined && sorted.some((o) => o !== b && o.prev === b.prev && rowOf.get(o.hash) === parentRow);
      rowOf.set(b.hash, parentRow !== undefined && !taken ? parentRow : rows++);
    }
  }
  const x = (b) => 10 + (b.height - tree.from) * (W + GAP);
  const y = (b) => 22 + rowOf.get(b.hash) * ROW;
  let edges = '',
    nodes = '';
  for (const b of sorted) {
    const p = byHash.get(b.prev);
    if (p)
      edges += `<path class="edge${b.active ? '' : ' stale'}" d="M${x(p) + W},${y(p) + H / 2} C${x(p) + W + GAP / 2},${y(p) + H / 2} ${x(b) - GAP / 2},${y(b) + H / 2} ${x(b)},${y(b) + H / 2}"/>`;
    const cls = `block-node${b.active ? '' : ' stale'}${b.hash === tree.tip ? ' tip' : ''}${b.hash === freshHash ? ' fresh' : ''}`;
    const tips = b.tips.length
      ? `<text class="miner-tip" x="${x(b)}" y="${y(b) - 5}">▲ ${esc(b.tips.length > 1 ? `${b.tips.length} miners` : b.tips[0])}</text>`
      : '';
    const who = b.miner || b.minerName ? minerLabel(b.minerName, b.miner) : '';
    const whoKey = b.minerName ?? b.miner;
    nodes += `<a href="#/block/${esc(b.hash)}" class="${cls}" data-height="${b.height}" data-hash="${esc(b.hash)}" data-active="${b.active}" data-miner="${esc(b.minerName ?? '')}"><title>block ${b.height} ${esc(b.hash)}${who ? ` mined by ${esc(b.minerName ? `${b.minerName} (${b.miner})` : b.miner)}` : ''}</title>
      <rect x="${x(b)}" y="${y(b)}" width="${W}" height="${H}" rx="5"/><text x="${x(b) + 6}" y="${y(b) + 18}" font-size="16" font-weight="700">${b.height}</text>
      <text x="${x(b) + 6}" y="${y(b) + 36}" font-size="13" font-family="monospace">${esc(short(b.hash, 8))}${b.txCount > 1 ? ` +${b.txCount - 1}` : ''}</text>
      ${who ? `<rect class="miner-band" x="${x(b) + 1}" y="${y(b) + 42}" width="${W - 2}" height="${H - 43}" fill="${minerColour(whoKey)}"/><text class="miner-name" x="${x(b) + 6}" y="${y(b) + 57}" font-size="13" fill="#fff">${esc(short(who, b.minerName ? 11 : 8))}</text>` : ''}</a>${tips}`;
  }
  const width = 20 + (tree.height - tree.from + 1) * (W + GAP);
  const height = 30 + rows * ROW;
  // Large type scales the drawing too (its units are fixed, so CSS font size alone would not).
  const k = document.body.classList.contains('large') ? 1.6 : 1;
  return `<svg viewBox="0 0 ${width} ${height}" width="${width * k}" height="${height * k}" role="img" aria-label="block tree from height ${tree.from} to ${tree.height}">${edges}${nodes}</svg>`;
}

// ---------------------------------------------------------------- a block

async function blockPage(hash) {
  const b = await api(`/mvb/block/${hash}`);
  const blk = b.block;
  const fieldRows = b.fields
    .map(
      (f) =>
        `<tr data-field="${esc(f.name)}"><td><b>${esc(f.name)}</b></td><td class="mono">${f.start}–${f.end - 1}</td><td class="mono hash">${esc(b.headerHex.slice(f.start * 2, f.end * 2))}</td><td>${esc(f.meaning)}<br><span class="mono hash">${esc(f.value)}</span></td></tr>`,
    )
    .join('');
  view.innerHTML = `
    <h1>Block ${blk.height} ${b.status.in_best_chain ? '<span class="badge ok">best chain</span>' : '<span class="badge warn">stale: not in the best chain</span>'}</h1>
    <p class="mono hash">${esc(blk.id)}</p>
    <p>${blk.tx_count} transaction(s), ${blk.size} bytes, mined ${esc(new Date(blk.timestamp * 1000).toLocaleString())}${b.miner ? ` by ${b.minerName ? `${swatch(b.minerName)} <b id="block-miner-name">${esc(b.minerName)}</b> (<a href="#/address/${esc(b.miner)}">${esc(b.miner)}</a>)` : `<a href="#/address/${esc(b.miner)}">${esc(b.miner)}</a>`}` : ''}, ${b.confirmations} confirmation(s).${b.coinbaseText ? ` Coinbase tag: <span class="mono">${esc(b.coinbaseText)}</span>.` : ''}
      ${blk.previousblockhash ? `<a href="#/block/${esc(blk.previousblockhash)}">← previous</a>` : ''} ${b.status.next_best ? `<a href="#/block/${esc(b.status.next_best)}">next →</a>` : ''} <a id="tamper-link" href="#/tamper/${esc(blk.id)}">tamper with this block (lesson)</a></p>
    <h2>The 80-byte header (HASH256 of these bytes is the block hash)</h2>
    ${hexBox(b.headerHex, b.fields)}
    <table id="header-fields"><tr><th>field</th><th>bytes</th><th>hex</th><th>meaning and value</th></tr>${fieldRows}</table>
    <h2>Proof of work: the hash must be at most the target</h2>
    <div class="pow">${powSvg(b.pow)}</div>
    <h2>Merkle tree: txids up to the root in the header</h2>
    <div id="merkle" class="merkle">${b.merkle ? merkleHtml(b.merkle) : '<p class="muted">too many transactions to draw</p>'}</div>
    <h2>Transactions</h2>
    <table id="block-txs"><tr><th>#</th><th>txid</th><th class="num">bytes</th><th class="num">outputs total</th></tr>
      ${b.txs.map((t, i) => `<tr><td>${i}${t.coinbase ? ' coinbase' : ''}</td><td class="mono"><a href="#/tx/${esc(t.txid)}${b.status.in_best_chain ? '' : `/in/${esc(blk.id)}`}">${esc(t.txid)}</a></td><td class="num">${t.size}</td><td class="num">${coins(t.value)}</td></tr>`).join('')}
    </table>`;
  wireHex();
}

/** Hash, target and the network's limit on one log2 axis (0 to 256 bits). */
function powSvg(p) {
  const W = 900,
    X = (v) => 20 + (v / 256) * (W - 40);
  const anchor = (v) => (v > 200 ? 'end' : v < 56 ? 'start' : 'middle');
  const mark = (v, label, cls, dy) =>
    `<line x1="${X(v)}" x2="${X(v)}" y1="20" y2="60" stroke="${cls}" stroke-width="3"/><text x="${X(v)}" y="${dy}" text-anchor="${anchor(v)}" fill="${cls}">${esc(label)}</text>`;
  const ticks = [0, 64, 128, 192, 256]
    .map(
      (t) =>
        `<line x1="${X(t)}" x2="${X(t)}" y1="36" y2="44" stroke="#999"/><text x="${X(t)}" y="95" text-anchor="${anchor(t)}" fill="#666">2^${t}</text>`,
    )
    .join('');
  return `<svg id="pow-axis" viewBox="0 0 ${W} 100" width="100%" role="img" aria-label="hash 2^${p.log2Hash.toFixed(1)} below target 2^${p.log2Target.toFixed(1)}">
    <rect x="${X(0)}" y="30" width="${X(p.log2Target) - X(0)}" height="20" fill="#dcfce7"/><line x1="${X(0)}" x2="${X(256)}" y1="40" y2="40" stroke="#999"/>${ticks}
    ${mark(p.log2Hash, `hash ≈ 2^${p.log2Hash.toFixed(2)}`, '#1d7a36', 14)}${mark(p.log2Target, `target ≈ 2^${p.log2Target.toFixed(2)}`, '#0b5fa5', 76)}${p.log2PowLimit - p.log2Target > 1 ? mark(p.log2PowLimit, 'limit', '#a35a00', Math.abs(X(p.log2PowLimit) - X(p.log2Hash)) < 160 ? 76 : 14) : ''}</svg>
    <p class="mono hash">hash&nbsp;&nbsp; ${esc(p.hash)}<br>target ${esc(p.target)}</p>
    <p id="pow-odds">One try in <b>${esc(oneIn(p.target))}</b> gives a hash at most the target: the expected work for this block.</p>
    <p class="muted">Log scale: each tick is 2^32 (about 4 billion) times the one before, so the green band, the hashes at most the target, looks wide but holds only that one in N.</p>`;
}

/** The odds of one hash meeting the target, 2^256 / (target + 1) (Core's GetBlockProof), as "N" with digits grouped, or a power of ten past 10^15. */
function oneIn(targetHex) {
  const n = 2n ** 256n / (BigInt(`0x${targetHex}`) + 1n);
  if (n < 10n ** 15n) return n.toLocaleString('en-US');
  const digits = n.toString();
  return `${digits[0]}.${digits.slice(1, 3)} × 10^${digits.length - 1}`;
}

function merkleHtml(levels) {
  const out = [];
  for (let i = levels.length - 1; i >= 0; i--) {
    const cls = i === levels.length - 1 ? 'root' : i === 0 ? 'leaf' : '';
    out.push(
      `<div class="level" data-level="${i}">${levels[i].map((h, k) => `<span class="mnode ${cls}" title="${esc(h)}">${i === 0 ? `tx ${k}: ` : ''}${esc(short(h, 8))}</span>`).join('')}</div>`,
    );
  }
  return `<p class="muted">Each node is HASH256 of the two below it (an odd last one is paired with itself); the top is the header’s merkleRoot.</p>${out.join('')}`;
}

// ---------------------------------------------------------------- a transaction

async function txPage(id, staleBlock) {
  const a = await api(`/mvb/tx/${id}${staleBlock ? `?block=${staleBlock}` : ''}`);
  const t = a.tx;
  const status = t.status.confirmed
    ? `<span class="badge ok">${a.confirmations} confirmation(s), block <a href="#/block/${esc(t.status.block_hash)}">${t.status.block_height}</a></span>`
    : a.staleBlock
      ? `<span class="badge warn">in stale block <a href="#/block/${esc(a.staleBlock.hash)}">${a.staleBlock.height}</a> only: not confirmed${a.inMempool ? ', back in the mempool' : ''}</span>`
      : '<span class="badge warn">unconfirmed: in the mempool</span>';
  const ins = t.vin
    .map(
      (i, k) =>
        `<div class="card">#${k} ${i.is_coinbase ? 'coinbase (new coins)' : `<a class="mono" href="#/tx/${esc(i.txid)}">${esc(short(i.txid, 12))}</a>:${i.vout}`}${i.prevout ? `<br>${addrLink(i.prevout.scriptpubkey_address)} <b>${coins(i.prevout.value)}</b>` : ''}</div>`,
    )
    .join('');
  const outs = t.vout.map((o, k) => `<div class="card">#${k} ${addrLink(o.scriptpubkey_address)} <b>${coins(o.value)}</b></div>`).join('');
  const pre = a.sighash
    .map((s, k) =>
      s
        ? `<h3>input #${k}: hash type 0x${s.hashType.toString(16).padStart(2, '0')}</h3><pre class="preimage">${esc(s.preimage)}</pre><p>HASH256 of that = <span class="mono hash">${esc(s.sighash)}</span> (internal byte order): the number the signature (r, s) signs.</p>`
        : '',
    )
    .join('');
  view.innerHTML = `
    <h1>Transaction ${status}</h1>
    <p class="mono hash">${esc(t.txid)}</p>
    <p>${t.size} bytes · fee ${coins(t.fee)} · ${a.feeRate.toFixed(2)} base units per byte</p>
    <div class="io"><div><h2>Inputs</h2>${ins}</div><div class="arrow">→</div><div><h2>Outputs</h2>${outs}</div></div>
    <h2>Raw bytes, field by field <span class="muted">(hover or Tab to a field)</span></h2>
    ${hexBox(a.hex, a.fields)}
    <h2>What each signature commits to: the legacy sighash preimage</h2>
    <p class="muted">The transaction with every scriptSig emptied except this input’s, which holds the spent output’s scriptPubKey, followed by the 4-byte hash type.</p>
    ${pre || '<p class="muted">a coinbase signs nothing</p>'}`;
  wireHex();
}

const addrLink = (a) => (a ? `<a class="mono" href="#/address/${esc(a)}">${esc(a)}</a>` : '<span class="muted">(non-standard)</span>');

/** Raw hex with one span per field; the field's name, meaning and value show on hover or focus. */
function hexBox(hex, fields) {
  return `<div class="hexbox" id="hex">${fields.map((f, i) => `<span class="field" tabindex="0" data-i="${i}" data-name="${esc(f.name)}" data-meaning="${esc(f.meaning)}" data-value="${esc(f.value)}" data-bytes="${f.start}–${f.end - 1}">${esc(hex.slice(f.start * 2, f.end * 2))}</span>`).join('')}</div>`;
}

function wireHex() {
  const info = $('#field-info');
  const show = (el) => {
    for (const x of document.querySelectorAll('.hexbox .field.on')) x.classList.remove('on');
    el.classList.add('on');
    info.innerHTML = `<b>${esc(el.dataset.name)}</b> · bytes ${esc(el.dataset.bytes)}<br>${esc(el.dataset.meaning)}<br><span class="mono hash">${esc(el.dataset.value)}</span>`;
    info.hidden = false;
  };
  for (const el of document.querySelectorAll('.hexbox .field')) {
    el.addEventListener('mouseenter', () => show(el));
    el.addEventListener('focus', () => show(el));
  }
}

// ---------------------------------------------------------------- an address

async function addressPage(addr) {
  const [a, utxo, txs] = await Promise.all([api(`/address/${addr}`), api(`/address/${addr}/utxo`), api(`/address/${addr}/txs`)]);
  const c = a.chain_stats,
    m = a.mempool_stats;
  view.innerHTML = `
    <h1>Address</h1><p class="mono hash">${esc(addr)}</p>
    <div class="stats"><div class="stat">balance<b id="balance">${coins(c.funded_txo_sum - c.spent_txo_sum)}</b></div>
      <div class="stat">pending<b>${coins(m.funded_txo_sum - m.spent_txo_sum)}</b></div><div class="stat">transactions<b>${c.tx_count + m.tx_count}</b></div></div>
    <h2>Coins (unspent outputs)</h2>
    <table><tr><th>outpoint</th><th class="num">value</th><th class="num">height</th></tr>${utxo.map((u) => `<tr><td class="mono"><a href="#/tx/${esc(u.txid)}">${esc(short(u.txid, 16))}</a>:${u.vout}</td><td class="num">${coins(u.value)}</td><td class="num">${u.status.block_height ?? ''}</td></tr>`).join('')}</table>
    <h2>History (newest first)</h2>
    <table><tr><th>txid</th><th>status</th><th class="num">change</th></tr>${txs.map((t) => `<tr><td class="mono"><a href="#/tx/${esc(t.txid)}">${esc(short(t.txid, 16))}</a></td><td>${t.status.confirmed ? `block ${t.status.block_height}` : 'mempool'}</td><td class="num">${coins(delta(t, addr))}</td></tr>`).join('')}</table>`;
}

function delta(t, addr) {
  let d = 0;
  for (const o of t.vout) if (o.scriptpubkey_address === addr) d += o.value;
  for (const i of t.vin) if (i.prevout?.scriptpubkey_address === addr) d -= i.prevout.value;
  return d;
}

// ---------------------------------------------------------------- search, keys, live events

$('#search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = $('#search').value.trim();
  if (!q) return;
  try {
    const r = await api(`/mvb/search/${encodeURIComponent(q)}`);
    location.hash = `#/${r.type}/${r.id}`;
  } catch (e) {
    // In the banner, not the view: a live redraw of the page below would wipe it within a block.
    flash(`Search “${q.length > 70 ? `${q.slice(0, 70)}…` : q}”: ${e.message}`);
  }
});

function setLarge(on) {
  document.body.classList.toggle('large', on);
  $('#large').setAttribute('aria-pressed', String(on));
  try {
    localStorage.setItem('mvb-large', on ? '1' : '');
  } catch {}
}
$('#large').addEventListener('click', () => {
  setLarge(!document.body.classList.contains('large'));
  if (current.name === 'home') render();
  // The network's name in the header on every page, deep links included (home() refreshes it).
  api('/mvb/summary').then(
    (sum) => ($('#network').textContent = `network ${sum.network}`),
    () => {},
  );
});
try {
  setLarge(localStorage.getItem('mvb-large') === '1');
} catch {}
document.addEventListener('keydown', (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === '/') {
    ev.preventDefault();
    $('#search').focus();
    $('#search').select();
  } else if (ev.key === 'l' || ev.key === 'L') {
    setLarge(!document.body.classList.contains('large'));
    if (current.name === 'home') render();
    // The network's name in the header on every page, deep links included (home() refreshes it).
    api('/mvb/summary').then(
      (sum) => ($('#network').textContent = `network ${sum.network}`),
      () => {},
    );
  } else if (ev.key === 'h' || ev.key === 'H') location.hash = '#/';
});

function flash(text, ok) {
  const b = $('#banner');
  b.textContent = text;
  b.className = ok ? 'ok' : '';
  b.hidden = false;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => (b.hidden = true), 8000);
}

let freshHash = '';
let pending;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => {
    if (current.name === 'home' || current.name === 'txPage' || current.name === 'addressPage') render();
    // The network's name in the header on every page, deep links included (home() refreshes it).
    api('/mvb/summary').then(
      (sum) => ($('#network').textContent = `network ${sum.network}`),
      () => {},
    );
  }, 250);
}
const events = new EventSource('/api/mvb/events');
events.onopen = () => ($('#live').textContent = '● live');
events.onerror = () => ($('#live').textContent = 'reconnecting…');
events.addEventListener('block', (e) => {
  const d = JSON.parse(e.data);
  freshHash = d.hash;
  refreshSoon();
});
events.addEventListener('reorg', (e) => {
  const r = JSON.parse(e.data);
  const list = (xs) => xs.map((b) => `${b.height} (${short(b.hash, 8)})`).join(', ');
  flash(
    `Reorganisation at height ${r.forkHeight}: ${r.disconnected.length} block(s) left the best chain: ${list(r.disconnected)}; ${r.connected.length} came in: ${list(r.connected)}.`,
  );
  refreshSoon();
});
for (const name of ['tx', 'mempool']) events.addEventListener(name, () => refreshSoon());
// On reconnecting, EventSource sends the id of the last event it saw and the explorer sends what
// came after; when it no longer has those (or restarted) it sends 'refetch': what this page shows
// may be stale, so every view reloads, the block page and the transaction page included.
events.addEventListener('refetch', () => {
  render();
  api('/mvb/summary').then(
    (sum) => ($('#network').textContent = `network ${sum.network}`),
    () => {},
  );
});
let statusRefreshAt = 0;
events.addEventListener('status', () => {
  // Miners announce every few seconds: redraw for their tips at most every 5 s.
  if (current.name !== 'home' || Date.now() - statusRefreshAt < 5000) return;
  statusRefreshAt = Date.now();
  refreshSoon();
});

render();
// The network's name in the header on every page, deep links included (home() refreshes it).
api('/mvb/summary').then(
  (sum) => ($('#network').textContent = `network ${sum.network}`),
  () => {},
);
