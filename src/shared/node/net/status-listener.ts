// Hears the status port without being a node: every status datagram of our network, decoded, to a
// callback (for `mvb devnet status`, `mvb demo`, the test kit). It shares the port with the nodes
// on this machine (SO_REUSEADDR, through UdpChannel) and never sends; frames of another type or
// network and undecodable payloads are dropped and counted, as by a node.
import type { ConsensusParams } from '../../core/params.js';
import { MsgType, type Status, decodeStatus } from './protocol.js';
import { UdpChannel } from './udp.js';

export class StatusListener {
  private readonly channel: UdpChannel;

  constructor(params: ConsensusParams, port: number, onStatus: (s: Status, from: { address: string; port: number }) => void) {
    // Listen-only: no peers, and nothing is ever sent to the broadcast address.
    this.channel = new UdpChannel(params, { port, broadcastAddress: '127.0.0.1', peers: [] }, (type, payload, from) => {
      if (type === MsgType.CompactBlock) return; // a node's compact block: not a status, not an error
      if (type !== MsgType.Status) return this.channel.drop('type');
      let s: Status;
      try {
        s = decodeStatus(payload);
      } catch {
        return this.channel.drop('payload');
      }
      onStatus(s, from);
    });
  }

  /** Resolves once bound; rejects if the port cannot be bound. */
  listening(): Promise<void> {
    return this.channel.listening();
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
