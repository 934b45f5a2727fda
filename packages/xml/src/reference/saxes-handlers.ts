// COMPAT (saxes 6 on V8): `SaxesParser#on(name, fn)` stores the handler with
// a computed key (`this[HANDLER_NAME[name]] = fn`). V8 allows only a few
// properties to be added to an object by keyed stores before it turns the
// object into a slow dictionary, and the eighth handler crosses that line: the
// parser then runs at about a fifth of its speed (bench/micro.ts measured ~20
// against ~120 million characters a second), and so does every other saxes
// instance that shares its code. Assigning the same fields by name keeps the
// object fast. The field names are checked once against `on()`; if a saxes
// release renames them, this falls back to `on()` (slow, still correct).

import { SaxesParser, type SaxesTagPlain } from 'saxes';

export interface SaxesHandlers {
  doctype(): void;
  comment(): void;
  processinginstruction(): void;
  error(err: Error): void;
  opentag(tag: SaxesTagPlain): void;
  closetag(tag: SaxesTagPlain): void;
  text(text: string): void;
  cdata(text: string): void;
}

/** Where saxes 6 keeps each handler. */
interface HandlerFields {
  doctypeHandler: SaxesHandlers['doctype'];
  commentHandler: SaxesHandlers['comment'];
  piHandler: SaxesHandlers['processinginstruction'];
  errorHandler: SaxesHandlers['error'];
  openTagHandler: SaxesHandlers['opentag'];
  closeTagHandler: SaxesHandlers['closetag'];
  textHandler: SaxesHandlers['text'];
  cdataHandler: SaxesHandlers['cdata'];
}

const FIELD_OF: Record<keyof SaxesHandlers, keyof HandlerFields> = {
  doctype: 'doctypeHandler',
  comment: 'commentHandler',
  processinginstruction: 'piHandler',
  error: 'errorHandler',
  opentag: 'openTagHandler',
  closetag: 'closeTagHandler',
  text: 'textHandler',
  cdata: 'cdataHandler',
};

/** Whether `on()` stores each handler in the field named above (exported for a test that notices a saxes upgrade). */
export const FIELDS_MATCH = ((): boolean => {
  const probe = new SaxesParser();
  return (Object.keys(FIELD_OF) as (keyof SaxesHandlers)[]).every((event) => {
    const marker = (): void => {};
    probe.on(event, marker);
    return (probe as unknown as Record<string, unknown>)[FIELD_OF[event]] === marker;
  });
})();

export function attachHandlers(sax: SaxesParser, h: SaxesHandlers): void {
  if (!FIELDS_MATCH) {
    sax.on('doctype', h.doctype);
    sax.on('comment', h.comment);
    sax.on('processinginstruction', h.processinginstruction);
    sax.on('error', h.error);
    sax.on('opentag', h.opentag);
    sax.on('closetag', h.closetag);
    sax.on('text', h.text);
    sax.on('cdata', h.cdata);
    return;
  }
  // Named stores, one per line, on purpose: a loop would be a keyed store again.
  const fields = sax as unknown as HandlerFields;
  fields.doctypeHandler = h.doctype;
  fields.commentHandler = h.comment;
  fields.piHandler = h.processinginstruction;
  fields.errorHandler = h.error;
  fields.openTagHandler = h.opentag;
  fields.closeTagHandler = h.closetag;
  fields.textHandler = h.text;
  fields.cdataHandler = h.cdata;
}
