// The JSON rows one app prints and another reads (the demo and devnet read the wallet's
// `--json` output): one definition, so the two sides cannot drift apart.

/** One element of `list-addresses --json`: amounts as decimal strings in coins. */
export interface AddressRow {
  readonly name: string;
  readonly address: string;
  readonly balance: string;
  readonly pending: string;
  /** Of the balance: mined rewards not yet spendable (coinbase maturity). */
  readonly immature: string;
  /** The wallet's chain height these amounts are at (its last synced block). */
  readonly height: number;
}
