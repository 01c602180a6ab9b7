// Ports nobody listens on right now, for a local network of test or classroom nodes (`mvb devnet`,
// `mvb demo`, the test kit). Found by listening on port 0 (the kernel picks) and closing again;
// the UDP ports in the same range are free in practice on loopback.
import net from 'node:net';

/** n distinct free TCP ports on host. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
