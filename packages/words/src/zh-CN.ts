/**
 * 简体中文: the same keys as en.ts (`satisfies Words` refuses a missing or extra one). Terms as
 * in the Chinese lesson texts: 套接字, 服务端, 客户端, 半关闭, 黏包.
 */
import { diagramsZhCN } from './diagrams.zh-CN.ts';
import type { Words } from './index.ts';

export const zhCN = {
  site: {
    brand: '手写套接字',
    skip: '跳到正文',
    lessons: '课程',
    search: '搜索课程',
    searchHelp: '输入时结果显示在下方。',
    searchResults: '搜索结果',
    noResults: '没有哪一节提到它。',
    startHere: '从这里开始',
    glossary: '术语表',
    folder: (number: string) => `第 ${number} 课 · 你的文件在`,
    previous: '← 上一课',
    next: '下一课 →',
    previousNext: '上一课与下一课',
    onThisPage: '本页内容',
    copy: '复制',
    copyCode: '复制代码',
    copied: '已复制',
    selectAndCopy: '请选中后复制',
    anchor: '链接到本节',
    callouts: { NOTE: '注意', TIP: '提示', IMPORTANT: '重要', WARNING: '警告', CAUTION: '小心' },
    otherEdition: 'English',
    otherEditionLabel: 'Read the English edition',
    homeTitle: '手写套接字：用 Node.js 学网络编程',
    homeDescription: '一门用 TypeScript 在 Node.js 上学网络编程的课程，一课一课来。',
    homeLead:
      '用 TypeScript 在 Node.js 上学网络编程，一次一课。你会亲手写出真正的 TCP 和 UDP 客户端与服务端，在自己的机器上用真实的对端测试它们（包括把你的字节切成碎片、复位连接或不再读取的恶意对端），并亲眼看到线路上真正传输了什么。',
    howToStart: '如何开始',
    startCommand: '打开本站，并显示你的进度',
    checkCommand: '验证整门课程本身',
    howToWork:
      '然后，每一课：读它的页面，填写它 <code>exercise/</code> 文件夹里编了号的 <code>TODO</code>，运行 <code>npm test -- 01</code>（换成该课的编号），直到全部变绿。每个失败的测试都会告诉你它期望什么、实际收到的文本和字节是什么，以及该试试什么。',
    theLessons: '课程列表',
    glossaryTitle: '术语表：课程中的每个术语，中英对照',
    glossaryLead: '每个术语的中文名、Node.js 和 Python 中对应的名字，以及讲解它的课程章节。',
    term: '术语',
    chinese: '中文',
    english: 'English',
    node: 'Node.js',
    python: 'Python',
    taughtIn: '讲解于',
    untranslated: '本课的中文版尚未完成，下面是英文原文。',
  },

  course: {
    passing: (passed: number, total: number) => `${passed}/${total} 通过`,
    testsAgainst: (target: string) => `用 ${target}/ 运行测试`,
    lessonsPassing: (passing: number, of: number, target: string) =>
      `用 ${target}/ 运行：${of} 课中有 ${passing} 课通过。`,
    skipped: (n: number) => `，${n} 个跳过`,
    next: (what: string) => `下一个：${what}`,
    aTestFileDoesNotLoad: '有一个测试文件加载失败',
    theTestsDoNotLoad: '测试无法加载',
    anErrorOutsideTheTests: '测试之外的一个错误（见下文）',
    notRunNeeds: (n: number, need: string) => `未运行：${n} 个测试需要 ${need}，本机上没有找到`,
    notRunMarked: (n: number) => `未运行：${n} 个测试被标记为跳过`,
    lesson: (number: string, title: string) => `第 ${number} 课 · ${title}`,
    unhandled: (where: string, times: number) =>
      `一个没有任何代码处理的错误（${where}${times > 1 ? `，共 ${times} 次` : ''}）：`,
    during: (test: string) => `发生在 ${test} 期间`,
    outsideAnyTest: '发生在所有测试之外',
    at: (where: string) => `位置 ${where}`,
    moreUnhandled: (n: number) => `… 还有 ${n} 个未处理的错误`,
    moreFailing: (n: number) => `… 还有 ${n} 个失败`,
    laterFailing: (n: number) => `… 后面的步骤还有 ${n} 个失败，做到那里时再看`,
    skippedTest: (name: string) => `已跳过：${name}`,
    states: {
      done: '已完成',
      'in progress': '进行中',
      'not started': '未开始',
      'does not compile': '无法编译',
    },
    onStep: (step: number, of: number) => `进行中，第 ${step} 步（共 ${of} 步）`,
    doesNotCompile: (error: string) => `无法编译：${error}`,
    yourProgress: '你的进度',
    everyLessonPasses: '每一课都通过了，干得好！',
    solutionsAreIn: '参考答案在每课的 solution/ 里。',
    nextLesson: (number: string, title: string) => `下一课：第 ${number} 课 · ${title}`,
    read: (dir: string) => `  阅读   ${dir}/README.zh-CN.md（或在网站上看：npm start）`,
    edit: (dir: string) => `  编辑   ${dir}/exercise/（按顺序完成 TODO）`,
    check: (verify: string, watch: string) => `  检查   ${verify}，或让 ${watch} 一直运行`,
    stuck: (hint: string) => `  卡住了？${hint}`,
    doesNotCompileYet: '你的代码还不能编译：',
    andMore: (n: number) => `  … 还有 ${n} 个`,
    lessonDone: (number: string) => `第 ${number} 课完成了。`,
    nextVerify: (number: string, title: string, command: string) =>
      `下一课：第 ${number} 课 · ${title}：${command}`,
    lastLesson: '这是最后一课：整门课程都通过了。',
    stuckHint: (command: string) => `卡住了？${command} 会给出下一条提示。`,
    noHintNeeded: (number: string, command: string) =>
      `第 ${number} 课的测试全部通过，不需要提示。${command} 可以看参考答案。`,
    hintHeading: (step: number, number: number, of: number) => `第 ${step} 步，提示 ${number}/${of}`,
    hintLesson: (number: string) => `第 ${number} 课`,
    runAgain: '再运行一次',
    pressH: '按 h',
    forHint: (again: string, next: number, step: number) => `${again}，看第 ${step} 步的提示 ${next}。`,
    lastHint: (step: number, command: string) =>
      `这是第 ${step} 步的最后一条提示。${command} 可以看完整的参考答案。`,
    alreadyStarter: (number: string) => `第 ${number} 课的 exercise/ 已经是发布时的起始代码。`,
    theseDiffer: (number: string) => `第 ${number} 课的这些文件与起始代码不同：`,
    putBack: '恢复起始代码吗？你对这些文件的修改会丢失。',
    nothingChanged: '什么都没有改。',
    backToStarter: (number: string) => `第 ${number} 课已恢复为起始代码。`,
    lookAtSolution: (number: string) => `这会显示第 ${number} 课的参考答案。要看吗？`,
    yourCode: '你的代码',
    theSolution: '参考答案',
    answerWithYes: (question: string) => `${question} 请加上 --yes 重新运行这条命令来确认。`,
    yesNo: '[y/N]',
    yes: /^(y(es)?|是|好)$/i,
    whichLesson: '哪一课？用编号（01）或名字（tcp-client）指定。',
    noLesson: (name: string, close: string[]) =>
      `没有叫 '${name}' 的课${close.length ? `：你是指 ${close.join(' 或 ')} 吗？` : ''}`,
    noLessons: 'lessons/ 下没有找到任何课程',
    programsAre: (number: string, programs: string[]) => `第 ${number} 课的程序有：${programs.join('、')}`,
    unknownCommand: (command: string) => `未知命令 '${command}'`,
    keptStarters: (ids: string[]) => `已保存 ${ids.join('、')} 的起始代码`,
    languageIs: (lang: string, other: string) =>
      `课程现在说${lang === 'en' ? ' English' : '简体中文'}。\`${other}\` 可以切换（网站：每页顶部的语言切换）。`,
    noSuchLanguage: (name: string, languages: readonly string[]) =>
      `没有叫 '${name}' 的语言：请选择 ${languages.join(' 或 ')}`,
    languageSet: '从现在起，课程说简体中文（设置了 COURSE_LANG 时仍以它为准）。',
    courseLangWins: (value: string) => `这个终端里设置了 COURSE_LANG=${value}，它优先于这个选择。`,
    startersWritten: (numbers: string[]) => `第 ${numbers.join('、')} 课的起始代码，注释已换成简体中文。`,
    startersKept: (numbers: string[], reset: string) =>
      `第 ${numbers.join('、')} 课是你改过的代码，保持不变（\`${reset} NN\` 会恢复简体中文注释的起始代码）。`,
    startersCanFollow: (command: string) => `起始代码的注释也有简体中文版：${command}`,
    onTo: (number: string, title: string) => `进入第 ${number} 课 · ${title}`,
    reran: (afterSave: number, tests: number) => `（保存后 ${afterSave} ms 重新运行；测试本身 ${tests} ms）`,
    watching: (id: string) => `正在监视 lessons/${id}/ · 保存即重新运行 · h 提示 · n 下一课 · q 退出`,
    usage: (course: string) => `用法：${course} [命令]

  （不加命令）                  所有课程、它们的状态，以及下一步做什么
  verify [课]                   用你的代码运行某一课的测试
  watch [课] [--poll]           每次保存都重新运行测试，通过后进入下一课
                                （默认：你正在学的那一课；按键：h 提示，n 下一课，q 退出）
  hint [课]                     你当前这一步的下一条提示，一次一条
  reset <课> [--yes]            把这一课恢复成发布时的起始代码
  lang [en|zh-CN]               课程的语言；未改动的起始代码的注释随之切换
  solution <课> [--yes]         显示你的文件与参考答案的差别
  run <课> <程序> [--solution] [参数]
                                运行这一课的某个程序，例如 run 02 server --port 9000
  nc [-u] [-l] [--hex] [--trickle MS] [--send-empty] 主机 端口
                                适用于所有系统的 netcat：标准输入发往 主机:端口，回复写到
                                标准输出（更多见 nc --help）

课用编号（01 或 1）或名字（tcp-client）指定。
课程可以说 English 或简体中文：用 \`lang\` 选择，COURSE_LANG=en 或 zh-CN 优先（默认跟随系统语言）。`,
  },

  harness: {
    expected: '期望',
    received: '实际收到',
    hint: '提示',
    tryIt: '自己试一试',
    nothing: '什么都没有（0 字节）',
    text: '文本',
    hex: '十六进制',
    bytes: (n: number) => `${n} 字节`,
    todoFirst: (todo: string) => `${todo} 还没有完成：先看 README 里它所说的那一步`,
    programAtTodo: (step: string) =>
      `程序停在了你代码里的 TODO(${step})：先完成第 ${step} 步（那一步自己的测试会说缺什么）；这个测试运行的是整个程序`,
    stillRunning: '仍在运行',
  },

  diagrams: diagramsZhCN,
} satisfies Words;
