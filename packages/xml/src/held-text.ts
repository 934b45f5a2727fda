// The text of an unfinished stanza, kept between reads at a cost close to its
// length. Appending each read to one string would make a rope with a node per
// read (some 32 bytes each: a peer sending a byte per read would still cost
// ~32 bytes a byte), and a list of reads a header and a slot per read. So the
// reads are kept as blocks, merged as a binary counter merges its digits: a
// block is joined with the one before it while it is at least as long. There
// are never more than ~log2(length) blocks, and each character is copied
// ~log2(length) times at most.

export class HeldText {
  /** Flat strings, each shorter than the one before it. */
  private readonly blocks: string[] = [];
  /** Characters held. */
  length = 0;

  constructor(
    /** Absolute position (in characters of the stream) of the first character. */
    private readonly start: number,
    first: string,
  ) {
    // `first` is a slice of the write it began in, which it would keep alive: held as a copy
    // (V8 slices strings of 13 characters or more; the slice of a fresh concatenation refers only to it).
    this.add(first.length < 13 ? first : (' ' + first).slice(1));
  }

  /** A whole read (its own string, not a slice of a larger one). */
  add(text: string): void {
    if (text === '') return;
    const blocks = this.blocks;
    blocks.push(text);
    this.length += text.length;
    while (blocks.length >= 2 && blocks[blocks.length - 1]!.length >= blocks[blocks.length - 2]!.length) {
      const last = blocks.pop()!;
      blocks.push([blocks.pop()!, last].join(''));
    }
  }

  /** The text from the start up to the absolute position `end`, as one string. */
  take(end: number): string {
    return this.blocks.join('').slice(0, end - this.start);
  }
}
