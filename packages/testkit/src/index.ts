export { freePort, waitForPort } from './ports.ts';
export { startProsody, type ProsodyServer } from './prosody.ts';
export { startProxy, type CuttableProxy } from './proxy.ts';
