"""Proves the Kannel harness (sms_servers.py) itself, without trestle.

The fakesmsc line codec, the MO line builder and the MO URL template are
checked offline. Then a real Kannel 1.4.5 (bearerbox, smsbox, fakesmsc) runs
on loopback ports with a stdlib HTTP server (HttpRecorder) in trestle's
place: MT messages sent through sendsms reach fakesmsc with the right text
(GSM, UTF-8, UCS-2, concatenated); MO messages injected at fakesmsc reach
the webhook with the right fields (get-url and post-url, with and without
mo-recode) and are never answered to the phone; failed webhook calls are
retried; delivery reports reach the dlr-url (delivered, submitted, rejected,
and held while the phone is away). On a failing test the Kannel logs are
printed.

Run: python3 test_kannel_harness.py [unittest args]
"""

from __future__ import annotations

import re
import sys
import time
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from servers import install_exit_on_signals, port_is_listening  # noqa: E402
from sms_servers import (DEFAULT_MO_PARAMS, FAKESMSC_MAX_LINE, HttpRecorder,  # noqa: E402
                         KannelServers, MtAssembler, RecordedRequest, build_mo_url,
                         decode_kannel_text, mo_line, parse_mt_line, wait_for)

PHONE = "+15551234"
OURS = "+15550001"
TOKEN = "harness-token-0123456789"
MO_PATH = "/sms/sms.localhost/kannel/mo"
DLR_PATH = "/sms/sms.localhost/kannel/dlr"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Texts with the characters that matter: GSM, GSM extension, Latin, CJK,
# outside the BMP (a surrogate pair in UCS-2), and URL syntax.
MO_TEXTS = ["plain ascii", "héllo €", "日本語", "hi 😀", "a+b&c=d%e/f?g#h \"q\" <x>"]


class OfflineTests(unittest.TestCase):
    """The harness's own codecs, with no Kannel running."""

    def test_mo_line_picks_the_kind_a_phone_would_use(self) -> None:
        self.assertEqual(mo_line(PHONE, OURS, "héllo €"), f"{PHONE} {OURS} text héllo €")
        self.assertEqual(mo_line(PHONE, OURS, "日本"), f"{PHONE} {OURS} ucs2 e%E5g%2C")
        self.assertEqual(mo_line(PHONE, OURS, "a\nb"), f"{PHONE} {OURS} ucs2 %00a%00%0A%00b")
        self.assertEqual(mo_line(PHONE, OURS, b"\x00\xff"), f"{PHONE} {OURS} data %00%FF")
        self.assertEqual(mo_line(PHONE, OURS, "hi", kind="data"), f"{PHONE} {OURS} data hi")

    def test_mo_line_refuses_what_fakesmsc_cannot_carry(self) -> None:
        with self.assertRaises(ValueError):
            mo_line("+1 555", OURS, "x")
        with self.assertRaises(ValueError):
            mo_line(PHONE, OURS, "a\tb", kind="text")
        longest = "x" * (FAKESMSC_MAX_LINE - len(f"{PHONE} {OURS} text "))
        self.assertEqual(len(mo_line(PHONE, OURS, longest).encode()), FAKESMSC_MAX_LINE)
        with self.assertRaises(ValueError):
            mo_line(PHONE, OURS, longest + "x")

    def test_mo_url_template(self) -> None:
        self.assertEqual(build_mo_url("http://h/mo?token=t", DEFAULT_MO_PARAMS),
                         "http://h/mo?token=t&from=%p&to=%P&text=%b&charset=%C&coding=%c&id=%I")
        self.assertEqual(build_mo_url("http://h/mo", {"id": "%I"}), "http://h/mo?id=%I")
        self.assertEqual(build_mo_url("http://h/mo?x=%p", {}), "http://h/mo?x=%p")

    def test_parses_fakesmsc_mt_lines(self) -> None:
        text = parse_mt_line("+1 +2 text héllo € 100% <ok>")
        self.assertEqual((text.sender, text.receiver, text.kind), ("+1", "+2", "text"))
        self.assertEqual(text.payload.decode(), "héllo € 100% <ok>")
        self.assertEqual(parse_mt_line("+1 +2 text ").payload, b"")
        self.assertEqual(parse_mt_line("+1 +2 ucs-2 e%E5g%2C").payload.decode("utf-16-be"), "日本")
        self.assertEqual(parse_mt_line("+1 +2 data bin%00x+y").payload, b"bin\x00x y")
        part = parse_mt_line("+1 +2 udh %05%00%03%07%02%01 data abc")
        self.assertEqual((part.kind, part.udh, part.payload), ("udh", b"\x05\x00\x03\x07\x02\x01",
                                                               b"abc"))
        self.assertEqual(part.concatenation(), (7, 2, 1))
        self.assertEqual(parse_mt_line("+1 +2 udh %06%08%04%01%02%03%01 data x").concatenation(),
                         (0x0102, 3, 1))
        self.assertIsNone(parse_mt_line("second half of a line"))

    def test_assembles_parts_and_split_lines(self) -> None:
        mt = MtAssembler()
        mt.add("+1 +2 udh %05%00%03%09%02%02 data %00d")
        mt.add("+1 +2 text line1")
        mt.add("line2")
        mt.add("+1 +2 udh %05%00%03%09%02%01 data e%E5")
        self.assertEqual(len(mt.parts), 3)
        self.assertEqual([m.text for m in mt.messages], ["line1\nline2", "日d"])
        self.assertEqual(mt.messages[1].parts, 2)

    def test_decodes_texts_by_kannel_charset(self) -> None:
        self.assertEqual(decode_kannel_text("é€".encode(), "UTF-8"), "é€")
        self.assertEqual(decode_kannel_text("😀".encode("utf-16-be"), '"UTF-16BE"'), "😀")
        self.assertEqual(decode_kannel_text(b"\xe9", "8-BIT"), "é")


