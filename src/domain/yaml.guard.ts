import { CST, isAlias, isCollection, isPair, isScalar, Lexer, type Document } from 'yaml';

/**
 * Limits for YAML that comes from outside (the charter, SLO documents, import
 * maps), checked before the `yaml` package is asked to build anything. The
 * package's composer and `toJS` recurse once per level of nesting, and a
 * document thousands of levels deep exhausts the stack — on Node 20 this can
 * even abort the process while V8 compiles a regular expression. Aliases
 * (`*name`) are expanded by `toJS`, so a few hundred bytes of nested aliases
 * (a "billion laughs") become billions of values. So: the size of the text, an
 * upper bound of its nesting read from the tokens alone (the lexer does not
 * recurse), then what every alias expands to, before `toJS`.
 */

/** The limits of one kind of YAML input. */
export interface YamlLimits {
  /** Largest text, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest nesting of collections, aliases expanded. */
  maxDepth: number;
  /** Most values (scalars and collections) once aliases are expanded. */
  maxNodes: number;
  /** Most anchors (`&name`) and aliases (`*name`) together. */
  maxAnchors: number;
}

export const MIB = 1024 * 1024;

/** The limits used unless a caller sets others: generous for any hand-written file. */
export const DEFAULT_YAML_LIMITS: Readonly<YamlLimits> = Object.freeze({
  maxBytes: MIB,
  maxDepth: 64,
  maxNodes: 1_000_000,
  maxAnchors: 1_000,
});

/** A limit the YAML goes over, with the offset in the text to point at. */
export interface YamlLimitProblem {
  offset: number;
  message: string;
}

