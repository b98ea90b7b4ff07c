/**
 * Where do a stream's cuts come from? Run: npx tsx lessons/07-sticky-packets/measure-reads.ts
 *
 * Prints each network interface's MTU where the system shows it (Linux: /sys/class/net), then
 * writes 1 MiB in one write() over loopback and counts the 'data' events the receiver gets, and
 * their sizes. The cuts come from the segments (at most the MTU less the headers, the MSS), from
 * what the receiver's kernel had when Node read, and from Node's reads of at most 64 KiB.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

const NET = '/sys/class/net';
if (existsSync(NET)) {
  const mtus = readdirSync(NET).map((name) => `${name} ${readFileSync(`${NET}/${name}/mtu`, 'utf8').trim()}`);
  console.log(`MTU: ${mtus.join(', ')}`);
} else {
  console.log('MTU: see `ifconfig` (macOS) or `netsh interface ipv4 show subinterfaces` (Windows)');
}

const SIZE = 1024 * 1024;
const sizes: number[] = [];
const server = net.createServer((socket) => {
  socket.on('data', (chunk: Buffer) => sizes.push(chunk.length));
  socket.on('end', () => {
    const counts = new Map<number, number>();
    for (const size of sizes) counts.set(size, (counts.get(size) ?? 0) + 1);
    const shown = [...counts].map(([size, n]) => `${n} × ${size}`).join(', ');
    const total = sizes.reduce((a, b) => a + b, 0);
    console.log(`${process.platform}, Node ${process.version}: one write of ${SIZE} bytes`);
    console.log(`arrived as ${sizes.length} 'data' events (${total} bytes): ${shown}`);
    socket.end();
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1', () => client.end(Buffer.alloc(SIZE, 'x')));
  client.on('error', (error) => {
    console.error(`measure-reads: ${error.message}`);
    process.exitCode = 1;
  });
  client.resume();
});
