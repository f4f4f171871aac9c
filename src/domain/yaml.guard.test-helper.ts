/** The "billion laughs": ten anchors, each nine aliases of the one before — 9^9 strings from 700 bytes. */
export const BILLION_LAUGHS = [
  'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  ...Array.from({ length: 9 }, (_, i) => {
    const [from, to] = [String.fromCharCode(97 + i), String.fromCharCode(98 + i)];
    return `${to}: &${to} [${Array.from({ length: 9 }, () => `*${from}`).join(', ')}]`;
  }),
].join('\n');
