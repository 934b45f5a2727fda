export { freePort, waitForPort } from './ports.ts';
export { startProsody, type ProsodyOptions, type ProsodyServer } from './prosody.ts';
export { startProxy, type CuttableProxy } from './proxy.ts';
export { startScriptedServer, type ScriptedConnection, type ScriptedServer } from './scripted-server.ts';
export { startDnsServer, type DnsServer, type SrvAnswer } from './dns-server.ts';
export { CHROMIUM, launchChromium, servePage, type ServedPage } from './browser.ts';
export { startEjabberd, ejabberdInstalled, type EjabberdOptions, type EjabberdServer } from './ejabberd.ts';
export { startNatsServer, NATS_SERVER, type NatsServer } from './nats.ts';
export { selfSignedCertificate } from './certificate.ts';
