// Two administration commands of this server's own, beside XEP-0133's (whose
// get-online-users-list gives bare JIDs and nothing about a session, and
// which has no command for the process's numbers): the session table and a
// few live figures. The web console (packages/console) reads both; any
// XEP-0050 client can run them. They complete at once with a result form.
//
//   urn:switchboard:admin:0#sessions  one row per session (XEP-0004 §3.4 table):
//                                     jid, available, show, priority
//   urn:switchboard:admin:0#stats     sessions, onlineusers, accounts,
//                                     stanzas-in, stanzas-out (this process's c2s),
//                                     eventloop-lag-p99-ms, eventloop-lag-max-ms,
//                                     uptime-seconds, rss-bytes

import type { AdminOperations } from '../../../admin/operations.ts';
import { stanzaCounts } from '../../../diagnostics.ts';
import { eventLoopLag } from '../../../ops/event-loop-lag.ts';
import { dataForm, type Field } from './data-form.ts';
import type { AdhocCommand } from './xep0133.ts';

export const NS_SWITCHBOARD_ADMIN = 'urn:switchboard:admin:0';

const formType: Field = { var: 'FORM_TYPE', type: 'hidden', values: [NS_SWITCHBOARD_ADMIN] };
const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

export function switchboardCommands(operations: () => AdminOperations): AdhocCommand[] {
  return [
    {
      node: `${NS_SWITCHBOARD_ADMIN}#sessions`,
      name: 'List Sessions',
      run: async () => ({
        result: dataForm('result', {
          title: 'Sessions',
          fields: [formType],
          table: {
            columns: [
              { var: 'jid', type: 'jid-single', label: 'Full JID' },
              { var: 'available', type: 'boolean', label: 'Available' },
              { var: 'show', type: 'text-single', label: 'Show' },
              { var: 'priority', type: 'text-single', label: 'Priority' },
            ],
            rows: operations()
              .listSessions()
              .map((s) => ({ jid: s.jid, available: s.available ? '1' : '0', show: s.show ?? '', priority: String(s.priority) })),
          },
        }),
      }),
    },
    {
      node: `${NS_SWITCHBOARD_ADMIN}#stats`,
      name: 'Server Statistics',
      async run() {
        const stats = await operations().stats();
        const lag = eventLoopLag();
        const figures: [string, string, number][] = [
          ['sessions', 'Sessions', stats.sessions],
          ['onlineusers', 'Online users', stats.onlineUsers],
          ['accounts', 'Accounts', stats.accounts],
          ['stanzas-in', 'Stanzas in (this process)', sum(stanzaCounts.in)],
          ['stanzas-out', 'Stanzas out (this process)', sum(stanzaCounts.out)],
          ['eventloop-lag-p99-ms', 'Event-loop lag, p99 (ms)', Math.round(lag.p99Ms * 10) / 10],
          ['eventloop-lag-max-ms', 'Event-loop lag, max (ms)', Math.round(lag.maxMs * 10) / 10],
          ['uptime-seconds', 'Uptime (s)', stats.uptimeSeconds],
          ['rss-bytes', 'Resident memory (bytes)', stats.rssBytes],
        ];
        return { result: dataForm('result', { title: 'Server statistics', fields: [formType, ...figures.map(([v, label, n]): Field => ({ var: v, type: 'text-single', label, values: [String(n)] }))] }) };
      },
    },
  ];
}
