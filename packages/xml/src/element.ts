import { escapeAttr, escapeText } from './escape.ts';

export type Attrs = Record<string, string>;
export type XmlNode = Element | string;

/**
 * The prototype of every attribute map we make: no properties, no prototype
 * of its own. A map made from it stays in V8's fast mode (hidden classes,
 * inline caches), which an `Object.create(null)` map never is, and no name
 * from the wire meets an inherited property: `constructor` and `__proto__`
 * are attributes like any other.
 */
const ATTRS_PROTOTYPE: object = Object.create(null);

/** An empty attribute map (see ATTRS_PROTOTYPE). */
export function emptyAttrs(): Attrs {
  return Object.create(ATTRS_PROTOTYPE) as Attrs;
}

/**
 * An XML element as XMPP uses it: a qualified name, attributes as written
 * (including xmlns declarations) and ordered children. Namespaces are kept
 * the way ltx keeps them: a stanza without its own xmlns inherits the
 * stream's default namespace wherever it is serialised.
 */
export class Element {
  readonly name: string;
  readonly attrs: Attrs;
  readonly children: XmlNode[];

  constructor(name: string, attrs: Attrs = emptyAttrs(), children: XmlNode[] = []) {
    this.name = name;
    this.attrs = attrs;
    this.children = children;
  }

  get xmlns(): string | undefined {
    return this.attrs.xmlns;
  }

  /** The local part of the name, without any prefix. */
  get localName(): string {
    const colon = this.name.indexOf(':');
    return colon < 0 ? this.name : this.name.slice(colon + 1);
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  is(name: string, xmlns?: string): boolean {
    return this.name === name && (xmlns === undefined || this.attrs.xmlns === xmlns);
  }

  getChild(name: string, xmlns?: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.is(name, xmlns)) return child;
    }
    return undefined;
  }

  getChildren(name?: string, xmlns?: string): Element[] {
    const out: Element[] = [];
    for (const child of this.children) {
      if (typeof child === 'string') continue;
      if (name === undefined || child.is(name, xmlns)) out.push(child);
    }
    return out;
  }

  /** The first child element in the given namespace, whatever its name. */
  getChildByNamespace(xmlns: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.attrs.xmlns === xmlns) return child;
    }
    return undefined;
  }

  /** Concatenated text of direct text children. */
  text(): string {
    let out = '';
    for (const child of this.children) if (typeof child === 'string') out += child;
    return out;
  }

  getChildText(name: string, xmlns?: string): string | undefined {
    return this.getChild(name, xmlns)?.text();
  }

  append(...children: (XmlNode | undefined | null | false)[]): this {
    for (const child of children) if (child !== undefined && child !== null && child !== false) this.children.push(child);
    return this;
  }

  /** A shallow copy with its own attribute map, so `from`/`to` can be restamped without touching the original. */
  withAttrs(changes: Record<string, string | undefined>): Element {
    // Built key by key in the original order, without `delete`, which would turn the map into a slow dictionary.
    const attrs = emptyAttrs();
    for (const key in this.attrs) {
      const value = Object.hasOwn(changes, key) ? changes[key] : this.attrs[key];
      if (value !== undefined) attrs[key] = value;
    }
    for (const key in changes) {
      const value = changes[key];
      if (value !== undefined && !(key in attrs)) attrs[key] = value;
    }
    return new Element(this.name, attrs, this.children);
  }

  clone(): Element {
    return new Element(
      this.name,
      Object.assign(emptyAttrs(), this.attrs),
      this.children.map((c) => (typeof c === 'string' ? c : c.clone())),
    );
  }

  /** Opening tag only, e.g. a stream header; the caller owns the close. */
  openTag(): string {
    return `<${this.name}${serializeAttrs(this.attrs)}>`;
  }

  toString(): string {
    return serialize(this);
  }
}

function serializeAttrs(attrs: Attrs): string {
  let out = '';
  for (const key in attrs) {
    const value = attrs[key];
    if (value === undefined) continue;
    out += ` ${key}="${escapeAttr(value)}"`;
  }
  return out;
}

function serialize(el: Element): string {
  const open = `<${el.name}${serializeAttrs(el.attrs)}`;
  if (el.children.length === 0) return open + '/>';
  let out = open + '>';
  for (const child of el.children) out += typeof child === 'string' ? escapeText(child) : serialize(child);
  return out + `</${el.name}>`;
}

type Child = XmlNode | undefined | null | false | readonly Child[];

/** Builder: xml('message', { to }, xml('body', {}, text)). Text is escaped on output. */
export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element {
  const clean = emptyAttrs();
  if (attrs) for (const key in attrs) if (attrs[key] !== undefined) clean[key] = attrs[key] as string;
  const el = new Element(name, clean);
  appendAll(el, children);
  return el;
}

function appendAll(el: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendAll(el, child);
    else el.children.push(child as XmlNode);
  }
}
