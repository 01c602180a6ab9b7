// A read-only view of a chain store for tools (mvb block, tx, chain, mempool): the header tree and
// the active chain as last committed, without a Chain (which may write: it never may over a store
// opened shared beside a running node). Built once from the entries; the walks are iterative.
import { hashToHex, toHex } from '../../core/bytes.js';
import type { Block } from '../../core/block.js';
import type { EntryRecord } from '../../core/chain.js';
import type { LmdbChainStore } from './lmdb-store.js';

export interface ViewEntry {
  readonly record: EntryRecord;
  readonly hashHex: string;
  readonly parent: ViewEntry | undefined;
  readonly children: ViewEntry[];
  active: boolean;
}

export class ChainView {
  private readonly byHash = new Map<string, ViewEntry>();
  readonly active: ViewEntry[] = [];

  constructor(readonly store: LmdbChainStore) {
    const recs = [...store.loadEntries()].sort((a, b) => a.height - b.height || a.seq - b.seq);
    for (const r of recs) {
      const parent = r.height === 0 ? undefined : this.byHash.get(toHex(r.header.prevHash));
      if (r.height > 0 && !parent) continue;
      const e: ViewEntry = { record: r, hashHex: toHex(r.hash), parent, children: [], active: false };
      parent?.children.push(e);
      this.byHash.set(e.hashHex, e);
    }
    const tip = store.getTip();
    for (let e = tip ? this.byHash.get(toHex(tip)) : undefined; e; e = e.parent) {
      e.active = true;
      this.active[e.record.height] = e;
    }
  }

  get height(): number {
    return this.active.length - 1;
  }
  get tip(): ViewEntry | undefined {
    return this.active[this.active.length - 1];
  }
  /** By hash in internal order. */
  get(hash: Uint8Array): ViewEntry | undefined {
    return this.byHash.get(toHex(hash));
  }
  entries(): IterableIterator<ViewEntry> {
    return this.byHash.values();
  }
  block(e: ViewEntry): Block | undefined {
    return this.store.getBlock(e.record.hash);
  }
  displayHash(e: ViewEntry): string {
    return hashToHex(e.record.hash);
  }
}
