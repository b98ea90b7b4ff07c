/**
 * English: the words of the course's diagrams (site/src/diagrams): the wire diagrams' lifelines,
 * labels and descriptions, and each concept figure's title, labels and description. Code (calls,
 * flags such as SYN and FIN, state names such as TIME_WAIT) and units stay in the renderers: only
 * words are here. A lesson's own wire diagrams give their titles in its diagrams.ts.
 */
export const diagramsEn = {
  /** Sequence diagrams of what crossed the wire (sequence.ts). */
  wire: {
    client: 'client',
    server: 'server',
    fin: 'FIN (done sending)',
    closed: 'closed',
    bytes: (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'byte' : 'bytes'}`,
    /** A piece that holds part of a character: `c3 (start of é)`. */
    partOf: {
      start: (char: string) => `start of ${char}`,
      middle: (char: string) => `middle of ${char}`,
      end: (char: string) => `end of ${char}`,
    },
    connects: (who: string, to: string) =>
      `${who} connects to ${to}: the three-way handshake, SYN, SYN-ACK, ACK.`,
    sends: (who: string, count: string, what: string) => `${who} sends ${count}: ${what}.`,
    sendsFin: (who: string) => `${who} sends FIN: done sending.`,
    resets: (who: string) => `${who} resets the connection: RST.`,
    closes: (who: string) => `${who}'s socket closes.`,
    nothing: 'Nothing crossed the wire.',
    desc: (client: string, server: string, summary: string) =>
      `Sequence diagram, ${client} on the left, ${server} on the right, top to bottom. ${summary}`,
  },

  /** The concept figures (figures.ts), by name. */
  figures: {
    'tcp-handshake': {
      title: 'A TCP connection from start to end: handshake, request, reply, and a FIN each way',
    },
    /** Steps figures: the notes of each call, in the order of the figure's calls. */
    steps: {
      call: (steps: string[], code: string, notes: string[]) =>
        `${steps.join(' and ')}: ${code} — ${notes.join(' ')}`,
      loop: (first: number, last: number, label: string) => ` Steps ${first} to ${last} repeat ${label}.`,
      desc: (intro: string, calls: string[], loop: string) =>
        `${intro} with Node's call for each. ${calls.join('. ')}.${loop}`,
    },
    'client-steps': {
      title: "The five steps of a TCP client, and Node's call for each",
      intro: 'The five steps of a TCP client, top to bottom, as the Python tutorial names them,',
      notes: [
        ['one call creates the socket and connects;', "'connect' fires once the handshake is done"],
        ['writes the message, then FIN: done sending'],
        ["'data': whatever had arrived;", "'end': the server's FIN"],
        ["Node closes it after both FINs ('close');", 'destroy() ends it at once'],
      ],
    },
    'server-steps': {
      title: "The seven steps of a TCP server, and Node's call for each",
      intro: 'The seven steps of a TCP server, top to bottom, as the Python tutorial names them,',
      notes: [
        ['socket, bind and listen in one call', '(createServer() made no socket yet)'],
        ['Node accepts and calls your handler', 'with a new socket for this client'],
        ["chunks, until the client's FIN"],
        ['writes the reply, then FIN;', "'close' once both sides are done"],
      ],
      loop: 'for each client (Node serves many at once)',
    },
    'tcp-layers': {
      title: 'Where a socket sits: the four layers of TCP/IP',
      layers: [
        { name: 'application', what: 'your code: what to send, how to read the reply' },
        { name: 'transport', what: 'TCP: ports, the handshake, order, retransmission' },
        { name: 'network', what: 'IP: addresses (127.0.0.1), routing between machines' },
        { name: 'link', what: 'Ethernet, Wi-Fi, or the loopback device (lo)' },
      ],
      socketApi: "the socket API: net.connect · write · end · 'data'",
      program: ['your program', '(this course)'],
      kernel: ['the kernel', 'and drivers:', 'done for you'],
      layer: (name: string, what: string) => `${name}: ${what}.`,
      desc: (layers: string[], api: string) =>
        `Four stacked layers, top to bottom. ${layers.join(' ')} Between application and transport runs the border, ${api}. ` +
        'Above it is your program; below it the kernel and the drivers do the networking for you.',
    },
    'tcp-close': {
      title: 'Closing a TCP connection: the states of each side, and who waits in TIME_WAIT',
      active: ['closes first', '(active close)'],
      passive: ['closes second', '(passive close)'],
      notes: {
        established: 'both sides send and receive',
        finWait1: 'end(): done sending',
        finWait2: 'waits for the other FIN',
        closeWait: "'end' fires; may still send",
        lastAck: 'end() too: done sending',
        timeWait: '60 s on Linux, ~120 s on Windows',
        passiveClosed: 'the port is free',
        activeClosed: 'then the connection is gone',
      },
      sends: {
        active: (segment: string) => `the side that closes first sends ${segment}`,
        passive: (segment: string) => `the side that closes second sends ${segment}`,
      },
      enters: {
        active: (state: string, note: string) => `the first enters ${state}${note ? ` (${note})` : ''}`,
        passive: (state: string, note: string) => `the second enters ${state}${note ? ` (${note})` : ''}`,
      },
      row: (number: number, parts: string[]) => `${number}. ${parts.join('; ')}.`,
      desc: (rows: string[]) =>
        'Two lifelines, the side that closes first on the left, the other side on the right, time going down. ' +
        `${rows.join(' ')} Only the side that sent the first FIN waits in TIME_WAIT.`,
    },
    'backlog-queues': {
      title: 'Behind listen(backlog): the SYN queue and the accept queue of a listening socket',
      kernel: 'the kernel: listening socket :9000',
      synQueue: 'SYN queue',
      synNote: 'SYN came, SYN-ACK sent: half-open',
      acceptQueue: 'accept queue',
      acceptNote: 'handshake done, not accepted yet',
      length: ['its length: listen(backlog), capped', 'by net.core.somaxconn (Node: 511)'],
      clients: 'clients',
      yourServer: 'your server',
      full: 'Full accept queue:',
      fullNotes: [
        'Linux drops the SYN',
        '(the client retries),',
        'or the last ACK:',
        'connect() succeeds,',
        'then nothing answers',
      ],
      desc:
        'Clients on the left, the kernel in the middle, your server on the right. 1. A client sends SYN: the kernel ' +
        "puts the half-open connection in the SYN queue and 2. answers SYN-ACK. 3. The client's ACK completes the " +
        'handshake: the connection moves to the accept queue, whose length is the backlog given to listen() ' +
        "(capped by net.core.somaxconn; Node's default is 511). Node accepts from the front of that queue and " +
        "calls your handler with a new socket ('connection'). When the accept queue is full, Linux drops the SYN " +
        "(the client retries later) or the handshake's last ACK, so the client's connect() succeeds and then nothing answers.",
    },
    nagle: {
      title: "Nagle's algorithm: small writes wait for the ACK of the first, then leave together",
      on: 'Nagle on',
      onNote: 'the default: noDelay false',
      writes: 'your writes',
      sent: 'segments sent',
      ack: 'ACK of "h": one round trip later',
      time: 'time →',
      desc:
        'The same five one-byte writes, h, e, l, l, o, drawn twice, time going right. With Nagle on, the default ' +
        'for a net socket: "h" leaves at once in its own segment; e, l, l and o wait in the send buffer until the ' +
        'ACK of "h" comes back, one round trip later, then leave together as one segment, "ello". With ' +
        'setNoDelay(true): each write leaves at once in a segment of its own, five segments. Either way the ' +
        'receiver may read the bytes in any pieces.',
    },
    'ping-latency': {
      title: 'How long a ping waits while four clients hash: inline against worker threads (a recorded run)',
      run: (clients: number, rounds: number) =>
        `Each dot is one ping, sent every 20 ms while ${clients} clients hashed ${rounds} rounds each, on ` +
        'a log scale from 0.1 ms to 1 s. ',
      inline: (answers: number, p50: string) =>
        `Inline, every ping waited behind the hashes: ${answers} answers, p50 ${p50} ms. `,
      workers: (answers: number, p50: string, p99: string) =>
        `With worker threads, ${answers} answers, p50 ${p50} ms and p99 ${p99} ms: the event loop only passed messages.`,
    },
  },
};