const formatBytes = (bytes: number): string =>
  bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes.toLocaleString('en-US')} bytes`;

/** The UTF-8 length of a string, without allocating it. */
export const utf8Length = (text: string): number => {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
};

/** The sentence for a text over `maxBytes`. */
const tooLargeMessage = (bytes: number, maxBytes: number): string =>
  `is ${formatBytes(bytes)}; Lanes reads at most ${formatBytes(maxBytes)}`;

const INDICATORS = new Set<string>(['seq-item-ind', 'explicit-key-ind', 'map-value-ind']);
const BLANK = new Set<string>(['space', 'newline', 'comment', 'byte-order-mark']);

/**
 * An upper bound of the nesting depth at every token, from the lexer alone.
 * In block context a collection nested `n` levels deep starts at column
 * `n / 2` or more (a sequence may share its parent key's column, nothing
 * else may), so the first content of a line at column `c` is at most
 * `2 (c + 1)` deep; a flow collection adds at most two levels (a pair and
 * its collection) per bracket.
 */
const nestingTooDeep = (text: string, limit: number): number | undefined => {
  let offset = 0;
  let col = 0;
  let flow = 0;
  let flowBase = 0;
  let lineDepth = 0;
  let lineHasContent = false;
  let scalarNext = false;
  for (const token of new Lexer().lex(text)) {
    // Markers are not source text; a SCALAR marker announces that the next token is a scalar's source.
    if (token === CST.SCALAR) scalarNext = true;
    if (token === CST.SCALAR || token === CST.DOCUMENT || token === CST.FLOW_END) continue;
    const type = scalarNext ? 'scalar' : (CST.tokenType(token) ?? 'scalar');
    scalarNext = false;
    if (!BLANK.has(type)) {
      if (flow === 0 && !lineHasContent) {
        lineDepth = 2 * (col + 1);
        if (!INDICATORS.has(type)) lineHasContent = true;
      }
      if (type === 'flow-seq-start' || type === 'flow-map-start') {
        if (flow === 0) flowBase = lineDepth;
        flow++;
      } else if ((type === 'flow-seq-end' || type === 'flow-map-end') && flow > 0) flow--;
      if ((flow > 0 ? flowBase + 2 * flow : lineDepth) > limit) return offset;
    }
    offset += token.length;
    const newline = token.lastIndexOf('\n');
    if (newline < 0) col += token.length;
    else {
      col = token.length - newline - 1;
      if (flow === 0) lineHasContent = false;
    }
  }
  return undefined;
};

/**
 * Checks YAML text before it is parsed: its size, and that its nesting
 * cannot go deeper than the limit (an upper bound read from the tokens; a
 * file indented more than about `2 × maxDepth` columns is refused too).
 */
export const yamlTextProblem = (
  text: string,
  what: string,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): YamlLimitProblem | undefined => {
  // Bytes ≥ UTF-16 units, and ≤ 3 × units: measure only when it can matter.
  if (text.length > limits.maxBytes)
    return { offset: 0, message: `${what} ${tooLargeMessage(utf8Length(text), limits.maxBytes)}` };
  if (text.length * 3 > limits.maxBytes) {
    const bytes = utf8Length(text);
    if (bytes > limits.maxBytes) return { offset: 0, message: `${what} ${tooLargeMessage(bytes, limits.maxBytes)}` };
  }
  const deep = nestingTooDeep(text, limits.maxDepth * 4);
  if (deep !== undefined)
    return {
      offset: deep,
      message: `${what} is nested or indented too deeply here; Lanes reads at most ${limits.maxDepth} levels`,
    };
  return undefined;
};

interface Size {
  nodes: number;
  depth: number;
}

class LimitExceeded extends Error {
  constructor(readonly problem: YamlLimitProblem) {
    super(problem.message);
  }
}

/**
 * Checks parsed YAML documents (sharing one budget) before `toJS`: counts what
 * each alias expands to and how deep, and refuses aliases to a node that
 * contains them (a cycle) or to no anchor. Run `yamlTextProblem` first: this
 * walk recurses once per level of the document as written.
 */
export const yamlDocumentsProblem = (
  docs: readonly Document[],
  what: string,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): YamlLimitProblem | undefined => {
  let total = 0;
  let anchorsAndAliases = 0;
  const fail = (node: unknown, message: string): never => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    throw new LimitExceeded({ offset: range?.[0] ?? 0, message: `${what} ${message}` });
  };
  const check = (node: unknown, size: Size): Size => {
    if (size.nodes > limits.maxNodes)
      fail(node, `expands to more than ${limits.maxNodes.toLocaleString('en-US')} values (through its aliases)`);
    if (size.depth > limits.maxDepth) fail(node, `is nested more than ${limits.maxDepth} levels deep`);
    return size;
  };
  const anchorOrAlias = (node: unknown): void => {
    if (++anchorsAndAliases > limits.maxAnchors) fail(node, `has more than ${limits.maxAnchors} anchors and aliases`);
  };
  for (const doc of docs) {
    // Anchor name → what it expands to, or 'open' while its own node is being walked.
    const anchors = new Map<string, Size | 'open'>();
    const walk = (node: unknown): Size => {
      if (node === null || node === undefined) return { nodes: 0, depth: 0 };
      if (isAlias(node)) {
        anchorOrAlias(node);
        const target = anchors.get(node.source);
        if (target === undefined) fail(node, `uses the alias *${node.source} before its anchor &${node.source}`);
        if (target === 'open') fail(node, `uses the alias *${node.source} inside its own anchor (a cycle)`);
        return check(node, target as Size);
      }
      const anchor = isScalar(node) || isCollection(node) ? node.anchor : undefined;
      if (anchor !== undefined) {
        anchorOrAlias(node);
        anchors.set(anchor, 'open');
      }
      let size: Size = { nodes: 1, depth: 0 };
      if (isCollection(node)) {
        let nodes = 1;
        let depth = 0;
        for (const item of node.items) {
          const parts = isPair(item) ? [walk(item.key), walk(item.value)] : [walk(item)];
          for (const part of parts) {
            nodes += part.nodes;
            depth = Math.max(depth, part.depth);
          }
        }
        size = check(node, { nodes, depth: depth + 1 });
      }
      if (anchor !== undefined) anchors.set(anchor, size);
      return size;
    };
    try {
      total += walk(doc.contents).nodes;
      if (total > limits.maxNodes) check(doc.contents, { nodes: total, depth: 0 });
    } catch (error) {
      if (error instanceof LimitExceeded) return error.problem;
      throw error;
    }
  }
  return undefined;
};

/** Line and column (1-based) of an offset, for problems found before the YAML is parsed. */
export const textPosition = (text: string, offset: number): { line: number; col: number } => {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
};

/**
 * `doc.toJS()` for a document that passed `yamlDocumentsProblem`. The `yaml`
 * package's own alias check (`maxAliasCount`) is off: the walk above bounds
 * the expansion exactly, while that check walks the whole document again for
 * every anchor it meets.
 */
export const yamlToJs = (doc: Document): unknown => doc.toJS({ maxAliasCount: -1 });
