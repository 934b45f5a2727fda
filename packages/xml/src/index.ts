export { Element, xml, type Attrs, type XmlNode } from './element.ts';
export { escapeAttr, escapeText } from './escape.ts';
export { StreamParser, type Framing, type StreamParserEvents } from './stream-parser.ts';
export { DEFAULT_LIMITS, type ParseFailure, type ParseFailureCondition, type ParserLimits } from './limits.ts';
export { parseElement } from './parse-element.ts';
