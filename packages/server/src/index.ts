// Public entry of the server package: start a whole Switchboard (c2s, router, sm) in this process.
export { startServer, type RunningServer } from './server.ts';
export { type ServerConfig } from './config.ts';
