// What an API route is and what it answers (JSON, text, bytes or an event stream), shared by the
// Esplora routes (api.ts), mvb's own (api-mvb.ts) and the HTTP layer that serves them (http.ts).

export type Reply =
  | { readonly kind: 'json'; readonly status?: number; readonly body: unknown }
  | { readonly kind: 'text'; readonly status?: number; readonly body: string }
  | { readonly kind: 'bytes'; readonly body: Uint8Array }
  | { readonly kind: 'events' };

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  /** `from`: the client's address (a posted transaction's source). A POST may answer later (its checks yield to the event loop). */
  handle(m: readonly string[], q: URLSearchParams, body: string, from: string): Reply | Promise<Reply>;
}

/** The largest height a query may name (Core's heights are int32). */
export const MAX_HEIGHT = 0x7fffffff;
