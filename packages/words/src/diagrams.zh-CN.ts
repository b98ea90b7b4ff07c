/**
 * 简体中文: the words of the diagrams, the same keys as diagrams.en.ts. Terms as in the lesson
 * texts and site/glossary.json (客户端, 服务端, 三次握手, 半连接队列, 全连接队列, 报文段); code, flags,
 * state names and units stay as they are.
 */
import type { Words } from './index.ts';

export const diagramsZhCN = {
  wire: {
    client: '客户端',
    server: '服务端',
    fin: 'FIN（发送完毕）',
    closed: '已关闭',
    bytes: (n: number) => `${n.toLocaleString('en-US')} 字节`,
    partOf: {
      start: (char: string) => `${char} 的开头`,
      middle: (char: string) => `${char} 的中间`,
      end: (char: string) => `${char} 的结尾`,
    },
    connects: (who: string, to: string) => `${who} 连接 ${to}：三次握手，SYN、SYN-ACK、ACK。`,
    sends: (who: string, count: string, what: string) => `${who} 发送 ${count}：${what}。`,
    sendsFin: (who: string) => `${who} 发送 FIN：发送完毕。`,
    resets: (who: string) => `${who} 复位连接：RST。`,
    closes: (who: string) => `${who} 的套接字关闭。`,
    nothing: '线路上什么都没有传输。',
    desc: (client: string, server: string, summary: string) =>
      `时序图，${client} 在左，${server} 在右，从上往下。${summary}`,
  },

  figures: {
    'tcp-handshake': {
      title: '一个 TCP 连接从头到尾：握手、请求、回复，以及双方各发一个 FIN',
    },
    steps: {
      call: (steps: string[], code: string, notes: string[]) =>
        `${steps.join(' 和 ')}：${code}——${notes.join('')}`,
      loop: (first: number, last: number, label: string) => `第 ${first} 到第 ${last} 步${label}重复。`,
      desc: (intro: string, calls: string[], loop: string) =>
        `${intro}以及每一步在 Node 中对应的调用。${calls.join('。')}。${loop}`,
    },
    'client-steps': {
      title: 'TCP 客户端的五个步骤，以及每一步在 Node 中对应的调用',
      intro: 'TCP 客户端的五个步骤，从上到下，用 Python 教程中的名字，',
      notes: [
        ['一次调用创建套接字并连接；', "握手完成后触发 'connect'"],
        ['写入消息，然后发 FIN：发送完毕'],
        ["'data'：已经到达的任意字节；", "'end'：服务端的 FIN"],
        ["双方的 FIN 之后 Node 关闭它（'close'）；", 'destroy() 立即结束它'],
      ],
    },
    'server-steps': {
      title: 'TCP 服务端的七个步骤，以及每一步对应的 Node 调用',
      intro: 'TCP 服务端的七个步骤，从上到下，用 Python 教程中的名字，',
      notes: [
        ['一次调用完成 socket、bind 和 listen', '（createServer() 还没有创建套接字）'],
        ['Node 接受连接并调用你的处理函数，', '传入这个客户端的新套接字'],
        ['数据块，直到客户端的 FIN'],
        ['写入回复，然后发 FIN；', "双方都结束后触发 'close'"],
      ],
      loop: '对每个客户端（Node 同时服务多个）',
    },
    'tcp-layers': {
      title: '套接字所在的位置：TCP/IP 的四层',
      layers: [
        { name: '应用层', what: '你的代码：发送什么，如何读取回复' },
        { name: '传输层', what: 'TCP：端口、握手、顺序、重传' },
        { name: '网络层', what: 'IP：地址（127.0.0.1），机器之间的路由' },
        { name: '链路层', what: '以太网、Wi-Fi，或回环设备（lo）' },
      ],
      socketApi: "套接字 API：net.connect · write · end · 'data'",
      program: ['你的程序', '（本课程）'],
      kernel: ['内核', '与驱动：', '替你完成'],
      layer: (name: string, what: string) => `${name}：${what}。`,
      desc: (layers: string[], api: string) =>
        `从上到下叠放的四层。${layers.join('')}应用层与传输层之间是分界线，${api}。` +
        '分界线之上是你的程序；之下由内核与驱动替你完成网络通信。',
    },
    'tcp-close': {
      title: '关闭一个 TCP 连接：双方各自的状态，以及谁在 TIME_WAIT 中等待',
      active: ['先关闭的一方', '（主动关闭）'],
      passive: ['后关闭的一方', '（被动关闭）'],
      notes: {
        established: '双方都能收发',
        finWait1: 'end()：发送完毕',
        finWait2: '等待对方的 FIN',
        closeWait: "触发 'end'；仍可发送",
        lastAck: '也调用 end()：发送完毕',
        timeWait: 'Linux 上 60 s，Windows 上约 120 s',
        passiveClosed: '端口已释放',
        activeClosed: '随后连接消失',
      },
      sends: {
        active: (segment: string) => `先关闭的一方发送 ${segment}`,
        passive: (segment: string) => `后关闭的一方发送 ${segment}`,
      },
      enters: {
        active: (state: string, note: string) => `先关闭的一方进入 ${state}${note ? `（${note}）` : ''}`,
        passive: (state: string, note: string) => `后关闭的一方进入 ${state}${note ? `（${note}）` : ''}`,
      },
      row: (number: number, parts: string[]) => `${number}. ${parts.join('；')}。`,
      desc: (rows: string[]) =>
        `两条生命线，先关闭的一方在左，另一方在右，时间向下推进。${rows.join(' ')} ` +
        '只有发出第一个 FIN 的一方在 TIME_WAIT 中等待。',
    },
    'backlog-queues': {
      title: 'listen(backlog) 的背后：监听套接字的半连接队列和全连接队列',
      kernel: '内核：监听套接字 :9000',
      synQueue: '半连接队列（SYN 队列）',
      synNote: 'SYN 已到，SYN-ACK 已发：半连接',
      acceptQueue: '全连接队列',
      acceptNote: '握手已完成，尚未被接受',
      length: ['它的长度：listen(backlog)，', '上限为 net.core.somaxconn（Node：511）'],
      clients: '客户端',
      yourServer: '你的服务端',
      full: '全连接队列满时：',
      fullNotes: [
        'Linux 丢弃 SYN',
        '（客户端会重试），',
        '或丢弃最后的 ACK：',
        'connect() 成功，',
        '之后却无人应答',
      ],
      desc:
        '客户端在左，内核在中间，你的服务端在右。1. 客户端发送 SYN：内核把这个半连接放进半连接队列，' +
        '并 2. 回复 SYN-ACK。3. 客户端的 ACK 完成三次握手：连接移到全连接队列，它的长度就是传给 listen() 的 backlog' +
        '（上限为 net.core.somaxconn；Node 的默认值是 511）。Node 从队首接受连接，' +
        "用一个新套接字调用你的处理函数（'connection'）。全连接队列满时，Linux 丢弃 SYN" +
        '（客户端稍后重试），或丢弃握手的最后一个 ACK，于是客户端的 connect() 成功了，之后却无人应答。',
    },
    nagle: {
      title: 'Nagle 算法：小的写入等待第一个的 ACK，然后一起发出',
      on: 'Nagle 开启',
      onNote: '默认：noDelay 为 false',
      writes: '你的写入',
      sent: '发出的报文段',
      ack: '"h" 的 ACK：一个往返之后',
      time: '时间 →',
      desc:
        '同样的五次单字节写入 h、e、l、l、o，画了两遍，时间向右推进。开启 Nagle（net 套接字的默认）时：' +
        '"h" 立即在自己的报文段里发出；e、l、l 和 o 在发送缓冲区里等待，直到 "h" 的 ACK 在一个往返之后返回，' +
        '再合成一个报文段 "ello" 一起发出。setNoDelay(true) 时：每次写入都立即在自己的报文段里发出，共五个报文段。' +
        '无论哪种，接收方都可能以任意分块读到这些字节。',
    },
    'ping-latency': {
      title: '四个客户端计算哈希时，一次 ping 要等多久：内联对比工作线程（一次记录的运行）',
      run: (clients: number, rounds: number) =>
        `每个点是一次 ping，每 20 ms 发送一次，同时 ${clients} 个客户端各计算 ${rounds} 轮哈希；` +
        '对数刻度，从 0.1 ms 到 1 s。',
      inline: (answers: number, p50: string) =>
        `内联时，每次 ping 都排在哈希计算之后：${answers} 次应答，p50 ${p50} ms。`,
      workers: (answers: number, p50: string, p99: string) =>
        `使用工作线程时，${answers} 次应答，p50 ${p50} ms，p99 ${p99} ms：事件循环只负责传递消息。`,
    },
  },
} satisfies Words['diagrams'];
