// A tiny program for the harness's own tests: it follows the course's program conventions,
// or breaks them on request (--crash, --chatty).
import net from 'node:net';
import { announceListening, parseCommandLine, stopOnSignals } from '@course/program';

const cli = parseCommandLine({
  name: 'server.ts',
  summary: 'echoes every connection back, for the harness tests',
  options: {
    port: { type: 'string', description: 'port', value: 'PORT' },
    crash: { type: 'boolean', description: 'fail at start' },
    chatty: { type: 'boolean', description: 'print something before the listening line' },
  },
});
if (cli.boolean('crash')) {
  console.error('boom: this program fails on purpose');
  process.exit(3);
}
if (cli.boolean('chatty')) console.log('hello there');
const server = net.createServer((socket) => {
  socket.on('error', () => {});
  socket.pipe(socket);
});
server.listen({ host: '127.0.0.1', port: cli.port('port', 0) }, () => {
  announceListening(server);
  stopOnSignals(server);
});
