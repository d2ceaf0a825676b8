// Words as the server's search sees them (SPEC: runs of Unicode letters and digits,
// accents kept), to mark what a search matched; and the server's rules for an emoji.

// The combining accents U+0300–U+0331 stay inside a word, as the server's index keeps them.
const WORD = /[\p{L}\p{Nd}\u0300-\u0331]+/gu;
const LETTER_OR_DIGIT = /[\p{L}\p{Nd}]/u;
const EXCERPT_BEFORE = 60;

/** The words of a search query, lower case, each once. */
export function queryWords(query) {
  const words = (String(query).match(WORD) ?? []).filter((word) => LETTER_OR_DIGIT.test(word));
  return [...new Set(words.map((word) => word.toLowerCase()))];
}

/** A query the server takes: 1–200 code points with a letter or a digit. */
export function searchable(query) {
  const length = [...query].length;
  return length >= 1 && length <= 200 && LETTER_OR_DIGIT.test(query);
}

/**
 * `text` cut in pieces, `{text, match}`, where `match` marks the start of a word that a
 * query word begins (ignoring case): what the search found.
 */
export function matchPieces(text, words) {
  const pieces = [];
  let last = 0;
  for (const found of text.matchAll(WORD)) {
    const word = found[0];
    const lower = word.toLowerCase();
    let longest = 0;
    for (const query of words) if (query.length > longest && lower.startsWith(query)) longest = query.length;
    if (!longest) continue;
    // Lower case of the same length: mark the prefix; otherwise (rare letters) the word.
    const length = lower.length === word.length ? longest : word.length;
    if (found.index > last) pieces.push({ text: text.slice(last, found.index), match: false });
    pieces.push({ text: text.slice(found.index, found.index + length), match: true });
    last = found.index + length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), match: false });
  return pieces;
}

/** Up to `max` characters of `text` around its first match, with … where it was cut. */
export function excerpt(text, words, max = 320) {
  if (text.length <= max) return text;
  let start = 0;
  let at = 0;
  for (const piece of matchPieces(text, words)) {
    if (piece.match) {
      start = Math.max(0, at - EXCERPT_BEFORE);
      const space = text.lastIndexOf(' ', start);
      if (start > 0 && space > start - 20) start = space + 1;
      break;
    }
    at += piece.text.length;
  }
  const end = Math.min(text.length, start + max);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}

/**
 * Why `text` cannot be a reaction (the server's rules: 1–32 code points, no white space,
 * control character or `/`, valid Unicode), or '' when it can.
 */
export function emojiProblem(text) {
  const length = [...text].length;
  if (length === 0) return 'Type an emoji or a short word.';
  if (length > 32) return 'A reaction is at most 32 characters.';
  if (/[\s\p{Cc}/]/u.test(text)) return 'A reaction has no spaces or slashes.';
  if (/\p{Cs}/u.test(text)) return 'That is not a character that can be sent.';
  return '';
}