class KannelHarnessBase(unittest.TestCase):
    """One Kannel and one webhook recorder per class; each test starts from marks."""

    kannel_options: dict = {}
    web: HttpRecorder
    kannel: KannelServers

    @classmethod
    def setUpClass(cls) -> None:
        cls.web = HttpRecorder().start()
        cls.addClassCleanup(cls.web.stop)
        cls.kannel = KannelServers(cls.web.url(f"{MO_PATH}?token={TOKEN}"),
                                   **cls.kannel_options)
        cls.addClassCleanup(cls.kannel.cleanup)
        started = time.monotonic()
        cls.kannel.start()
        print(f"\n[kannel] up in {time.monotonic() - started:.1f}s: {cls.kannel.describe()}",
              file=sys.stderr)

    def setUp(self) -> None:
        if not self.kannel.running():
            self.kannel.start()
        self.web.default_answer = (200, b"")
        self.web_mark = self.web.mark()
        self.mt_mark = self.kannel.mark()

    def run(self, result=None):
        """Prints the Kannel logs when this test failed."""
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > before:
            print(f"\n--- kannel logs for {self.id()} ---\n{self.kannel.log_tail(60)}",
                  file=sys.stderr)
        return result

    # -- helpers -----------------------------------------------------------

    def mo(self, text, kind: str = "auto") -> RecordedRequest:
        """Injects one MO from PHONE to OURS and returns the webhook call it caused."""
        since = self.web.mark()
        self.kannel.inject_mo(PHONE, OURS, text, kind=kind)
        calls = self.web.wait(1, path=MO_PATH, since=since, detail=self.kannel.log_tail)
        self.assertEqual(len(calls), 1, calls)
        return calls[0]

    def send(self, text: str, *, to: str = PHONE, coding=None, **kwargs):
        """sendsms from OURS; asserts Kannel accepted it."""
        answer = self.kannel.sendsms(to, text, sender=OURS, coding=coding, **kwargs)
        self.assertEqual((answer.status, answer.body), (202, "0: Accepted for delivery"))
        return answer

    def dlr_url(self, message_id: str) -> str:
        """A dlr-url as trestle builds it: its own id plus Kannel's %d and %A."""
        return self.web.url(f"{DLR_PATH}?token={TOKEN}&id={message_id}&type=%d&answer=%A"
                            f"&phone=%p&ours=%P&smsc_id=%F")

    def reports(self, message_id: str, count: int, timeout: float = 10.0) -> dict[str, dict]:
        """Waits for `count` DLR calls for message_id; returns them by type."""
        calls = wait_for(lambda: self.dlr_calls(message_id), count, timeout,
                         f"reports for {message_id}", self.kannel.log_tail)
        self.assertEqual(len(calls), count, [c.query for c in calls])
        return {call.params()["type"]: call.params() for call in calls}

    def dlr_calls(self, message_id: str) -> list[RecordedRequest]:
        return [r for r in self.web.recorded(DLR_PATH) if r.params().get("id") == message_id]


