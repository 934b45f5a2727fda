// The package's Node entry (package.json exports: `import`, `default`): the
// client with Node's transports, TCP (STARTTLS, XEP-0368 direct TLS, SRV) and
// WebSocket through the ws package. Browsers get browser.ts instead.

import { Client as PlatformClient, type ClientOptions } from './client.ts';
import { NODE_PLATFORM } from './transport/node-platform.ts';

export * from './api.ts';

export class Client extends PlatformClient {
  constructor(options: ClientOptions) {
    super(options, NODE_PLATFORM);
  }
}
