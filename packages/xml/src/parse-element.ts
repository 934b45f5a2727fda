import { Element } from './element.ts';
import { StreamParser } from './stream-parser.ts';
import type { ParseFailure, ParserLimits } from './limits.ts';

/** Parses one standalone element (fixtures, envelopes off the wire). Returns the failure instead of throwing. */
export function parseElement(text: string, limits: Partial<ParserLimits> = {}): Element | ParseFailure {
  let result: Element | ParseFailure | undefined;
  const parser = new StreamParser(
    {
      streamOpen: () => {},
      streamClose: () => {},
      element: (el) => {
        result = el;
      },
      failure: (f) => {
        result = f;
      },
    },
    'websocket',
    { maxStanzaSize: Number.MAX_SAFE_INTEGER, ...limits },
  );
  parser.writeMessage(text);
  return result ?? { condition: 'not-well-formed', text: 'no element' };
}