class GetUrlTests(KannelHarnessBase):
    """get-url with trestle's query, mo-recode on; the SMSC refuses +999."""

    kannel_options = {"denied_prefixes": ["+999"], "max_messages": 10}

    def test_mt_ascii_reaches_the_phone(self) -> None:
        self.send("hello there")
        got = self.kannel.wait_mt(1, since=self.mt_mark)
        self.assertEqual((got[0].sender, got[0].receiver, got[0].kind, got[0].text),
                         (OURS, PHONE, "text", "hello there"))

    def test_mt_utf8_text_in_gsm_coding(self) -> None:
        self.send("héllo € [x]", coding=0)
        self.send("grüße", coding=None, charset=None)
        got = self.kannel.wait_mt(2, since=self.mt_mark)
        self.assertEqual([(m.kind, m.text) for m in got],
                         [("text", "héllo € [x]"), ("text", "grüße")])

    def test_mt_ucs2(self) -> None:
        self.send("日本語", coding=2)
        self.send("hi 😀", coding=2)
        got = self.kannel.wait_mt(2, since=self.mt_mark)
        self.assertEqual([(m.kind, m.text) for m in got], [("ucs-2", "日本語"), ("ucs-2", "hi 😀")])
        self.assertEqual(got[1].payload, "hi 😀".encode("utf-16-be"))

    def test_mt_non_gsm_text_in_gsm_coding_is_lost(self) -> None:
        self.send("日本語", coding=0)
        self.assertEqual(self.kannel.wait_mt(1, since=self.mt_mark)[0].text, "???")

    def test_long_mt_is_concatenated(self) -> None:
        gsm = "".join(str(i % 10) for i in range(200))
        cjk = "日本語" * 34
        self.send(gsm, coding=0)
        self.send(cjk, coding=2)
        got = self.kannel.wait_mt(2, since=self.mt_mark)
        self.assertEqual([(m.parts, m.text) for m in got], [(2, gsm), (2, cjk)])
        parts = self.kannel.mt_parts()[-4:]
        self.assertEqual([len(p.payload) for p in parts], [153, 47, 134, 70])

    def test_mt_over_max_messages_is_truncated(self) -> None:
        self.send("a" * 1600, coding=0)
        got = self.kannel.wait_mt(1, since=self.mt_mark)
        self.assertEqual((got[0].parts, got[0].text), (10, "a" * 1530))

    def test_sendsms_refusals(self) -> None:
        cases = [
            ({"password": "wrong"}, 403, "Authorization failed for sendsms"),
            ({"username": "nobody"}, 403, "Authorization failed for sendsms"),
            ({"to": None}, 400, "Missing receiver number, rejected"),
            ({"sender": None}, 400, "Sender missing and no global set, rejected"),
            ({"to": "abc"}, 400, "Number(s) has/have been denied by white- and/or black-lists."),
        ]
        for change, status, body in cases:
            fields = {"to": PHONE, "text": "x", "sender": OURS, **change}
            answer = self.kannel.sendsms(fields.pop("to"), fields.pop("text"), **fields)
            self.assertEqual((answer.status, answer.body), (status, body), change)
        self.kannel.assert_no_mt(1.5, since=self.mt_mark)

    def test_mo_reaches_the_webhook_with_trestles_fields(self) -> None:
        for text in MO_TEXTS:
            call = self.mo(text)
            params = call.params()
            self.assertEqual(call.method, "GET")
            self.assertEqual({k: params[k] for k in ("token", "from", "to", "text", "charset",
                                                     "coding")},
                             {"token": TOKEN, "from": PHONE, "to": OURS, "text": text,
                              "charset": "UTF-8", "coding": "0"}, call.query)
            self.assertRegex(params["id"], UUID)
        print(f"\n[kannel] get-url query for {MO_TEXTS[-1]!r}: {call.query}", file=sys.stderr)

    def test_mo_is_never_answered_to_the_phone(self) -> None:
        self.web.script((200, b"thanks"), (503, b"busy"), (404, b""))
        for i in range(3):
            self.mo(f"answer me {i}")
        self.kannel.assert_no_mt(3.0, since=self.mt_mark)

    def test_dlrs_delivered_and_submitted(self) -> None:
        message_id = uuid.uuid4().hex
        self.send("report this", dlr_mask=31, dlr_url=self.dlr_url(message_id))
        self.kannel.wait_mt(1, since=self.mt_mark)
        reports = self.reports(message_id, 2)
        self.assertEqual(set(reports), {"1", "8"})
        self.assertEqual(reports["8"]["answer"], "ACK/")
        self.assertEqual(reports["1"]["answer"], "")
        self.assertRegex(reports["1"]["smsc_id"], UUID)
        for report in reports.values():
            self.assertEqual((report["token"], report["phone"], report["ours"]),
                             (TOKEN, PHONE, OURS))

    def test_delivered_only_when_asked(self) -> None:
        delivered_id, submitted_id = uuid.uuid4().hex, uuid.uuid4().hex
        self.send("delivered only", dlr_mask=1, dlr_url=self.dlr_url(delivered_id))
        self.send("submitted only", dlr_mask=8, dlr_url=self.dlr_url(submitted_id))
        self.assertEqual(set(self.reports(delivered_id, 1)), {"1"})
        self.assertEqual(set(self.reports(submitted_id, 1)), {"8"})

    def test_long_mt_gets_one_report_pair(self) -> None:
        message_id = uuid.uuid4().hex
        self.send("z" * 400, dlr_mask=31, dlr_url=self.dlr_url(message_id))
        self.assertEqual(self.kannel.wait_mt(1, since=self.mt_mark)[0].parts, 3)
        self.assertEqual(set(self.reports(message_id, 2)), {"1", "8"})
        time.sleep(1.5)
        self.assertEqual(len(self.dlr_calls(message_id)), 2)

    def test_dlr_waits_until_the_phone_is_reachable(self) -> None:
        message_id = uuid.uuid4().hex
        self.kannel.disconnect_phone()
        answer = self.kannel.sendsms(PHONE, "while away", sender=OURS, dlr_mask=31,
                                     dlr_url=self.dlr_url(message_id))
        self.assertEqual((answer.status, answer.body), (202, "3: Queued for later delivery"))
        time.sleep(2.0)
        self.assertEqual(self.dlr_calls(message_id), [])
        self.kannel.connect_phone()
        self.assertEqual(self.kannel.wait_mt(1, since=self.mt_mark)[0].text, "while away")
        self.assertEqual(set(self.reports(message_id, 2)), {"1", "8"})

    def test_rejected_receiver_gets_type_16(self) -> None:
        message_id = uuid.uuid4().hex
        answer = self.kannel.sendsms("+9991234", "nowhere", sender=OURS, dlr_mask=31,
                                     dlr_url=self.dlr_url(message_id))
        self.assertEqual((answer.status, answer.body), (403, "Not routable. Do not try again."))
        reports = self.reports(message_id, 1)
        self.assertEqual(reports["16"]["answer"], "NACK/no SMSC")
        self.kannel.assert_no_mt(1.0, since=self.mt_mark)

    def test_graceful_stop_then_start(self) -> None:
        ports = self.kannel.listening_ports()
        self.assertEqual(self.kannel.stop(), 0, self.kannel.log_tail())
        self.assertFalse(any(port_is_listening(p) for p in ports))
        self.kannel.start()
        self.assertEqual(self.kannel.listening_ports(), ports)
        self.send("after restart")
        self.assertEqual(self.kannel.wait_mt(1, since=self.mt_mark)[0].text, "after restart")


