/**
 * Clients that misbehave the way real ones do. A server must survive each of them and keep
 * serving everybody else.
 */
import { connect, type Peer } from './net.ts';

/** Connects and goes away at once without sending anything (a port scanner, a crashed client). */
export async function vanish(port: number): Promise<void> {
  const peer = await connect(port);
  peer.socket.destroy();
}

/**
 * Connects, sends `data`, then aborts with a TCP reset (RST). With no data the server sees
 * ECONNRESET; when the reset follows data the server has not read yet, Linux reports a plain end
 * instead, as it does for real clients: a server must survive both. With `afterBytes`, it first
 * waits for that many bytes from the server.
 */
export async function resetAfter(
  port: number,
  data: string | Uint8Array = '',
  { afterBytes = 0 }: { afterBytes?: number } = {},
): Promise<void> {
  const peer = await connect(port);
  if (afterBytes > 0) await peer.bytes(afterBytes);
  if (data.length > 0) await peer.write(data);
  peer.reset();
}

/**
 * Sends `data` and half-closes (FIN), then keeps reading: the polite client of a request/reply
 * protocol. Returns the peer, to wait for the reply with `peer.closed()`.
 */
export async function halfClose(port: number, data: string | Uint8Array): Promise<Peer> {
  const peer = await connect(port);
  await peer.end(data);
  return peer;
}

/**
 * Sends `data` and then stops reading: once the kernel buffers fill, the server's write()
 * returns false and it must wait for 'drain' instead of buffering without bound.
 * Call `peer.socket.resume()` to start reading again.
 */
export async function slowReader(port: number, data: string | Uint8Array = ''): Promise<Peer> {
  const peer = await connect(port);
  peer.socket.pause();
  if (data.length > 0) await peer.write(data);
  return peer;
}

/**
 * Slowloris: sends `data` one byte every `everyMs` and never finishes (after the last byte it
 * stays connected, silent). Each byte is activity, so a plain idle timer (socket.setTimeout)
 * never fires: only a deadline for the whole request, line or frame cuts it off. The trickle
 * stops when the server closes the connection; wait for that with `peer.closed({ allowReset: true })`.
 */
export async function trickle(port: number, data: string | Uint8Array, everyMs = 20): Promise<Peer> {
  const peer = await connect(port);
  const bytes = Buffer.from(data);
  const trickled = { bytes, everyMs, sent: 0 };
  peer.trickled = trickled;
  const timer = setInterval(() => {
    if (trickled.sent >= bytes.length || peer.ending !== 'open' || peer.socket.destroyed) {
      clearInterval(timer);
      return;
    }
    peer.write(bytes.subarray(trickled.sent, ++trickled.sent)).catch(() => clearInterval(timer));
  }, everyMs);
  peer.socket.once('close', () => clearInterval(timer));
  return peer;
}
