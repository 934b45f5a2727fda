import type { ScramCredentials } from '../../storage/ports.ts';
import type { SaslContext, SaslMechanism } from './mechanism.ts';
import { PlainMechanism } from './plain.ts';
import { ScramMechanism } from './scram.ts';

export type MechanismName = 'SCRAM-SHA-256-PLUS' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'PLAIN';

/** Strongest first: the order the features list them in. */
export function offeredMechanisms(options: { channelBinding: boolean; plainAllowed: boolean }): MechanismName[] {
  const names: MechanismName[] = [];
  if (options.channelBinding) names.push('SCRAM-SHA-256-PLUS');
  names.push('SCRAM-SHA-256', 'SCRAM-SHA-1');
  if (options.plainAllowed) names.push('PLAIN');
  return names;
}

export function createMechanism(
  name: MechanismName,
  context: SaslContext,
  lookup: (username: string) => Promise<ScramCredentials | undefined>,
): SaslMechanism {
  switch (name) {
    case 'SCRAM-SHA-256-PLUS':
      return new ScramMechanism('sha256', true, context, lookup);
    case 'SCRAM-SHA-256':
      return new ScramMechanism('sha256', false, context, lookup);
    case 'SCRAM-SHA-1':
      return new ScramMechanism('sha1', false, context, lookup);
    case 'PLAIN':
      return new PlainMechanism(context, lookup);
  }
}