class GetUrlRawUcs2Tests(KannelHarnessBase):
    """get-url without mo-recode: UCS-2 texts arrive as UTF-16BE bytes."""

    kannel_options = {"mo_recode": False}

    def test_ucs2_mo_arrives_as_utf16be(self) -> None:
        for text in ["日本語", "hi 😀", "héllo €"]:
            call = self.mo(text, kind="ucs2")
            raw = call.raw_params()
            self.assertEqual((raw["charset"], raw["coding"]), (b"UTF-16BE", b"2"))
            self.assertEqual(raw["text"], text.encode("utf-16-be"), call.query)
            self.assertEqual(decode_kannel_text(raw["text"], "UTF-16BE"), text)
        print(f"\n[kannel] raw UCS-2 query for {text!r}: {call.query}", file=sys.stderr)

    def test_gsm_mo_still_arrives_as_utf8(self) -> None:
        params = self.mo("héllo €").params()
        self.assertEqual((params["text"], params["charset"], params["coding"]),
                         ("héllo €", "UTF-8", "0"))


class PostUrlTests(KannelHarnessBase):
    """post-url without mo-recode, and smsbox retrying failed webhook calls."""

    kannel_options = {"mo_method": "post", "mo_recode": False, "http_request_retry": 2,
                      "http_queue_delay": 1}

    def test_post_carries_the_text_in_the_body(self) -> None:
        call = self.mo("héllo €")
        self.assertEqual(call.method, "POST")
        self.assertEqual(call.body, "héllo €".encode())
        self.assertEqual(call.headers["content-type"], 'text/plain; charset="UTF-8"')
        self.assertEqual((call.headers["x-kannel-from"], call.headers["x-kannel-to"],
                          call.headers["x-kannel-coding"], call.headers["x-kannel-smsc"]),
                         (PHONE, OURS, "0", "fake"))
        self.assertNotIn("x-kannel-charset", call.headers)
        params = call.params()
        self.assertEqual((params["token"], params["charset"]), (TOKEN, "UTF-8"))
        self.assertRegex(params["id"], UUID)

    def test_post_ucs2_body_is_utf16be(self) -> None:
        call = self.mo("日本語 😀", kind="ucs2")
        self.assertEqual(call.headers["content-type"], 'text/plain; charset="UTF-16BE"')
        self.assertEqual(call.headers["x-kannel-coding"], "2")
        self.assertEqual(decode_kannel_text(call.body, call.params()["charset"]), "日本語 😀")

    def test_failed_webhook_call_is_retried_with_the_same_id(self) -> None:
        self.web.script((503, b"busy"), (500, b""))
        since = self.web.mark()
        self.kannel.inject_mo(PHONE, OURS, "retry me")
        calls = self.web.wait(3, path=MO_PATH, since=since, detail=self.kannel.log_tail)
        self.assertEqual(len({c.query for c in calls}), 1)
        self.assertEqual({c.body for c in calls}, {b"retry me"})
        time.sleep(2.0)
        self.assertEqual(len(self.web.recorded(MO_PATH, since)), 3)
        self.kannel.assert_no_mt(0.5, since=self.mt_mark)


if __name__ == "__main__":
    install_exit_on_signals()
    unittest.main(verbosity=2)
