"""Throw-away IRC servers owned by one test: ngircd, and InspIRCd linked to Atheme.

Each server lives in its own temporary directory (config, TLS certificate,
data, logs) and listens on free loopback ports only: a plain client port, a
TLS client port with a freshly generated self-signed certificate (`cert_path`
is what a test trusts), and for InspIRCd a server-link port that only the
Atheme services connect to. The packaged system services are never used.

Lifecycle, as servers.XmppServer: start() -> [stop() | kill()] -> restart() ->
... -> cleanup(). Every wait has a deadline. Children get their own session
and a parent-death signal (via servers.spawn) and are swept at interpreter
exit with the XMPP servers.

Both servers run in the foreground as root, which each one allows: ngircd
binds its ports, loads the certificate and then switches itself to
"nobody" (ServerUID defaults to root, which it refuses); InspIRCd needs
`--runasroot`; Atheme has no root check.

By default neither server throttles clients (no flood penalties, no per-IP
connection limits): every test connection comes from 127.0.0.1, and the
benchmark needs raw speed. `flood_control=True` restores the packaged
defaults.
"""

from __future__ import annotations

import resource
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

import servers
from irc_client import IrcError, IrcTestClient
from servers import (LIVE, ServerError, free_port, kill_process_group, spawn,
                     terminate_process)

SERVER_NAME = "irc.localhost"
SERVICES_NAME = "services.localhost"
NETWORK = "TrestleTest"
LOOPBACK = "127.0.0.1"
LOOPBACK6 = "::1"
MOTD_LINE = "trestle integration test server"


def free_dual_port(attempts: int = 20) -> int:
    """A TCP port free on both 127.0.0.1 and ::1 a moment ago."""
    for _ in range(attempts):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((LOOPBACK6, port))
            return port
        except OSError:
            continue
    raise ServerError("no TCP port free on both 127.0.0.1 and ::1")


def run_tool(argv: Sequence[str], deadline: float, what: str = "") -> subprocess.CompletedProcess:
    """Runs a helper program to completion within the deadline; raises ServerError on failure."""
    remaining = max(1.0, deadline - time.monotonic())
    try:
        done = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=remaining, start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"{what or argv[0]} timed out after {remaining:.0f}s") from exc
    if done.returncode != 0:
        raise ServerError(f"{what or argv[0]} failed ({done.returncode}):\n"
                          f"{done.stdout}\n{done.stderr}")
    return done


def generate_certificate(cert_path: Path, key_path: Path, hostname: str, deadline: float) -> None:
    """A self-signed P-256 certificate for hostname, localhost, 127.0.0.1 and ::1.

    `openssl req -x509` marks it CA:TRUE, so the certificate file itself is the
    trust anchor a client loads (e.g. ssl.create_default_context(cafile=...)).
    """
    san = f"subjectAltName=DNS:{hostname},DNS:localhost,IP:127.0.0.1,IP:::1"
    run_tool(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
              "-subj", f"/CN={hostname}", "-addext", san,
              "-keyout", str(key_path), "-out", str(cert_path)], deadline, "openssl req")


