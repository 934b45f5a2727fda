// RFC 6120 §13.12 (denial of service): a server bounds what one peer can make
// it hold in memory. These are the knobs; the parser enforces them.

export interface ParserLimits {
  /** Largest stanza, in characters of its serialised form. Default 256 KiB. */
  maxStanzaSize: number;
  /** Deepest element nesting inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
  /** Most attributes on one element. */
  maxAttributes: number;
  /**
   * Estimated bytes of heap the tree of a stanza left unfinished by a read may
   * keep between reads; past it only the stanza's text is kept (stream-parser.ts). 32 KiB.
   */
  maxHeldTree: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxStanzaSize: 256 * 1024,
  maxDepth: 32,
  maxAttributes: 64,
  maxHeldTree: 32 * 1024,
};

/** The three ways a peer's XML can be refused; each is an RFC 6120 §4.9.3 stream error condition. */
export type ParseFailureCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'invalid-namespace';

export interface ParseFailure {
  condition: ParseFailureCondition;
  text: string;
}
