# A slixmpp client using its own XEP-0045 plugin (xep_0045), driven over
# stdin/stdout by the MUC tests: one JSON command a line in, one JSON event a
# line out, each event line prefixed with "EV " (the plugin prints to stdout
# on its own, so the driver reads only prefixed lines).
#
#   python3 slixmpp_muc.py JID PASSWORD HOST PORT

import asyncio
import json
import ssl
import sys

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.exceptions import IqError, PresenceError


def emit(**event):
    sys.stdout.write("EV " + json.dumps(event) + "\n")
    sys.stdout.flush()


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        # COMPAT: see slixmpp_peer.py, PLAIN under TLS.
        super().__init__(jid, password, sasl_mech="PLAIN")
        for plugin in ("xep_0030", "xep_0045", "xep_0004", "xep_0050", "xep_0203", "xep_0249"):
            self.register_plugin(plugin)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("groupchat_message", self.on_groupchat)
        self.add_event_handler("groupchat_presence", self.on_presence)
        self.add_event_handler("groupchat_invite", self.on_invite)
        self.add_event_handler("groupchat_direct_invite", self.on_direct_invite)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("groupchat_message_error", self.on_message_error)

    async def start(self, _event):
        self.send_presence()
        emit(ev="online", jid=str(self.boundjid))
        asyncio.get_event_loop().add_reader(sys.stdin, self.on_command)

    def on_groupchat(self, msg):
        if msg["body"]:
            emit(ev="groupchat", **{"from": str(msg["from"]), "body": msg["body"], "delayed": msg.xml.find("{urn:xmpp:delay}delay") is not None})

    def on_presence(self, pr):
        # slixmpp 1.8 has no XEP-0317 plugin: the hats are read from the stanza's XML.
        hats = [{"uri": h.get("uri"), "title": h.get("title"), "hue": h.get("hue")} for h in pr.xml.findall("{urn:xmpp:hats:0}hats/{urn:xmpp:hats:0}hat")]
        emit(ev="presence", **{"from": str(pr["from"]), "type": pr["type"], "codes": sorted(pr["muc"]["status_codes"]), "role": pr["muc"]["role"], "affiliation": pr["muc"]["affiliation"], "hats": hats})

    def on_invite(self, msg):
        emit(ev="invite", room=str(msg["from"]), inviter=str(msg["muc"]["invite"]["from"]), reason=msg["muc"]["invite"]["reason"])

    def on_direct_invite(self, msg):
        emit(ev="direct_invite", room=str(msg["groupchat_invite"]["jid"]), inviter=str(msg["from"]))

    def on_message_error(self, msg):
        emit(ev="message_error", **{"from": str(msg["from"]), "condition": msg["error"]["condition"]})

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"] and msg.xml.find("{http://jabber.org/protocol/muc#user}x") is not None:
            emit(ev="private", **{"from": str(msg["from"]), "body": msg["body"]})

    def on_command(self):
        line = sys.stdin.readline()
        if not line:
            self.disconnect()
            return
        asyncio.ensure_future(self.run_command(json.loads(line)))

    async def run_command(self, c):
        muc = self.plugin["xep_0045"]
        name = c["cmd"]
        try:
            if name == "join":
                pres, subject, occupants, history = await muc.join_muc_wait(
                    c["room"], c["nick"], password=c.get("password"), maxstanzas=c.get("maxstanzas"), timeout=5
                )
                emit(ev="joined", room=c["room"], codes=sorted(pres["muc"]["status_codes"]), role=pres["muc"]["role"],
                     occupants=sorted(p["from"].resource for p in occupants), history=[m["body"] for m in history], subject=subject["subject"])
            elif name == "configure":
                form = await muc.get_room_config(c["room"])
                fields = form.get_fields()
                for var, value in c.get("fields", {}).items():
                    fields[var]["value"] = value
                await muc.set_room_config(c["room"], form)
                emit(ev="configured", room=c["room"])
            elif name == "say":
                self.send_message(mto=c["room"], mbody=c["body"], mtype="groupchat")
            elif name == "pm":
                self.send_message(mto=c["to"], mbody=c["body"], mtype="chat")
            elif name == "affiliation":
                await muc.set_affiliation(c["room"], c["affiliation"], jid=c["jid"], reason=c.get("reason", ""))
                emit(ev="done", cmd=name)
            elif name == "role":
                await muc.set_role(c["room"], c["nick"], c["role"], reason=c.get("reason", ""))
                emit(ev="done", cmd=name)
            elif name == "invite":
                muc.invite(c["room"], c["jid"], c.get("reason", ""))
            elif name == "direct_invite":
                self.plugin["xep_0249"].send_invitation(c["jid"], c["room"], reason=c.get("reason"))
            elif name == "destroy":
                await muc.destroy(c["room"], reason=c.get("reason", ""), altroom=c.get("altroom"))
                emit(ev="done", cmd=name)
            elif name == "register":
                # XEP-0045 §7.10: jabber:iq:register with the muc#register form, to the room.
                iq = self.make_iq_set(ito=c["room"])
                query = ET.Element("{jabber:iq:register}query")
                form = self.plugin["xep_0004"].make_form(ftype="submit")
                form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/muc#register")
                form.add_field(var="muc#register_roomnick", value=c["nick"])
                query.append(form.xml)
                iq.append(query)
                await iq.send(timeout=5)
                emit(ev="done", cmd=name)
            elif name == "adhoc":
                # XEP-0050 with slixmpp's xep_0050: execute, fill in the form it answers, complete.
                adhoc = self.plugin["xep_0050"]
                first = await adhoc.send_command(c["to"], c["node"], timeout=5)
                command = first["command"]
                if command["status"] == "executing":
                    form = command["form"]
                    answer = self.plugin["xep_0004"].make_form(ftype="submit")
                    for var in form.get_fields():
                        if var == "FORM_TYPE":
                            answer.add_field(var=var, ftype="hidden", value=form.get_fields()[var]["value"])
                        elif var in c.get("fields", {}):
                            answer.add_field(var=var, value=c["fields"][var])
                    done = await adhoc.send_command(c["to"], c["node"], action="complete", payload=answer, sessionid=command["sessionid"], timeout=5)
                    command = done["command"]
                rows = [dict(item) for item in command["form"]["items"]] if command.xml.find("{jabber:x:data}x") is not None else []
                emit(ev="adhoc", node=c["node"], status=command["status"], rows=rows)
            elif name == "request_voice":
                muc.request_voice(c["room"], "participant")
            elif name == "leave":
                muc.leave_muc(c["room"], c["nick"])
            elif name == "quit":
                self.disconnect()
        except PresenceError as e:
            emit(ev="error", cmd=name, condition=e.condition)
        except IqError as e:
            emit(ev="error", cmd=name, condition=e.condition)
        except Exception as e:  # noqa: BLE001 - reported to the test as an event
            emit(ev="error", cmd=name, condition=type(e).__name__, text=str(e))


def main():
    jid, password, host, port = sys.argv[1:5]
    peer = Peer(jid, password)
    peer.add_event_handler("disconnected", lambda _e: asyncio.get_event_loop().stop())
    peer.add_event_handler("failed_auth", lambda _e: emit(ev="failed_auth"))
    peer.connect((host, int(port)))
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
