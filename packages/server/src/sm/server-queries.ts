// iq requests the server itself sends to clients (caps discovery for PEP),
// matched with their answers by id.

import { xml, type Element } from '@switchboard/xml';

export class ServerQueries {
  private readonly waiting = new Map<string, (answer: Element | undefined) => void>();
  private nextId = 0;

  constructor(
    private readonly domain: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Sends `payload` in an iq get with `send`; resolves with the result, or undefined on error or timeout. */
  ask(to: string, payload: Element, send: (iq: Element) => void): Promise<Element | undefined> {
    const id = `sb-q${++this.nextId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      timer.unref();
      this.waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      send(xml('iq', { type: 'get', id, from: this.domain, to }, payload));
    });
  }

  /** Takes an iq result or error addressed to the server; true if it answered one of our queries. */
  answer(stanza: Element): boolean {
    const id = stanza.attrs.id;
    const type = stanza.attrs.type;
    if (id === undefined || (type !== 'result' && type !== 'error')) return false;
    const resolve = this.waiting.get(id);
    if (!resolve) return false;
    this.waiting.delete(id);
    resolve(type === 'result' ? stanza : undefined);
    return true;
  }
}
