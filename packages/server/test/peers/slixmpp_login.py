# Logs in with slixmpp's default settings (no sasl_mech, its own mechanism
# order, its own channel-binding choice) and reports how it went, as one
# JSON line: {"ev": "online", "jid": ...} or {"ev": "failed", "why": ...}.
# Only trust is configured: the test certificate is added to the CA store.
#
#   /usr/bin/python3 slixmpp_login.py JID PASSWORD HOST PORT CAFILE

import json
import sys

import slixmpp


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Login(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile):
        super().__init__(jid, password)
        self.ssl_context.load_verify_locations(cafile)
        self.failures = []
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _e: self.failures.append("failed_auth"))
        self.add_event_handler("failed_all_auth", self.failed_all)
        self.add_event_handler("disconnected", lambda _e: emit(ev="disconnected"))

    async def start(self, _event):
        emit(ev="online", jid=str(self.boundjid), failures=len(self.failures))
        self.disconnect()

    def failed_all(self, _event):
        emit(ev="failed", why="failed_all_auth", failures=len(self.failures))
        self.disconnect()


jid, password, host, port, cafile = sys.argv[1:6]
client = Login(jid, password, cafile)
client.connect((host, int(port)))
client.loop.run_until_complete(client.disconnected)
