export { Jid, jid, makeJid, parseJid, type JidResult } from './jid.ts';
export { prepareLocalpart, prepareResourcepart } from './precis.ts';
export { prepareDomainpart } from './domain.ts';
