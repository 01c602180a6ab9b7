// A small HTTP client for JSON, for the tools that ask an explorer something (`mvb-wallet join` asks
// how to reach the class and for faucet coins): every request has a deadline and a byte cap on the
// answer, and any failure is one HttpClientError line naming the URL (never a stack trace).
// Node's own fetch does the HTTP; this adds the bounds.

/** A request that failed: unreachable, too slow, too big, not JSON, or an error status with its message. */
export class HttpClientError extends Error {
  override readonly name = 'HttpClientError';
  constructor(
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface JsonRequest {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  /** Deadline for the whole exchange, in milliseconds. */
  readonly timeoutMs: number;
  /** Largest answer read, in bytes. */
  readonly maxBytes: number;
}

/** Reads at most maxBytes of the body; HttpClientError if it is longer. */
async function boundedText(res: Response, url: string, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new HttpClientError(`${url}: answer larger than ${maxBytes} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** GET or POST url (JSON body), the answer parsed as JSON; an error status throws with the server's message. */
export async function fetchJson(url: string, r: JsonRequest): Promise<unknown> {
  const body = r.body === undefined ? undefined : JSON.stringify(r.body);
  const { status, ok, text } = await fetchText(url, { ...r, body, contentType: 'application/json' });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    if (!ok) throw new HttpClientError(`${url}: ${status} ${text.slice(0, 200).trim()}`, status);
    throw new HttpClientError(`${url}: the answer is not JSON`);
  }
  if (!ok) {
    const msg =
      typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string'
        ? (v as { error: string }).error
        : text.slice(0, 200);
    throw new HttpClientError(`${url}: ${status} ${msg}`, status);
  }
  return v;
}

/** GET or POST url (a text body as given), the answer as text with its status, within the bounds. */
export async function fetchText(
  url: string,
  r: Omit<JsonRequest, 'body'> & { readonly body?: string; readonly contentType?: string },
): Promise<{ status: number; ok: boolean; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: r.method ?? 'GET',
      headers: r.body === undefined ? {} : { 'content-type': r.contentType ?? 'text/plain' },
      body: r.body,
      signal: AbortSignal.timeout(r.timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${r.timeoutMs / 1000} s` : causeOf(e);
    throw new HttpClientError(`cannot reach ${url}: ${why}`);
  }
  const text = await boundedText(res, url, r.maxBytes).catch((e: unknown) => {
    if (e instanceof HttpClientError) throw e;
    throw new HttpClientError(`${url}: the answer was cut off (${causeOf(e)})`);
  });
  return { status: res.status, ok: res.ok, text };
}

function causeOf(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return c?.code ?? c?.message ?? (e as Error).message;
}
