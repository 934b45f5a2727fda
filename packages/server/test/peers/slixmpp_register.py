# Registers an account in band with slixmpp (xep_0077 + xep_0004), answering
# the XEP-0158 CAPTCHA of the registration form as a person would (the `qa`
# field's label is the question), then logs in with it. One JSON line per
# step: {"ev": "form", "fields": [...]}, {"ev": "registered"} or
# {"ev": "refused", "condition": ...}, then {"ev": "online", "jid": ...}.
# WRONG=1 answers wrongly.
#
#   /usr/bin/python3 slixmpp_register.py JID PASSWORD HOST PORT CAFILE [WRONG]

import json
import re
import sys

import slixmpp
from slixmpp.exceptions import IqError

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def solve(question):
    m = re.match(r"What is ([a-z]+) (plus|minus) ([a-z]+)\?", question)
    a, b = WORDS.index(m.group(1)), WORDS.index(m.group(3))
    return a + b if m.group(2) == "plus" else a - b


class Register(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile, wrong):
        super().__init__(jid, password)
        self.ssl_context.load_verify_locations(cafile)
        self.wrong = wrong
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0077")
        self["xep_0077"].force_registration = True
        # slixmpp 1.8.3 holds back every stanza but bind until a session
        # starts, its own registration iqs included ("NOT SENT"); let them go
        # until the account exists (a private switch; its tests set it too).
        self._always_send_everything = True
        self.add_event_handler("register", self.register)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_all_auth", lambda _e: (emit(ev="failed"), self.disconnect()))

    async def register(self, iq):
        form = iq["register"]["form"]
        fields = form.get_fields()
        emit(ev="form", fields=sorted(fields.keys()))
        answer = solve(fields["qa"]["label"]) + (1 if self.wrong else 0)
        submit = self["xep_0004"].make_form(ftype="submit")
        for var in ("FORM_TYPE", "from", "challenge", "sid"):
            submit.add_field(var=var, value=fields[var]["value"])
        submit.add_field(var="username", value=self.boundjid.user)
        submit.add_field(var="password", value=self.password)
        submit.add_field(var="qa", value=str(answer))
        resp = self.Iq()
        resp["type"] = "set"
        resp["register"].append(submit)
        try:
            await resp.send()
            self._always_send_everything = False
            emit(ev="registered")
        except IqError as e:
            emit(ev="refused", condition=e.iq["error"]["condition"])
            self.disconnect()

    async def start(self, _event):
        emit(ev="online", jid=str(self.boundjid))
        self.disconnect()


jid, password, host, port, cafile = sys.argv[1:6]
client = Register(jid, password, cafile, len(sys.argv) > 6 and sys.argv[6] == "1")
client.connect((host, int(port)))
client.loop.run_until_complete(client.disconnected)
