// The Node-only adapters: SOCKS5 sockets (XEP-0065 over node:net) and
// incremental hashing (node:crypto). Import from '@switchboard/jingle/node'.

export { nodeSocks5 } from './file-transfer/node-socks5.ts';
export { nodeHasher } from './file-transfer/node-hash.ts';
