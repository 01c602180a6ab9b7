// The lookups every route shares, each answering 404 (HttpError) when the thing is not there: a
// block by hash or by active height, a block with its summary, a transaction. api.ts's Api extends
// it; api-mvb.ts takes it, so the two route files do not import each other. A classroom explorer also
// carries its join details and faucet here.
import { hexToHash } from '../shared/core/bytes.js';
import type { ChainEntry } from '../shared/core/chain.js';
import type { Explorer } from './explorer.js';
import { EsploraView } from './esplora.js';
import { hash64, notFound } from './params.js';
import type { Reply } from './route.js';
import type { Faucet } from './faucet.js';

/** What a classroom explorer serves besides the chain: how to join, and the faucet (mvb classroom start). */
export interface Classroom {
  /** The explorer's URL students type into `mvb-wallet join`. */
  readonly url: string;
  readonly faucet?: Faucet;
}

export class Lookups {
  readonly view: EsploraView;
  /** Set when the explorer serves a class (`--classroom`). */
  classroom: Classroom | undefined;

  constructor(readonly ex: Explorer) {
    this.view = new EsploraView(ex);
  }

  entry(hashParam: string): ChainEntry {
    const e = this.ex.chain.getEntry(hexToHash(hash64(hashParam, 'block hash')));
    if (!e || e.status === 'header') return notFound('Block not found');
    return e;
  }
  activeAt(h: number): ChainEntry {
    return this.ex.chain.atHeight(h) ?? notFound('Block not found');
  }
  withBlock(hashParam: string, f: (e: ChainEntry, b: NonNullable<ReturnType<EsploraView['block']>>) => Reply): Reply {
    const e = this.entry(hashParam);
    const b = this.view.block(e.hash) ?? notFound('Block not found');
    return f(e, b);
  }
  tx(idParam: string): NonNullable<ReturnType<EsploraView['findTx']>> {
    return this.view.findTx(hash64(idParam, 'txid')) ?? notFound('Transaction not found');
  }
}
