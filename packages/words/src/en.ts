/**
 * English: the course's own words outside the lesson texts. The source catalogue: every other
 * language has exactly these keys (TypeScript checks it), and a function wherever a value is
 * built from numbers or names.
 */
import { diagramsEn } from './diagrams.en.ts';

export const en = {
  /** The site's frame around the lesson texts (site/src). */
  site: {
    brand: 'Sockets, by hand',
    skip: 'Skip to the text',
    lessons: 'Lessons',
    search: 'Search the course',
    searchHelp: 'Results appear below as you type.',
    searchResults: 'Search results',
    noResults: 'No section mentions that.',
    startHere: 'Start here',
    glossary: 'Glossary',
    folder: (number: string) => `Lesson ${number} · your files are in`,
    previous: '← Previous',
    next: 'Next →',
    previousNext: 'Previous and next',
    onThisPage: 'On this page',
    copy: 'Copy',
    copyCode: 'Copy the code',
    copied: 'Copied',
    selectAndCopy: 'Select and copy',
    anchor: 'Link to this section',
    callouts: { NOTE: 'Note', TIP: 'Tip', IMPORTANT: 'Important', WARNING: 'Warning', CAUTION: 'Caution' },
    /** The link to the other edition, in that edition's language. */
    otherEdition: '简体中文',
    otherEditionLabel: '阅读简体中文版',
    homeTitle: 'Sockets, by hand: network programming on Node.js',
    homeDescription: 'A TypeScript course on network programming with Node.js, lesson by lesson.',
    homeLead:
      'Network programming on Node.js, in TypeScript, one lesson at a time. You write real TCP and UDP clients and servers, test them against real peers on your own machine, including hostile ones that cut your bytes into pieces, reset connections or stop reading, and you see what actually crosses the wire.',
    howToStart: 'How to start',
    startCommand: 'this site, and where you are',
    checkCommand: 'verify the course itself',
    howToWork:
      "Then, for each lesson: read its page, fill in the numbered <code>TODO</code>s in its <code>exercise/</code> folder, and run <code>npm test -- 01</code> (with the lesson's number) until it is green. Every failing test says what it expected, what arrived as text and bytes, and what to try.",
    theLessons: 'The lessons',
    glossaryTitle: 'Glossary: every term of the course, in English and Chinese',
    glossaryLead:
      'Each term with its Chinese name, the Node.js and Python names for it, and the lesson section that teaches it.',
    term: 'Term',
    chinese: '中文',
    english: 'English',
    node: 'Node.js',
    python: 'Python',
    taughtIn: 'Taught in',
    untranslated: 'This lesson is not translated yet: here is the English.',
  },

  /** The course command and `npm test` (packages/cli). */
  course: {
    passing: (passed: number, total: number) => `${passed}/${total} passing`,
    testsAgainst: (target: string) => `tests against ${target}/`,
    lessonsPassing: (passing: number, of: number, target: string) =>
      `${passing} of ${of} lessons passing against ${target}/.`,
    skipped: (n: number) => `, ${n} skipped`,
    next: (what: string) => `next: ${what}`,
    aTestFileDoesNotLoad: 'a test file does not load',
    theTestsDoNotLoad: 'the tests do not load',
    anErrorOutsideTheTests: 'an error outside the tests (below)',
    notRunNeeds: (n: number, need: string) =>
      `not run: ${n} test${n === 1 ? '' : 's'} that need${n === 1 ? 's' : ''} ${need}, not found on this machine`,
    notRunMarked: (n: number) => `not run: ${n} test${n === 1 ? '' : 's'} marked to skip`,
    lesson: (number: string, title: string) => `Lesson ${number} · ${title}`,
    unhandled: (where: string, times: number) =>
      `an error no code handled (${where}${times > 1 ? `, ${times} times` : ''}):`,
    during: (test: string) => `during ${test}`,
    outsideAnyTest: 'outside any test',
    at: (where: string) => `at ${where}`,
    moreUnhandled: (n: number) => `… and ${n} more unhandled errors`,
    moreFailing: (n: number) => `… and ${n} more failing`,
    laterFailing: (n: number) => `… and ${n} more in later steps, for when you get there`,
    skippedTest: (name: string) => `skipped: ${name}`,
    states: {
      done: 'done',
      'in progress': 'in progress',
      'not started': 'not started',
      'does not compile': 'does not compile',
    },
    onStep: (step: number, of: number) => `in progress, step ${step} of ${of}`,
    doesNotCompile: (error: string) => `does not compile: ${error}`,
    yourProgress: 'your progress',
    everyLessonPasses: 'Every lesson passes. Well done!',
    solutionsAreIn: "The solutions are in each lesson's solution/.",
    nextLesson: (number: string, title: string) => `Next: lesson ${number} · ${title}`,
    read: (dir: string) => `  read   ${dir}/README.md  (or on the site: npm start)`,
    edit: (dir: string) => `  edit   ${dir}/exercise/  (the TODOs, in order)`,
    check: (verify: string, watch: string) => `  check  ${verify}  or keep ${watch} running`,
    stuck: (hint: string) => `  stuck? ${hint}`,
    doesNotCompileYet: 'Your code does not compile yet:',
    andMore: (n: number) => `  … and ${n} more`,
    lessonDone: (number: string) => `Lesson ${number} is done.`,
    nextVerify: (number: string, title: string, command: string) =>
      `Next: lesson ${number} · ${title}: ${command}`,
    lastLesson: 'That was the last lesson: the whole course passes.',
    stuckHint: (command: string) => `Stuck? ${command} gives the next hint.`,
    noHintNeeded: (number: string, command: string) =>
      `Lesson ${number} passes every test: no hint needed. ${command} shows the reference.`,
    hintHeading: (step: number, number: number, of: number) => `Step ${step}, hint ${number} of ${of}`,
    hintLesson: (number: string) => `lesson ${number}`,
    runAgain: 'Run it again',
    pressH: 'Press h',
    forHint: (again: string, next: number, step: number) => `${again} for hint ${next} of step ${step}.`,
    lastHint: (step: number, command: string) =>
      `That was step ${step}'s last hint. ${command} shows the whole reference.`,
    alreadyStarter: (number: string) => `Lesson ${number}'s exercise/ is already the starter as shipped.`,
    theseDiffer: (number: string) => `These files of lesson ${number} differ from the starter:`,
    putBack: 'Put the starter back? Your changes to them will be lost.',
    nothingChanged: 'Nothing changed.',
    backToStarter: (number: string) => `Lesson ${number} is back to its starter.`,
    lookAtSolution: (number: string) => `This shows the reference solution of lesson ${number}. Look?`,
    yourCode: 'your code',
    theSolution: 'the solution',
    answerWithYes: (question: string) => `${question} Answer by running the command again with --yes.`,
    yesNo: '[y/N]',
    yes: /^y(es)?$/i,
    whichLesson: 'which lesson? Name it by number (01) or name (tcp-client).',
    noLesson: (name: string, close: string[]) =>
      `there is no lesson '${name}'${close.length ? `: did you mean ${close.join(' or ')}?` : ''}`,
    noLessons: 'no lessons found under lessons/',
    programsAre: (number: string, programs: string[]) =>
      `lesson ${number}'s programs are: ${programs.join(', ')}`,
    unknownCommand: (command: string) => `unknown command '${command}'`,
    keptStarters: (ids: string[]) => `kept the starters of ${ids.join(', ')}`,
    languageIs: (lang: string, other: string) =>
      `The course speaks ${lang === 'en' ? 'English' : '简体中文'}. \`${other}\` changes it (the site: the switch at the top of each page).`,
    noSuchLanguage: (name: string, languages: readonly string[]) =>
      `there is no language '${name}': choose ${languages.join(' or ')}`,
    languageSet: 'The course speaks English from now on (COURSE_LANG still wins when set).',
    courseLangWins: (value: string) =>
      `COURSE_LANG=${value} is set in this shell, and wins over this choice.`,
    startersWritten: (numbers: string[]) =>
      `The starters of lessons ${numbers.join(', ')} now have their comments in English.`,
    startersKept: (numbers: string[], reset: string) =>
      `Lessons ${numbers.join(', ')} are your work and stay as they are (\`${reset} NN\` puts back the starter, in English).`,
    startersCanFollow: (command: string) => `The starters' comments can be in your language too: ${command}`,
    onTo: (number: string, title: string) => `On to lesson ${number} · ${title}`,
    reran: (afterSave: number, tests: number) =>
      ` (re-ran ${afterSave} ms after the save; the tests themselves ${tests} ms)`,
    watching: (id: string) => `watching lessons/${id}/ · save to re-run · h hint · n next lesson · q quit`,
    usage: (course: string) => `usage: ${course} [command]

  (nothing)                     the lessons, their state, and what to do next
  verify [lesson]               run a lesson's tests against your code
  watch [lesson] [--poll]       re-run a lesson's tests on every save, then go on to the next
                                (default: the lesson you are on; keys: h hint, n next, q quit)
  hint [lesson]                 the next hint for the step you are on, one at a time
  reset <lesson> [--yes]        put the lesson's starter back, exactly as shipped
  lang [en|zh-CN]               the course's language; the untouched starters' comments follow it
  solution <lesson> [--yes]     show how your files differ from the solution
  run <lesson> <program> [--solution] [flags]
                                run one of the lesson's programs, e.g. run 02 server --port 9000
  nc [-u] [-l] [--hex] [--trickle MS] [--send-empty] HOST PORT
                                a netcat for every system: stdin to HOST:PORT, the replies to
                                stdout (nc --help for more)

A lesson is named by number (01 or 1) or by name (tcp-client).
The course speaks English or 简体中文: \`lang\` chooses, COURSE_LANG=en or zh-CN overrides (default: your system's language).`,
  },

  /** The labels of a failed test's explanation (packages/helpers). */
  harness: {
    expected: 'expected',
    received: 'received',
    hint: 'hint',
    tryIt: 'try it yourself',
    nothing: 'nothing (0 bytes)',
    text: 'text',
    hex: 'hex',
    bytes: (n: number) => `${n} byte${n === 1 ? '' : 's'}`,
    todoFirst: (todo: string) => `${todo} is still to do: see the README step it names`,
    programAtTodo: (step: string) =>
      `the program stopped at TODO(${step}) in your code: finish step ${step} first (its own tests say what is missing); this test runs the whole program`,
    stillRunning: 'still running',
  },

  /** The words of the diagrams (site/src/diagrams): diagrams.en.ts. */
  diagrams: diagramsEn,
};
