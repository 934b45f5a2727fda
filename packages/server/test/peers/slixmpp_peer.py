# A slixmpp client driven over stdin/stdout by the server's tests: one JSON
# command a line in, one JSON event a line out. Carbons (xep_0280) and CSI
# (xep_0352) are its own plugins; nothing here imitates the server.
#
#   python3 slixmpp_peer.py JID PASSWORD HOST PORT
#   in:  {"cmd": "send", "to": "...", "body": "...", "type": "chat"}
#        {"cmd": "carbons", "enable": true} | {"cmd": "quit"}
#   out: {"ev": "online"} {"ev": "carbons", "enabled": true}
#        {"ev": "message"|"carbon_received"|"carbon_sent", "from", "to", "body"}

import asyncio
import json
import ssl
import sys

import slixmpp


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        # COMPAT: slixmpp binds SCRAM-*-PLUS to tls-unique, which TLS 1.3 lacks, and its plain SCRAM
        # then sends the gs2 flag 'y' while the server offers -PLUS, which RFC 5802 §6 refuses as a
        # downgrade. PLAIN under TLS is what is left.
        super().__init__(jid, password, sasl_mech="PLAIN")
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0280")
        self.register_plugin("xep_0352")
        # The test server's certificate is self-signed, made for the run.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("carbon_received", lambda m: self.on_carbon("carbon_received", m["carbon_received"]))
        self.add_event_handler("carbon_sent", lambda m: self.on_carbon("carbon_sent", m["carbon_sent"]))

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        emit(ev="online", jid=str(self.boundjid))
        asyncio.get_event_loop().add_reader(sys.stdin, self.on_command)

    def on_message(self, msg):
        # slixmpp raises carbons as their own events; a plain message has no carbon child.
        if msg.xml.find("{urn:xmpp:carbons:2}received") is not None or msg.xml.find("{urn:xmpp:carbons:2}sent") is not None:
            return
        emit(ev="message", **{"from": str(msg["from"]), "to": str(msg["to"]), "body": msg["body"], "type": msg["type"]})

    def on_carbon(self, kind, inner):
        emit(ev=kind, **{"from": str(inner["from"]), "to": str(inner["to"]), "body": inner["body"]})

    def on_command(self):
        line = sys.stdin.readline()
        if not line:
            self.disconnect()
            return
        command = json.loads(line)
        asyncio.ensure_future(self.run_command(command))

    async def run_command(self, command):
        name = command["cmd"]
        if name == "send":
            self.send_message(mto=command["to"], mbody=command["body"], mtype=command.get("type", "chat"))
            emit(ev="sent", body=command["body"])
        elif name == "carbons":
            if command["enable"]:
                await self.plugin["xep_0280"].enable()
            else:
                await self.plugin["xep_0280"].disable()
            emit(ev="carbons", enabled=command["enable"])
        elif name == "quit":
            self.disconnect()


def main():
    jid, password, host, port = sys.argv[1:5]
    peer = Peer(jid, password)
    peer.add_event_handler("disconnected", lambda _e: asyncio.get_event_loop().stop())
    peer.add_event_handler("failed_auth", lambda _e: emit(ev="failed_auth"))
    peer.connect((host, int(port)))
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
