// XEP-0114 Jabber Component Protocol, the server side of one connection:
// stream header to a configured component domain, the SHA-1 handshake with
// the shared secret, then stanzas both ways. `from` must be in the
// component's domain (RFC 6120 §4.9.3.9 invalid-from otherwise).

import { createHash } from 'node:crypto';
import { Element, StreamParser, xml } from '@switchboard/xml';
import { NS_COMPONENT, streamError, streamErrorElement, type StreamError } from '@switchboard/protocol';
import type { C2sTransport } from '../c2s/transport.ts';


export interface ComponentConfig {
  domain: string;
  secret: string;
}

export interface ComponentStreamHost {
  config(domain: string): ComponentConfig | undefined;
  /** The handshake succeeded; false if another connection already serves the domain. */
  online(stream: ComponentStream): boolean;
  fromComponent(stream: ComponentStream, stanza: Element): void;
  offline(stream: ComponentStream): void;
}

let counter = 0;

export class ComponentStream {
  readonly id = `comp${(++counter).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  domain: string | undefined;
  state: 'awaitingStream' | 'awaitingHandshake' | 'established' | 'closed' = 'awaitingStream';
  private readonly parser: StreamParser;

  constructor(
    private readonly transport: C2sTransport,
    private readonly host: ComponentStreamHost,
  ) {
    this.parser = new StreamParser({
      streamOpen: (attrs) => this.onOpen(attrs),
      element: (el) => this.onElement(el),
      streamClose: () => this.close(),
      failure: (f) => this.fail(streamError(f.condition, f.text)),
    });
    transport.setEvents({ data: (t) => this.parser.write(t), close: () => this.close(), idle: () => {} });
  }

  private onOpen(attrs: Record<string, string>): void {
    const domain = attrs.to;
    this.transport.openStream({ id: this.id, from: domain ?? '' });
    if (attrs.xmlns !== NS_COMPONENT) return this.fail(streamError('invalid-namespace'));
    if (!domain || !this.host.config(domain)) return this.fail(streamError('host-unknown'));
    this.domain = domain;
    this.state = 'awaitingHandshake';
  }

  private onElement(el: Element): void {
    if (this.state === 'awaitingHandshake') {
      if (el.name !== 'handshake') return this.fail(streamError('not-authorized'));
      const secret = this.host.config(this.domain!)!.secret;
      const expected = createHash('sha1').update(this.id + secret).digest('hex');
      // XEP-0114 §3: a wrong secret is not-authorized.
      if (el.text().trim().toLowerCase() !== expected) return this.fail(streamError('not-authorized'));
      if (!this.host.online(this)) return this.fail(streamError('conflict', 'another connection serves this domain'));
      this.state = 'established';
      this.transport.send(xml('handshake'));
      return;
    }
    if (this.state !== 'established') return;
    if (el.name !== 'message' && el.name !== 'presence' && el.name !== 'iq') return this.fail(streamError('unsupported-stanza-type'));
    const from = el.attrs.from;
    const at = from ? from.indexOf('@') : -1;
    const slash = from ? from.indexOf('/') : -1;
    const fromDomain = from === undefined ? undefined : from.slice(at + 1, slash > at ? slash : undefined);
    // The component speaks for its own domain only.
    if (fromDomain !== this.domain) return this.fail(streamError('invalid-from'));
    this.host.fromComponent(this, el.withAttrs({ xmlns: undefined }));
  }

  deliver(stanza: Element): void {
    if (this.state === 'established') this.transport.send(stanza);
  }

  private fail(err: StreamError): void {
    if (this.state === 'closed') return;
    this.transport.send(streamErrorElement(err));
    this.close();
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasOnline = this.state === 'established';
    this.state = 'closed';
    this.transport.closeStream();
    if (wasOnline) this.host.offline(this);
  }
}
