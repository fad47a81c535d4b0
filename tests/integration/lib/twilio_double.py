"""A local stand-in for Twilio's Programmable Messaging REST API (2010-04-01).

TwilioDouble serves, on a loopback port, what trestle's Twilio dialect calls:

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json

with HTTP Basic authentication (account sid and auth token; a wrong pair is
answered 401 with Twilio's error 20003), the form fields To, From, Body,
MediaUrl and StatusCallback, Twilio's validation errors (21604 no To, 21211
a To that is not E.164, 21603 no From, 21606 a From the account does not
own, 21602 no Body, 21617 a Body over 1600 characters, 21609 a bad
StatusCallback), and 201 with a Message resource for an accepted message.

After accepting a message it posts status callbacks to its StatusCallback
URL the way Twilio does: form-encoded, signed with X-Twilio-Signature
(base64 of HMAC-SHA1 keyed by the auth token over the full URL followed by
the sorted parameters' names and values). The default sequence is "sent"
then "delivered"; fail_number() makes one destination end "undelivered" or
"failed" with an ErrorCode; answer_next() makes the next sends answer 503 or
429. send_inbound() posts a signed inbound-message webhook, as Twilio does
when a phone texts one of the account's numbers.

Callbacks are posted from one worker thread (never the server's), in order,
with a short timeout; every callback's HTTP status (or error) is recorded.
Only the standard library is used; run with Debian's /usr/bin/python3.

The signature is computed here from Twilio's documentation, independently of
trestle's C++ code. `python3 twilio_double.py --self-test` checks it against
Twilio's documented example and exercises the double end to end.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import http.client
import json
import queue
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable, Optional, Sequence

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
MAX_REQUEST_BYTES = 1024 * 1024
MAX_BODY_CHARS = 1600
# Twilio's error codes for the failures a test can script.
UNREACHABLE_HANDSET = 30003
UNKNOWN_ERROR = 30006  # "Landline or unreachable carrier"
FAILURE_STATUSES = ("undelivered", "failed")


def twilio_signature(auth_token: str, url: str,
                     params: Iterable[tuple[str, str]] = ()) -> str:
    """X-Twilio-Signature of a request to `url` with POST `params`.

    Twilio's "Webhooks security": take the full URL of the request (with its
    query), append each POST parameter's name and value, sorted by name (and
    by value for a repeated name), HMAC-SHA1 the result with the auth token
    as the key, and base64 the digest.
    """
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def new_sid(prefix: str) -> str:
    """A Twilio-style id: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822_now() -> str:
    """Twilio's date format: "Thu, 24 Aug 2023 05:01:45 +0000"."""
    return email.utils.format_datetime(datetime.now(timezone.utc).replace(microsecond=0))


def count_segments(body: str) -> int:
    """Roughly how Twilio counts segments: 160/153 characters for ASCII,
    70/67 for anything else (the GSM-7 table is not modelled)."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    if len(body) <= single:
        return 1
    return -(-len(body) // part)


@dataclass
class SentMessage:
    """One message the double accepted (answered 201)."""

    sid: str
    from_: str
    to: str
    body: str
    status_callback: str
    media_urls: list[str]
    date_created: str
    # The statuses posted to status_callback so far, in order.
    statuses: list[str] = field(default_factory=list)


@dataclass
class SendAttempt:
    """One POST to Messages.json, accepted or not."""

    status: int
    form: list[tuple[str, str]]
    answer: dict


@dataclass
class CallbackRecord:
    """One status callback the double posted."""

    url: str
    params: list[tuple[str, str]]
    # The receiver's HTTP status; 0 when no answer came (see `error`).
    status: int
    error: str = ""

    def value(self, name: str) -> Optional[str]:
        """The first parameter called `name`, or None."""
        return next((v for n, v in self.params if n == name), None)


def _error(status: int, code: int, message: str) -> dict:
    """Twilio's JSON error body."""
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


