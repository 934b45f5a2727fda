// The transition table is the issue's, exactly.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, type ConnectionState } from './states.ts';

const ALL: ConnectionState[] = ['Disconnected', 'Retrying', 'Connected', 'StreamInit', 'Authenticate', 'Bind', 'Binding', 'Binded'];

it('allows exactly the transitions of the state machine', () => {
  const allowed = ALL.flatMap((from) => ALL.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
  assert.deepEqual(allowed.sort(), [
    'Authenticate→Bind', 'Authenticate→Disconnected', 'Authenticate→Retrying',
    'Bind→Binding', 'Bind→Disconnected', 'Bind→Retrying',
    'Binded→Disconnected', 'Binded→Retrying',
    'Binding→Binded', 'Binding→Disconnected', 'Binding→Retrying',
    'Connected→Disconnected', 'Connected→Retrying', 'Connected→StreamInit',
    'Disconnected→Connected', 'Disconnected→Retrying',
    'Retrying→Connected', 'Retrying→Disconnected', 'Retrying→Retrying',
    'StreamInit→Authenticate', 'StreamInit→Disconnected', 'StreamInit→Retrying',
  ].sort());
});