def generate_dh_params(path: Path, deadline: float) -> None:
    """The RFC 7919 ffdhe2048 group as PKCS#3 PEM; instant, unlike generating new parameters.

    GnuTLS servers (ngircd, InspIRCd's ssl_gnutls) otherwise generate DH
    parameters at start-up, which takes seconds to minutes.
    """
    run_tool(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
              "group:ffdhe2048", "-out", str(path)], deadline, "openssl genpkey")


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Raises this process's soft RLIMIT_NOFILE towards the hard limit; returns the new soft limit.

    The servers inherit it: a benchmark puts a thousand gateway connections
    on one IRC server, above the common soft default of 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class IrcServer(servers.ManagedServer):
    """Common lifecycle of a throw-away IRC server; subclasses write the config and launch."""

    kind = "irc"

    def __init__(self, *, tls: bool = True, ipv6: bool = False, server_name: str = SERVER_NAME,
                 ping_interval: int = 120, flood_control: bool = False,
                 start_timeout: float = 30.0) -> None:
        self.server_name = server_name
        self.tls = tls
        self.ipv6 = ipv6
        self.ping_interval = ping_interval
        self.flood_control = flood_control
        self.start_timeout = start_timeout
        self.host = LOOPBACK
        self.workdir = Path(tempfile.mkdtemp(prefix=f"trestle-it-{self.kind}-"))
        pick = free_dual_port if ipv6 else free_port
        self.port = pick()
        self.tls_port: Optional[int] = pick() if tls else None
        self.cert_path = self.workdir / "cert.pem"
        self.key_path = self.workdir / "key.pem"
        self.dh_path = self.workdir / "dhparams.pem"
        self.console_log = self.workdir / "console.log"
        self.oper_name = "oper"
        self.oper_password = secrets.token_hex(8)
        self.proc: Optional[subprocess.Popen] = None
        self._prepared = False
        self._cleaned = False
        LIVE.add(self)

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: Optional[float] = None) -> "IrcServer":
        """Writes config and certificate (first time), launches, waits until usable."""
        if self._cleaned:
            raise ServerError("server already cleaned up")
        if self.running():
            raise ServerError(f"{self.kind} already running (pid {self.proc.pid})")
        # A half-dead server (e.g. services crashed, IRCd alive) would hold the ports.
        self._force_down()
        deadline = time.monotonic() + (timeout or self.start_timeout)
        raise_open_file_limit()
        if not self._prepared:
            if self.tls:
                generate_certificate(self.cert_path, self.key_path, self.server_name, deadline)
                generate_dh_params(self.dh_path, deadline)
            self._write_config()
            self._prepared = True
        self.proc = self._launch()
        try:
            self.wait_until_listening(deadline)
            self._after_listening(deadline)
        except BaseException:
            self._force_down()
            raise
        return self

    def listening_ports(self) -> list[int]:
        """Every port start() waits for."""
        return [self.port] + ([self.tls_port] if self.tls_port else [])

    def log_text(self) -> str:
        """Console output plus the server's own log file(s)."""
        return "\n".join(f"==> {name} <==\n{text}" for name, text in self._logs())

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of each log, for error messages (IRCd and services alike)."""
        return "\n".join(f"==> {name} <==\n" + "\n".join(text.splitlines()[-lines:])
                         for name, text in self._logs())

    def _logs(self) -> list[tuple[str, str]]:
        logs = []
        for path in [self.console_log, *self._log_files()]:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            logs.append((str(path.relative_to(self.workdir)), text))
        return logs

    def describe(self) -> str:
        """One line for test output."""
        tls = f" tls={self.host}:{self.tls_port}" if self.tls_port else ""
        return f"{self.kind} plain={self.host}:{self.port}{tls} dir={self.workdir}"

    # -- clients -----------------------------------------------------------

    def client(self, nick: str, *, tls: bool = False, **kwargs) -> IrcTestClient:
        """An IrcTestClient for this server (not yet connected); TLS trusts cert_path."""
        if tls:
            if not self.tls_port:
                raise ServerError(f"{self.kind} was started without TLS")
            kwargs.setdefault("ca_file", str(self.cert_path))
            kwargs.setdefault("server_hostname", self.server_name)
            return IrcTestClient(self.tls_port, nick, host=self.host, tls=True, **kwargs)
        return IrcTestClient(self.port, nick, host=self.host, **kwargs)

    def connect_client(self, nick: str, *, tls: bool = False, timeout: Optional[float] = None,
                       **kwargs) -> IrcTestClient:
        """client(...).connect(): registered and ready."""
        return self.client(nick, tls=tls, **kwargs).connect(timeout)

    # -- helpers for subclasses -------------------------------------------

    def _listen_addresses(self) -> list[str]:
        return [LOOPBACK] + ([LOOPBACK6] if self.ipv6 else [])

    # -- to override -------------------------------------------------------

    def _write_config(self) -> None:
        raise NotImplementedError

    def _launch(self) -> subprocess.Popen:
        raise NotImplementedError

    def _after_listening(self, deadline: float) -> None:
        """Anything to wait for after the ports are open (services link, ...)."""

    def _log_files(self) -> list[Path]:
        return []


class NgircdServer(IrcServer):
    """ngIRCd 26 (GnuTLS build) in the foreground: `ngircd -n -f CONF`.

    Started as root, it drops to "nobody" once its ports, certificate and DH
    parameters are loaded; the work directory stays root-only, so REHASH
    cannot re-read the config (the tests do not need it). Offers the CAP
    `multi-prefix` only.
    """

    kind = "ngircd"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config_path = self.workdir / "ngircd.conf"

    def _write_config(self) -> None:
        listen = ",".join(self._listen_addresses())
        lines = [
            "# generated by the trestle integration tests",
            "[Global]",
            f"\tName = {self.server_name}",
            "\tInfo = trestle integration test server",
            f"\tNetwork = {NETWORK}",
            "\tAdminInfo1 = trestle tests",
            "\tAdminInfo2 = loopback",
            "\tAdminEMail = root@localhost",
            f"\tListen = {listen}",
            f"\tPorts = {self.port}",
            f"\tMotdPhrase = \"{MOTD_LINE}\"",
            "[Limits]",
            "\tMaxConnectionsIP = 0",
            "\tMaxJoins = 0",
            "\tMaxNickLength = 30",
            f"\tPingTimeout = {self.ping_interval}",
            "\tPongTimeout = 20",
            # 0 turns penalties (ngircd's flood throttling) off; -1 is the default.
            f"\tMaxPenaltyTime = {-1 if self.flood_control else 0}",
            "[Options]",
            "\tDNS = no",
            "\tIdent = no",
            "\tPAM = no",
            "\tOperCanUseMode = yes",
        ]
        if self.tls:
            lines += [
                "[SSL]",
                f"\tCertFile = {self.cert_path}",
                f"\tKeyFile = {self.key_path}",
                f"\tDHFile = {self.dh_path}",
                f"\tPorts = {self.tls_port}",
            ]
        lines += [
            "[Operator]",
            f"\tName = {self.oper_name}",
            f"\tPassword = {self.oper_password}",
            "",
        ]
        self.config_path.write_text("\n".join(lines))

    def _launch(self) -> subprocess.Popen:
        return spawn(["ngircd", "-n", "-f", str(self.config_path)],
                     log_path=self.console_log, cwd=self.workdir)


class InspircdServer(IrcServer):
    """InspIRCd 3 with IRCv3 modules, linked to Atheme 7.2 services (NickServ, SaslServ).

    The IRCd runs with `--nofork --runasroot`; Atheme (`-n`, protocol module
    `inspircd`, opensex flat-file db in the work directory) links to it over
    a loopback server port. start() returns once NickServ and SaslServ are on
    the network, so SASL is offered. stop()/kill() take both down; restart()
    brings both back with the same accounts.

    away-notify is no module of its own in InspIRCd 3: the `ircv3` module
    provides it (with account-notify and extended-join); message-tags comes
    from `ircv3_ctctags`, multi-prefix from `namesx`.
    """

    kind = "inspircd"
    # InspIRCd 3 exits with EXIT_STATUS_SIGTERM (10) when it shuts down on SIGTERM.
    clean_exit_codes = (0, 10)
    MODULES = (
        "cap", "ircv3", "ircv3_accounttag", "ircv3_batch", "ircv3_capnotify", "ircv3_chghost",
        "ircv3_ctctags", "ircv3_echomessage", "ircv3_invitenotify", "ircv3_labeledresponse",
        "ircv3_msgid", "ircv3_servertime", "namesx", "uhnames", "sasl", "services_account",
        "spanningtree",
        # Atheme warns without these (vhosts, channel SQLINEs, nick enforcement).
        "chghost", "cban", "svshold",
    )

    def __init__(self, *, services: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.with_services = services
        self.services_name = SERVICES_NAME
        self.link_port = free_port()
        self.link_password = secrets.token_hex(12)
        self.config_path = self.workdir / "inspircd.conf"
        self.log_path = self.workdir / "inspircd.log"
        self.services_dir = self.workdir / "atheme"
        self.services_config = self.services_dir / "atheme.conf"
        self.services_log = self.services_dir / "atheme.log"
        self.services_console = self.services_dir / "console.log"
        self.services_db = self.services_dir / "data" / "services.db"
        self.services_proc: Optional[subprocess.Popen] = None
        self.accounts: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------

    def running(self) -> bool:
        """True while the IRCd (and, when configured, the services) are alive."""
        ircd = super().running()
        if not self.with_services:
            return ircd
        return ircd and self.services_proc is not None and self.services_proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """Stops services (which writes their db) then the IRCd; 0 when both exited cleanly.

        Debian's InspIRCd 3.15 with ssl_gnutls loaded dies of SIGSEGV at the
        very end of an orderly shutdown, after every client got its ERROR and
        every module was unloaded. That case counts as clean when the log
        shows ssl_gnutls was unloaded; any other crash is returned as is.
        """
        services_code = 0
        if self.services_proc is not None:
            proc, self.services_proc = self.services_proc, None
            services_code = terminate_process(proc, timeout)
        code = super().stop(timeout)
        if code == -signal.SIGSEGV and self.tls and self._unloaded_all_modules():
            code = 0
        return code or services_code

    def _unloaded_all_modules(self) -> bool:
        try:
            log = self.log_path.read_text(errors="replace")
        except OSError:
            return False
        return "The m_ssl_gnutls.so module was unloaded" in log.rsplit("Startup complete", 1)[-1]

    def kill(self) -> None:
        """SIGKILLs the services and the IRCd (both process groups)."""
        if self.services_proc is not None:
            proc, self.services_proc = self.services_proc, None
            kill_process_group(proc)
        super().kill()

    def kill_services(self) -> None:
        """SIGKILLs Atheme only: the IRCd stays up and drops SASL from CAP."""
        if self.services_proc is not None:
            proc, self.services_proc = self.services_proc, None
            kill_process_group(proc)

    def start_services(self, timeout: Optional[float] = None) -> None:
        """Starts Atheme again (after kill_services) and waits for the link."""
        if self.services_proc is not None and self.services_proc.poll() is None:
            raise ServerError("services already running")
        self._start_services(time.monotonic() + (timeout or self.start_timeout))

    def _force_down(self) -> None:
        if self.services_proc is not None:
            proc, self.services_proc = self.services_proc, None
            kill_process_group(proc)
        super()._force_down()

    def listening_ports(self) -> list[int]:
        return super().listening_ports() + ([self.link_port] if self.with_services else [])

    def _after_listening(self, deadline: float) -> None:
        if self.with_services:
            self._start_services(deadline)

    def _start_services(self, deadline: float) -> None:
        self.services_proc = spawn(
            ["atheme-services", "-n", "-c", str(self.services_config),
             "-D", str(self.services_db.parent), "-l", str(self.services_log),
             "-p", str(self.services_dir / "atheme.pid")],
            log_path=self.services_console, cwd=self.services_dir)
        self.wait_for_services(deadline)

    def wait_for_services(self, deadline: float) -> None:
        """Waits until NickServ and SaslServ are on the network (ISON from a probe client)."""
        probe = None
        try:
            while True:
                if self.services_proc is None or self.services_proc.poll() is not None:
                    code = None if self.services_proc is None else self.services_proc.returncode
                    raise ServerError(f"atheme exited (code {code})\n" + self.log_tail())
                if time.monotonic() >= deadline:
                    raise ServerError("services did not link in time\n" + self.log_tail())
                if probe is None:
                    probe = self.client(f"probe{secrets.token_hex(3)}").connect(
                        max(1.0, deadline - time.monotonic()))
                start = probe.mark()
                probe.send("ISON", "NickServ", "SaslServ")
                reply = probe.wait_command("303", since=start,
                                           timeout=max(0.5, deadline - time.monotonic()))
                if {"nickserv", "saslserv"} <= {n.lower() for n in reply.text.split()}:
                    return
                time.sleep(0.1)
        except IrcError as exc:
            raise ServerError(f"probe client failed: {exc}\n" + self.log_tail()) from exc
        finally:
            if probe is not None:
                probe.quit()

    # -- accounts ----------------------------------------------------------

    def register_account(self, account: str, password: str, email: Optional[str] = None,
                         timeout: float = 20.0) -> None:
        """Registers a NickServ account the way a user does, then makes Atheme save its db.

        A raw client with nick `account` sends `PRIVMSG NickServ :REGISTER
        password email` and waits for NickServ's answer. Atheme writes its db
        only every few minutes, so the helper sends SIGHUP (which saves, then
        rehashes) and waits for the account in the file: the account then
        survives kill() and restart().
        """
        if not self.with_services or self.services_proc is None:
            raise ServerError("no services running")
        deadline = time.monotonic() + timeout
        email = email or f"{account.lower()}@example.com"
        client = self.client(account)
        try:
            client.connect(max(1.0, deadline - time.monotonic()))
            start = client.mark()
            client.privmsg("NickServ", f"REGISTER {password} {email}")
            answer = client.wait_for(
                lambda m: m.command == "NOTICE" and (m.nick or "").lower() == "nickserv"
                and "regist" in m.text.lower(),
                max(0.5, deadline - time.monotonic()), since=start,
                what="NickServ REGISTER answer")
        except IrcError as exc:
            raise ServerError(f"registering {account}: {exc}\n" + self.log_tail()) from exc
        finally:
            client.quit()
        if "is now registered" not in answer.text:
            raise ServerError(f"NickServ refused {account}: {answer.text}")
        self.accounts[account] = password
        self.save_services_db(deadline, expect_account=account)

    def save_services_db(self, deadline: Optional[float] = None,
                         expect_account: Optional[str] = None) -> None:
        """SIGHUPs Atheme (db save + rehash) and waits until the db names expect_account."""
        if self.services_proc is None:
            raise ServerError("no services running")
        deadline = deadline or time.monotonic() + 20
        before = self._db_mtime()
        self.services_proc.send_signal(signal.SIGHUP)
        while True:
            changed = self._db_mtime() != before
            if changed and (expect_account is None or self._db_has_account(expect_account)):
                return
            if time.monotonic() >= deadline:
                raise ServerError(f"atheme did not write {self.services_db} in time\n"
                                  + self.log_tail())
            time.sleep(0.05)

    def _db_mtime(self) -> Optional[int]:
        try:
            return self.services_db.stat().st_mtime_ns
        except OSError:
            return None

    def _db_has_account(self, account: str) -> bool:
        try:
            text = self.services_db.read_text(errors="replace")
        except OSError:
            return False
        # opensex: "MU <entity id> <account> <password hash> <email> ..."
        return any(len(f) > 2 and f[0] == "MU" and f[2].lower() == account.lower()
                   for f in (line.split() for line in text.splitlines()))

    # -- config ------------------------------------------------------------

    def _write_config(self) -> None:
        self.services_dir.mkdir(exist_ok=True)
        self.services_db.parent.mkdir(exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        motd = self.workdir / "motd.txt"
        motd.write_text(MOTD_LINE + "\n")
        self.config_path.write_text(self._inspircd_config(motd))
        if self.with_services:
            self.services_config.write_text(self._atheme_config())

    def _inspircd_config(self, motd: Path) -> str:
        flood = ('threshold="10" commandrate="1000" fakelag="yes"' if self.flood_control else
                 'threshold="1000000" commandrate="4000000000" fakelag="no"')
        lines = [
            "# generated by the trestle integration tests",
            f'<server name="{self.server_name}" description="trestle test" '
            f'network="{NETWORK}" id="1TS">',
            '<admin name="trestle tests" nick="admin" email="root@localhost">',
            f'<path configdir="{self.workdir}" datadir="{self.workdir / "data"}" '
            f'logdir="{self.workdir}" moduledir="/usr/lib/inspircd/modules">',
            f'<pid file="{self.workdir / "inspircd.pid"}">',
            f'<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" '
            f'target="{self.log_path}">',
            f'<files motd="{motd}">',
        ]
        for address in self._listen_addresses():
            lines.append(f'<bind address="{address}" port="{self.port}" type="clients">')
            if self.tls:
                lines.append(f'<bind address="{address}" port="{self.tls_port}" '
                             'type="clients" sslprofile="Clients">')
        if self.with_services:
            lines.append(f'<bind address="{LOOPBACK}" port="{self.link_port}" type="servers">')
        lines += [
            # Everything comes from 127.0.0.1: no per-IP limits, no DNS.
            f'<connect name="main" allow="*" maxchans="1000" timeout="20" '
            f'pingfreq="{self.ping_interval}" hardsendq="4M" softsendq="1M" recvq="64K" '
            f'{flood} localmax="100000" globalmax="100000" maxconnwarn="no" '
            'resolvehostnames="no" useident="no" limit="100000">',
            '<dns timeout="1">',
            '<options prefixquit="Quit: ">',
            '<performance softlimit="65536" somaxconn="1024">',
            '<class name="Everything" commands="*" privs="*" usermodes="*" chanmodes="*">',
            '<type name="Admin" classes="Everything">',
            f'<oper name="{self.oper_name}" password="{self.oper_password}" host="*@*" '
            'type="Admin">',
        ]
        for module in self.MODULES:
            # m_sasl refuses to load without a <sasl target>.
            if module != "sasl" or self.with_services:
                lines.append(f'<module name="{module}">')
        lines.append('<ircv3 accountnotify="yes" awaynotify="yes" extendedjoin="yes">')
        if self.with_services:
            lines += [
                f'<sasl target="{self.services_name}">',
                f'<link name="{self.services_name}" ipaddr="{LOOPBACK}" port="{self.link_port}" '
                f'allowmask="127.0.0.0/8" sendpass="{self.link_password}" '
                f'recvpass="{self.link_password}">',
                f'<uline server="{self.services_name}" silent="yes">',
            ]
        if self.tls:
            lines += [
                '<module name="ssl_gnutls">',
                f'<sslprofile name="Clients" provider="gnutls" certfile="{self.cert_path}" '
                f'keyfile="{self.key_path}" dhfile="{self.dh_path}" requestclientcert="no">',
            ]
        return "\n".join(lines) + "\n"

    def _atheme_config(self) -> str:
        modules = [
            "protocol/inspircd", "backend/opensex", "crypto/pbkdf2v2",
            "nickserv/main", "nickserv/help", "nickserv/register", "nickserv/identify",
            "nickserv/info", "nickserv/drop", "nickserv/ghost", "nickserv/logout",
            "nickserv/set_core", "nickserv/set_password",
            "saslserv/main", "saslserv/plain",
        ]
        services_host = self.services_name
        return "\n".join([
            "/* generated by the trestle integration tests */",
            *[f'loadmodule "modules/{m}";' for m in modules],
            "serverinfo {",
            f'\tname = "{self.services_name}";',
            '\tdesc = "Atheme IRC Services";',
            '\tnumeric = "00A";',
            # Reconnect to the IRCd quickly (default 10 s).
            "\trecontime = 1;",
            f'\tnetname = "{NETWORK}";',
            '\thidehostsuffix = "users.trestle.test";',
            '\tadminname = "trestle tests";',
            '\tadminemail = "root@localhost";',
            '\tregisteremail = "noreply@localhost";',
            '\tmta = "/bin/false";',
            # No "debug": with it, Atheme NOTICEs every user that it runs on a console.
            "\tloglevel = { error; info; admin; network; wallops; register; };",
            "\tmaxlogins = 100;",
            "\tmaxusers = 100000;",
            "\tmdlimit = 30;",
            "\temaillimit = 100000;",
            "\temailtime = 1;",
            "\tauth = none;",
            "\tcasemapping = rfc1459;",
            "};",
            f'uplink "{self.server_name}" {{',
            f'\thost = "{LOOPBACK}";',
            f'\tsend_password = "{self.link_password}";',
            f'\treceive_password = "{self.link_password}";',
            f"\tport = {self.link_port};",
            "};",
            "nickserv {",
            '\tnick = "NickServ";',
            '\tuser = "NickServ";',
            f'\thost = "{services_host}";',
            '\treal = "Nickname Services";',
            "\tmaxnicks = 5;",
            "\texpire = 0;",
            "};",
            "saslserv {",
            '\tnick = "SaslServ";',
            '\tuser = "SaslServ";',
            f'\thost = "{services_host}";',
            '\treal = "SASL Authentication Agent";',
            "};",
            "general {",
            "\tuflags = { hidemail; };",
            "\tcflags = { verbose; guard; };",
            # Tests register many accounts quickly from one address.
            "\tflood_msgs = 100000;",
            "\tflood_time = 1;",
            "\tratelimit_uses = 100000;",
            "\tratelimit_period = 1;",
            "\tkline_time = 7;",
            "\tclone_time = 0;",
            "\tcommit_interval = 5;",
            "\tdefault_clone_allowed = 100000;",
            "\tdefault_clone_warn = 100000;",
            "\tuplink_sendq_limit = 4194304;",
            '\tlanguage = "en";',
            "\timmune_level = immune;",
            "};",
            "",
        ])

    def _launch(self) -> subprocess.Popen:
        return spawn(["inspircd", "--config", str(self.config_path), "--nofork", "--runasroot"],
                     log_path=self.console_log, cwd=self.workdir)

    def _log_files(self) -> list[Path]:
        # Atheme run with -n prints its whole log to the console too.
        return [self.log_path] + ([self.services_console] if self.with_services else [])

    def describe(self) -> str:
        services = f" services={self.services_name}" if self.with_services else ""
        return super().describe() + services


SERVER_KINDS = {"ngircd": NgircdServer, "inspircd": InspircdServer}


def make_server(kind: str, **kwargs) -> IrcServer:
    """Creates (does not start) an IRC server of the named kind."""
    try:
        cls = SERVER_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown IRC server {kind!r}; choose one of {sorted(SERVER_KINDS)}") \
            from None
    return cls(**kwargs)


# Re-exported so IRC tests need only this module for the lifecycle helpers.
install_exit_on_signals = servers.install_exit_on_signals
__all__ = ["IrcServer", "NgircdServer", "InspircdServer", "ServerError", "make_server",
           "generate_certificate", "generate_dh_params", "free_dual_port", "raise_open_file_limit",
           "install_exit_on_signals", "SERVER_NAME", "SERVICES_NAME", "NETWORK"]
