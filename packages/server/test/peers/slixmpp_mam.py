# A one-shot slixmpp client for the archive tests: logs in, walks the
# account's archive with slixmpp's own XEP-0313 plugin (RSM pages of MAX),
# prints one JSON line per message and a last line with the count, and quits.
#
#   python3 slixmpp_mam.py JID PASSWORD HOST PORT MAX forward|reverse [WITH]
#   out: {"id": "...", "from": "...", "body": "..."} ... {"done": N}

import asyncio
import json
import ssl
import sys

import slixmpp
from slixmpp import JID


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Reader(slixmpp.ClientXMPP):
    def __init__(self, jid, password, page, reverse, with_jid):
        # COMPAT: PLAIN under TLS, as in slixmpp_peer.py (slixmpp's SCRAM-PLUS needs tls-unique).
        super().__init__(jid, password, sasl_mech="PLAIN")
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0059")
        self.register_plugin("xep_0313")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.page = page
        self.reverse = reverse
        self.with_jid = JID(with_jid) if with_jid else None
        self.add_event_handler("session_start", self.start)

    async def start(self, _event):
        count = 0
        try:
            async for message in self.plugin["xep_0313"].iterate(with_jid=self.with_jid, reverse=self.reverse, rsm={"max": self.page}):
                result = message["mam_result"]
                inner = result["forwarded"]["stanza"]
                emit(id=result["id"], **{"from": str(inner["from"]), "body": inner["body"], "stamp": str(result["forwarded"]["delay"]["stamp"])})
                count += 1
            emit(done=count)
        except Exception as error:  # reported to the test, which fails on it
            emit(error=repr(error))
        self.disconnect()


def main():
    jid, password, host, port, page, direction = sys.argv[1:7]
    with_jid = sys.argv[7] if len(sys.argv) > 7 else None
    reader = Reader(jid, password, int(page), direction == "reverse", with_jid)
    reader.add_event_handler("disconnected", lambda _e: asyncio.get_event_loop().stop())
    reader.add_event_handler("failed_auth", lambda _e: (emit(error="failed_auth"), reader.disconnect()))
    reader.connect((host, int(port)))
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
