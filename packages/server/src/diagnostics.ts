// Observability outside the hook chain, as undici does it: subscribers attach
// to these channels with node:diagnostics_channel and cost nothing otherwise.

import { channel } from 'node:diagnostics_channel';

export const channels = {
  c2sOpen: channel('switchboard:c2s:open'),
  c2sClose: channel('switchboard:c2s:close'),
  c2sAuthenticated: channel('switchboard:c2s:authenticated'),
  /** Every failed or refused SASL attempt (auth/auth-log.ts AuthFailure). */
  c2sAuthFailed: channel('switchboard:c2s:auth-failed'),
  smSessionStarted: channel('switchboard:sm:session-started'),
  smSessionEnded: channel('switchboard:sm:session-ended'),
  smDeliver: channel('switchboard:sm:deliver'),
};
