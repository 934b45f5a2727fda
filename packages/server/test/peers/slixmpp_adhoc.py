# XEP-0133 service administration from slixmpp's own plugins (xep_0030,
# xep_0004, xep_0050, xep_0133): lists the server's commands, adds a user
# through add-user (execute, then complete with the filled-in form), reads
# get-online-users-list, get-registered-users-num and get-user-lastlogin,
# and prints one JSON line per step. A refused step
# prints {"ev": "error", "step": ..., "condition": ...} and the run stops.
#
#   /usr/bin/python3 slixmpp_adhoc.py JID PASSWORD HOST PORT NEW_JID NEW_PASSWORD

import json
import ssl
import sys

import slixmpp
from slixmpp.exceptions import IqError

ADMIN = "http://jabber.org/protocol/admin#"


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Admin(slixmpp.ClientXMPP):
    def __init__(self, jid, password, new_jid, new_password):
        # COMPAT: as slixmpp_peer.py, PLAIN under TLS (slixmpp's -PLUS binds tls-unique, which TLS 1.3 lacks).
        super().__init__(jid, password, sasl_mech="PLAIN")
        for plugin in ("xep_0030", "xep_0004", "xep_0050", "xep_0133"):
            self.register_plugin(plugin)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.new_jid = new_jid
        self.new_password = new_password
        self.add_event_handler("session_start", self.start)

    async def run_command(self, name, fields):
        adhoc = self["xep_0050"]
        server = self.boundjid.server
        first = await adhoc.send_command(server, ADMIN + name, action="execute")
        command = first["command"]
        emit(ev="executing", command=name, status=command["status"],
             fields=list(command["form"].get_fields().keys()) if command["status"] == "executing" else [])
        if command["status"] != "executing":
            return command
        form = self["xep_0004"].make_form(ftype="submit")
        for var, value in fields.items():
            form.add_field(var=var, value=value)
        done = await adhoc.send_command(server, ADMIN + name, action="complete", payload=form, sessionid=command["sessionid"])
        return done["command"]

    async def start(self, _event):
        self.send_presence()
        step = "commands"
        try:
            items = await self["xep_0133"].get_commands()
            emit(ev="commands", nodes=sorted(item[1] for item in items["disco_items"]["items"]))
            step = "add-user"
            done = await self.run_command("add-user", {
                "FORM_TYPE": "http://jabber.org/protocol/admin",
                "accountjid": self.new_jid,
                "password": self.new_password,
                "password-verify": self.new_password,
            })
            emit(ev="completed", command="add-user", status=done["status"],
                 note=done.xml.findtext("{http://jabber.org/protocol/commands}note"))
            step = "get-online-users-list"
            done = await self.run_command("get-online-users-list", {"max_items": "100"})
            values = done["form"].get_fields()["onlineuserjids"]["value"]
            emit(ev="completed", command="get-online-users-list", status=done["status"], jids=sorted(str(v) for v in values))
            step = "get-registered-users-num"
            done = await self.run_command("get-registered-users-num", {})
            emit(ev="completed", command="get-registered-users-num", status=done["status"],
                 count=done["form"].get_fields()["registeredusersnum"]["value"])
            step = "get-user-lastlogin"
            done = await self.run_command("get-user-lastlogin", {"accountjids": [self.boundjid.bare, self.new_jid]})
            fields = done["form"].get_fields()
            emit(ev="completed", command="get-user-lastlogin", status=done["status"],
                 jids=[str(v) for v in fields["accountjids"]["value"]], lastlogin=fields["lastlogin"]["value"])
        except IqError as err:
            emit(ev="error", step=step, condition=err.iq["error"]["condition"])
        except Exception as err:  # anything else: said, and the run ends instead of hanging
            emit(ev="crash", step=step, why=repr(err))
        finally:
            self.disconnect()


def main():
    jid, password, host, port, new_jid, new_password = sys.argv[1:7]
    client = Admin(jid, password, new_jid, new_password)
    client.connect((host, int(port)))
    client.loop.run_until_complete(client.disconnected)


if __name__ == "__main__":
    main()
