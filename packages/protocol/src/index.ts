export * from './namespaces.ts';
export * from './errors.ts';
export * from './stanza.ts';
export * from './sasl.ts';
export * from './xep0004.ts';
export * from './xep0059.ts';
export * from './xep0297.ts';
export * from './xep0313.ts';
