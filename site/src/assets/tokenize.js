// The search's words, the same when the index is built (Node) and when a reader types (the
// browser): a plain script that sets one global, so that it also runs from disk (file://).
// Latin words are split at anything that is not a letter or digit (half-close: half, close).
// Chinese has no spaces, and a dictionary does not help here: Intl.Segmenter (ICU 78) cuts 黏包 into
// 黏|包 and 端口复用 into four single characters, and another engine's ICU may cut differently from
// the one that built the index. So every run of Chinese characters becomes its overlapping pairs
// (端口复用: 端口, 口复, 复用): a query's pairs are found exactly where the same text is.
globalThis.courseTokenize = (text) => {
  const tokens = [];
  for (const [run] of String(text).matchAll(/\p{Script=Han}+|(?:(?!\p{Script=Han})[\p{L}\p{N}_])+/gu)) {
    if (!/\p{Script=Han}/u.test(run)) {
      tokens.push(run);
      continue;
    }
    const chars = [...run];
    if (chars.length === 1) tokens.push(run);
    for (let i = 0; i + 1 < chars.length; i++) tokens.push(chars[i] + chars[i + 1]);
  }
  return tokens;
};
