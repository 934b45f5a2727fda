export * from './namespaces.ts';
export * from './errors.ts';
export * from './stanza.ts';
export * from './sasl.ts';