class TwilioDouble:
    """The fake Twilio API on 127.0.0.1; start() it, point trestle's
    `api_base_url` at base_url, stop() it (or use `with`)."""

    def __init__(self, account_sid: Optional[str] = None, auth_token: Optional[str] = None, *,
                 numbers: Optional[Iterable[str]] = None, callback_delay: float = 0.05,
                 callback_timeout: float = 5.0):
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        # The account's own numbers; None: any From is accepted.
        self.numbers = set(numbers) if numbers is not None else None
        self.callback_delay = callback_delay
        self.callback_timeout = callback_timeout
        self.messages: list[SentMessage] = []
        self.attempts: list[SendAttempt] = []
        self.callbacks: list[CallbackRecord] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._failures: dict[str, tuple[str, int]] = {}
        self._forced: list[int] = []
        self._jobs: queue.Queue = queue.Queue()
        self._server: Optional[ThreadingHTTPServer] = None
        self._threads: list[threading.Thread] = []

    # Life cycle.

    def start(self) -> "TwilioDouble":
        """Listens on a free loopback port and starts the callback worker."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="twilio-double-http",
                             kwargs={"poll_interval": 0.1}, daemon=True),
            threading.Thread(target=self._callback_worker, name="twilio-double-callbacks",
                             daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stops serving; callbacks not yet posted are dropped."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def __enter__(self) -> "TwilioDouble":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:{port}`, for trestle's api_base_url."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    # Scripting.

    def fail_number(self, number: str, code: int = UNKNOWN_ERROR,
                    status: str = "undelivered") -> None:
        """Messages to `number` end `status` ("undelivered": after "sent";
        "failed": at once) with ErrorCode `code`."""
        if status not in FAILURE_STATUSES:
            raise ValueError(f"status must be one of {FAILURE_STATUSES}")
        with self._lock:
            self._failures[number] = (status, code)

    def deliver_number(self, number: str) -> None:
        """Undoes fail_number()."""
        with self._lock:
            self._failures.pop(number, None)

    def answer_next(self, count: int, status: int = 503) -> None:
        """The next `count` sends are answered `status` (503 or 429) and
        not accepted, whatever they carry."""
        if status not in (429, 503):
            raise ValueError("status must be 429 or 503")
        with self._lock:
            self._forced.extend([status] * count)

    def answer_normally(self) -> None:
        """Undoes answer_next(): the next sends are served again."""
        with self._lock:
            self._forced.clear()

    # Waiting.

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition"):
        """Waits until predicate() (called under the lock) returns something
        other than None; returns that or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value is not None:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"twilio double: no {what} within {timeout} s")
                self._changed.wait(left)

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[SentMessage]:
        """The first `count` accepted messages, once there are that many."""
        return self.wait_for(
            lambda: list(self.messages[:count]) if len(self.messages) >= count else None,
            timeout, f"{count} accepted messages")

    def wait_for_callbacks(self, count: int, timeout: float = 10.0) -> list[CallbackRecord]:
        """The first `count` status callbacks posted, once there are that many."""
        return self.wait_for(
            lambda: list(self.callbacks[:count]) if len(self.callbacks) >= count else None,
            timeout, f"{count} status callbacks")

    # Inbound messages (a phone texts the account).

    def send_inbound(self, url: str, from_: str, to: str, body: str,
                     media: Sequence[tuple[str, str]] = (), sid: Optional[str] = None, *,
                     signing: str = "valid", extra: Sequence[tuple[str, str]] = (),
                     timeout: float = 10.0) -> tuple[int, str]:
        """Posts Twilio's inbound-message webhook to `url` and returns the
        receiver's (status, body); (0, reason) when no answer came.

        `media` is a list of (MediaUrl, MediaContentType). `signing` is
        "valid", "wrong" (a signature made with another token) or "missing"
        (no X-Twilio-Signature header). `extra` fields are added last.
        """
        sid = sid or new_sid("MM" if media else "SM")
        params = [
            ("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", sid),
            ("NumMedia", str(len(media))), ("ToCity", "SAN FRANCISCO"), ("FromZip", "94103"),
            ("SmsSid", sid), ("FromState", "CA"), ("SmsStatus", "received"),
            ("FromCity", "SAN FRANCISCO"), ("Body", body), ("FromCountry", "US"), ("To", to),
            ("ToZip", "94107"), ("NumSegments", str(count_segments(body))),
            ("MessageSid", sid), ("AccountSid", self.account_sid), ("From", from_),
            ("ApiVersion", API_VERSION),
        ]
        for n, (media_url, content_type) in enumerate(media):
            params += [(f"MediaContentType{n}", content_type), (f"MediaUrl{n}", media_url)]
        params += list(extra)
        if signing == "valid":
            signature: Optional[str] = twilio_signature(self.auth_token, url, params)
        elif signing == "wrong":
            signature = twilio_signature(self.auth_token + "x", url, params)
        elif signing == "missing":
            signature = None
        else:
            raise ValueError("signing must be 'valid', 'wrong' or 'missing'")
        return _post_form(url, params, signature, timeout)

    # The server side.

    def _handler_class(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "twilio-double"
            sys_version = ""

            def log_message(self, format, *args):  # noqa: A002 (the base class's name)
                pass

            def do_POST(self):
                double._serve_post(self)

            def do_GET(self):
                self._reply_json(404, _error(404, 20404, "The requested resource "
                                             f"{self.path} was not found"))

            def _reply_json(self, status: int, payload: dict, headers: Sequence = ()):
                _reply(self, status, payload, headers)

        return Handler

    def _serve_post(self, request: BaseHTTPRequestHandler) -> None:
        match = MESSAGES_PATH.match(urllib.parse.urlsplit(request.path).path)
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            request.close_connection = True
            _reply(request, 413, _error(413, 20001, "Request entity too large"))
            return
        raw = request.rfile.read(length) if length > 0 else b""
        if match is None:
            _reply(request, 404, _error(404, 20404, f"The requested resource {request.path} "
                                        "was not found"))
            return
        with self._lock:
            forced = self._forced.pop(0) if self._forced else None
        if forced is not None:
            self._answer_forced(request, forced)
            return
        if not self._authorized(request.headers.get("Authorization", ""), match.group(1)):
            answer = _error(401, 20003, "Authenticate")
            answer["detail"] = "Your AccountSid or AuthToken was incorrect."
            self._record_attempt(401, [], answer)
            _reply(request, 401, answer, [("WWW-Authenticate", 'Basic realm="Twilio API"')])
            return
        try:
            form = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            form = None
        if form is None:
            answer = _error(400, 20001, "The request body is not a valid form")
            self._record_attempt(400, [], answer)
            _reply(request, 400, answer)
            return
        status, answer = self._create_message(form)
        self._record_attempt(status, form, answer)
        _reply(request, status, answer)

    def _answer_forced(self, request: BaseHTTPRequestHandler, status: int) -> None:
        if status == 429:
            answer = _error(429, 20429, "Too Many Requests")
            headers = [("Retry-After", "1")]
        else:
            answer = _error(503, 20503, "Service Unavailable")
            headers = []
        self._record_attempt(status, [], answer)
        _reply(request, status, answer, headers)

    def _authorized(self, header: str, path_sid: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True) \
                .decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (hmac.compare_digest(user, self.account_sid)
                and hmac.compare_digest(password, self.auth_token)
                and urllib.parse.unquote(path_sid) == self.account_sid)

    def _create_message(self, form: list[tuple[str, str]]) -> tuple[int, dict]:
        """Validates a create request as Twilio does; (status, JSON answer)."""
        values = dict(form)
        to, from_ = values.get("To", ""), values.get("From", "")
        body = values.get("Body", "")
        media_urls = [v for n, v in form if n == "MediaUrl"]
        callback = values.get("StatusCallback", "")
        if not to:
            return 400, _error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return 400, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_:
            return 400, _error(400, 21603, "A 'From' phone number is required.")
        if self.numbers is not None and from_ not in self.numbers:
            return 400, _error(400, 21606, f"The From phone number {from_} is not a valid, "
                               "SMS-capable inbound phone number or short code for your account.")
        if not body and not media_urls:
            return 400, _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return 400, _error(400, 21617, "The concatenated message body exceeds the 1600 "
                               "character limit.")
        if callback and urllib.parse.urlsplit(callback).scheme not in ("http", "https"):
            return 400, _error(400, 21609, f"The StatusCallback URL {callback} is not a valid "
                               "URL.")
        message = SentMessage(sid=new_sid("MM" if media_urls else "SM"), from_=from_, to=to,
                              body=body, status_callback=callback, media_urls=media_urls,
                              date_created=rfc2822_now())
        with self._changed:
            self.messages.append(message)
            failure = self._failures.get(to)
            self._changed.notify_all()
        if callback:
            self._jobs.put((message, _status_sequence(failure)))
        return 201, self._resource(message)

    def _resource(self, message: SentMessage) -> dict:
        """The Message resource of a just-created message."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": message.body,
            "date_created": message.date_created, "date_sent": None,
            "date_updated": message.date_created, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": message.from_,
            "messaging_service_sid": None, "num_media": str(len(message.media_urls)),
            "num_segments": str(count_segments(message.body)), "price": None,
            "price_unit": "USD", "sid": message.sid, "status": "queued",
            "subresource_uris": {"media": uri + "/Media.json"}, "to": message.to,
            "uri": uri + ".json",
        }

    def _record_attempt(self, status: int, form: list, answer: dict) -> None:
        with self._changed:
            self.attempts.append(SendAttempt(status, form, answer))
            self._changed.notify_all()

    # Status callbacks, on the worker thread.

    def _callback_worker(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            message, sequence = job
            for status, code in sequence:
                time.sleep(self.callback_delay)
                self._post_status(message, status, code)

    def _post_status(self, message: SentMessage, status: str, code: Optional[int]) -> None:
        params = [
            ("SmsSid", message.sid), ("SmsStatus", status), ("MessageStatus", status),
            ("To", message.to), ("MessageSid", message.sid), ("AccountSid", self.account_sid),
            ("From", message.from_), ("ApiVersion", API_VERSION),
        ]
        if code is not None:
            params.append(("ErrorCode", str(code)))
        url = message.status_callback
        signature = twilio_signature(self.auth_token, url, params)
        answer_status, answer = _post_form(url, params, signature, self.callback_timeout)
        with self._changed:
            message.statuses.append(status)
            self.callbacks.append(CallbackRecord(url, params, answer_status,
                                                 "" if answer_status else answer))
            self._changed.notify_all()


def _status_sequence(failure: Optional[tuple[str, int]]) -> list[tuple[str, Optional[int]]]:
    """The statuses Twilio reports for a message, each with its ErrorCode."""
    if failure is None:
        return [("sent", None), ("delivered", None)]
    status, code = failure
    if status == "failed":
        return [("failed", code)]
    return [("sent", None), ("undelivered", code)]


def _reply(request: BaseHTTPRequestHandler, status: int, payload: dict,
           headers: Sequence[tuple[str, str]] = ()) -> None:
    data = json.dumps(payload, indent=2).encode("utf-8")
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(data)))
    request.send_header("Twilio-Request-Id", new_sid("RQ"))
    for name, value in headers:
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(data)


def _post_form(url: str, params: Sequence[tuple[str, str]], signature: Optional[str],
               timeout: float) -> tuple[int, str]:
    """POSTs `params` form-encoded as Twilio's webhook client does;
    (status, body), or (0, reason) when no answer came."""
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
               "User-Agent": "TwilioProxy/1.1", "Accept": "*/*"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    data = urllib.parse.urlencode(list(params)).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read(64 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(64 * 1024).decode("utf-8", "replace")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        return 0, str(getattr(e, "reason", e)) or type(e).__name__


# The self-test.

def _self_test() -> int:
    failures = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    # Twilio's documented example of request validation ("Validating
    # requests are coming from Twilio", the voice webhook variant).
    documented = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
        ("From", "+14158675309"), ("To", "+18005551212")])
    check(documented == "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "documented signature example")

    received: list[tuple[str, list[tuple[str, str]], Optional[str]]] = []
    receiver_status = [204]

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002
            pass

        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
            received.append((url, urllib.parse.parse_qsl(data.decode(), keep_blank_values=True),
                             self.headers.get("X-Twilio-Signature")))
            self.send_response(receiver_status[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/sms/twilio/status?token=t1"

    def send(double: TwilioDouble, to: str, token: Optional[str] = None) -> tuple[int, dict]:
        auth = base64.b64encode(f"{double.account_sid}:{token or double.auth_token}".encode())
        request = urllib.request.Request(
            double.messages_url, method="POST",
            data=urllib.parse.urlencode({"From": "+15550001111", "To": to, "Body": "Hi ç",
                                         "StatusCallback": hook}).encode(),
            headers={"Authorization": "Basic " + auth.decode(),
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    with TwilioDouble(numbers=["+15550001111"], callback_delay=0.01) as double:
        status, answer = send(double, "+15557654321")
        check(status == 201 and re.fullmatch(r"SM[0-9a-f]{32}", answer.get("sid", "")) is not None
              and answer["status"] == "queued", "send is accepted with an SM sid")
        status, answer = send(double, "+15557654321", token="wrong")
        check(status == 401 and answer["code"] == 20003, "bad credentials: 401 20003")
        status, answer = send(double, "555-1234")
        check(status == 400 and answer["code"] == 21211, "bad To: 400 21211")
        double.answer_next(2, 503)
        check(send(double, "+15557654321")[0] == 503 and send(double, "+15557654321")[0] == 503,
              "answer_next(2, 503)")
        double.fail_number("+15559990000", code=30003)
        check(send(double, "+15559990000")[0] == 201, "failing number is accepted")
        callbacks = double.wait_for_callbacks(4)
        check([c.value("MessageStatus") for c in callbacks]
              == ["sent", "delivered", "sent", "undelivered"], "status sequences")
        check(callbacks[3].value("ErrorCode") == "30003", "failure carries ErrorCode")
        check(all(c.status == 204 for c in callbacks), "callback statuses recorded")
        check(all(sig == twilio_signature(double.auth_token, url, params)
                  for url, params, sig in received), "callbacks are signed")
        check(len(double.messages) == 2 and len(double.attempts) == 6, "records")

        received.clear()
        inbound = hook.replace("status?token=t1", "inbound")
        status, _ = double.send_inbound(inbound, "+15557654321", "+15550001111", "",
                                        media=[("https://example.org/a.jpg", "image/jpeg")])
        url, params, sig = received[-1]
        check(status == 204 and sig == twilio_signature(double.auth_token, url, params)
              and dict(params)["NumMedia"] == "1" and dict(params)["MessageSid"].startswith("MM"),
              "signed inbound webhook with media")
        double.send_inbound(inbound, "+15557654321", "+15550001111", "x", signing="wrong")
        check(received[-1][2] != twilio_signature(double.auth_token, *received[-1][:2]),
              "wrong signature")
        receiver_status[0] = 403
        status, _ = double.send_inbound(inbound, "+1", "+2", "x", signing="missing")
        check(status == 403 and received[-1][2] is None, "missing signature, status returned")
        check(double.send_inbound("http://127.0.0.1:1/x", "+1", "+2", "x", timeout=2)[0] == 0,
              "no answer gives status 0")

    receiver.shutdown()
    receiver.server_close()
    print("self-test " + ("passed" if not failures else f"FAILED: {len(failures)}"))
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(_self_test())
    print(f"usage: {sys.argv[0]} --self-test", file=sys.stderr)
    sys.exit(2)
