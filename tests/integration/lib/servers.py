"""Throw-away XMPP servers (Prosody, ejabberd) owned by one test.

Each server lives in its own temporary directory (config, data, logs), listens
on free loopback ports only (client-to-server and component ports; no s2s, no
HTTP), knows the component domains and secrets it was given, and has test
accounts created with the server's own tools. The packaged system services are
never used.

Lifecycle: start() -> [stop() | kill()] -> restart() -> ... -> cleanup().
Every wait has a deadline. Child processes get their own session (so the whole
process group can be killed) and a parent-death signal (so they die with the
test process even when it is SIGKILLed); cleanup() also runs at interpreter
exit for any server still alive.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

XMPP_DOMAIN = "localhost"

# Test accounts: user name -> password. Bare JIDs are `<user>@localhost`.
DEFAULT_USERS = {
    "alice": "alice-secret",
    "bob": "bob-secret",
    "admin": "admin-secret",
}

# Children run under `setpriv --pdeathsig KILL` (util-linux) so they die with
# the test process even when it is SIGKILLed; a preexec_fn would do the same
# but is unsafe once the slixmpp client threads are running.
_DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "KILL", "--"]


@dataclass(frozen=True)
class ComponentEntry:
    """One external component the server accepts (XEP-0114)."""

    domain: str
    secret: str


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate (PEM, leaf first, then its chain) and its key."""

    cert_path: Path
    key_path: Path


class ServerError(RuntimeError):
    """A server could not be started, reached or stopped in time."""


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_listening(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when a TCP connect to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def spawn(argv: Sequence[str], *, log_path: Path, env: Optional[dict] = None,
          cwd: Optional[Path] = None) -> subprocess.Popen:
    """Starts argv in its own session with stdout+stderr appended to log_path."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            _DIE_WITH_PARENT + list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
        )
    finally:
        log.close()


def kill_process_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGKILLs proc's whole process group and reaps proc (bounded)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"pid {proc.pid} survived SIGKILL for {timeout}s") from exc


def terminate_process(proc: subprocess.Popen, timeout: float) -> int:
    """SIGTERMs proc, waits up to timeout, then SIGKILLs its group.

    Returns the exit code; raises ServerError when SIGTERM was not enough.
    Stragglers of the group are killed either way.
    """
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_process_group(proc)
        raise ServerError(f"pid {proc.pid} ignored SIGTERM for {timeout}s; killed")
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return code


class _LiveRegistry:
    """Servers started and not yet cleaned up; swept at interpreter exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set = set()
        atexit.register(self.sweep)

    def add(self, item) -> None:
        with self._lock:
            self._items.add(item)

    def discard(self, item) -> None:
        with self._lock:
            self._items.discard(item)

    def sweep(self) -> None:
        with self._lock:
            items = list(self._items)
        for item in items:
            try:
                item.cleanup()
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


LIVE = _LiveRegistry()


class ManagedServer:
    """The lifecycle every throw-away server shares (XMPP here, IRC in
    irc_servers.py): stop, kill, restart, cleanup, and waiting for ports.
    Subclasses set `proc`, `workdir`, `_cleaned`, implement start(),
    listening_ports() and log_tail()."""

    kind = "server"
    # Exit codes that a SIGTERM-ed server uses for a clean shutdown.
    clean_exit_codes: tuple[int, ...] = (0,)
    proc: Optional[subprocess.Popen] = None
    workdir: Path
    _cleaned = False

    def start(self, timeout: Optional[float] = None) -> "ManagedServer":
        raise NotImplementedError

    def listening_ports(self) -> list[int]:
        """Every port start() waits for."""
        raise NotImplementedError

    def log_tail(self, lines: int = 40) -> str:
        raise NotImplementedError

    def stop(self, timeout: float = 30.0) -> int:
        """Graceful stop (SIGTERM); returns 0 for a clean exit, else the exit code.
        Raises ServerError on timeout."""
        if self.proc is None:
            return 0
        proc, self.proc = self.proc, None
        code = terminate_process(proc, timeout)
        return 0 if code in self.clean_exit_codes else code

    def kill(self) -> None:
        """Hard stop: SIGKILL to the whole process group, no goodbye to peers."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        kill_process_group(proc)

    def restart(self, timeout: Optional[float] = None, *, graceful: bool = True):
        """Stops if running, then starts again on the same ports with the same data."""
        if self.running():
            if graceful:
                self.stop()
            else:
                self.kill()
        self._force_down()
        return self.start(timeout)

    def cleanup(self) -> None:
        """Kills anything left and removes the work directory (unless TRESTLE_IT_KEEP is set)."""
        if self._cleaned:
            return
        try:
            self._force_down()
        finally:
            self._cleaned = True
            LIVE.discard(self)
            if not os.environ.get("TRESTLE_IT_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def running(self) -> bool:
        """True while the server process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def wait_until_listening(self, deadline: float) -> None:
        """Waits (until the monotonic deadline) for every listening port."""
        ports = self.listening_ports()
        while True:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise ServerError(f"{self.kind} exited (code {code}) before listening\n"
                                  + self.log_tail())
            if all(port_is_listening(p) for p in ports):
                return
            if time.monotonic() >= deadline:
                raise ServerError(f"{self.kind} not listening on {ports} in time\n"
                                  + self.log_tail())
            time.sleep(0.05)

    def _force_down(self) -> None:
        if self.proc is not None:
            proc, self.proc = self.proc, None
            kill_process_group(proc)


class XmppServer(ManagedServer):
    """Common lifecycle of a throw-away server; subclasses fill in the commands."""

    kind = "xmpp"

    def __init__(self, components: Iterable[ComponentEntry | tuple[str, str]] = (),
                 users: Optional[dict[str, str]] = None, *,
                 domain: str = XMPP_DOMAIN, start_timeout: float = 60.0,
                 component_tls: Optional[TlsFiles] = None) -> None:
        self.domain = domain
        # When set, the component port speaks direct TLS (TLS from the first
        # byte, then XEP-0114) with this certificate, and nothing else.
        self.component_tls = component_tls
        self.components = [c if isinstance(c, ComponentEntry) else ComponentEntry(*c)
                           for c in components]
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.start_timeout = start_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix=f"trestle-it-{self.kind}-"))
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.console_log = self.workdir / "console.log"
        self._accounts_created = False
        self._cleaned = False
        LIVE.add(self)

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: Optional[float] = None) -> "XmppServer":
        """Writes the config (first time), launches, waits for both ports, creates accounts."""
        if self._cleaned:
            raise ServerError("server already cleaned up")
        if self.running():
            raise ServerError(f"{self.kind} already running (pid {self.proc.pid})")
        deadline = time.monotonic() + (timeout or self.start_timeout)
        self._prepare()
        self.proc = self._launch()
        try:
            self.wait_until_listening(deadline)
            if not self._accounts_created:
                self._create_accounts(deadline)
                self._accounts_created = True
        except BaseException:
            self._force_down()
            raise
        return self

    def listening_ports(self) -> list[int]:
        """The client and component ports."""
        return [self.c2s_port, self.component_port]

    def jid(self, user: str) -> str:
        """The bare JID of a test account."""
        return f"{user}@{self.domain}"

    def password(self, user: str) -> str:
        """The password of a test account."""
        return self.users[user]

    def log_text(self) -> str:
        """Console output plus the server's own log file(s)."""
        parts = []
        for path in [self.console_log, *self._log_files()]:
            try:
                parts.append(f"==> {path.name} <==\n" + path.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of log_text(), for error messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def describe(self) -> str:
        """One line for test output."""
        return (f"{self.kind} c2s=127.0.0.1:{self.c2s_port} "
                f"component=127.0.0.1:{self.component_port} dir={self.workdir}")

    # -- helpers for subclasses -------------------------------------------

    def _run_tool(self, argv: Sequence[str], deadline: float, env: Optional[dict] = None,
                  what: str = "") -> subprocess.CompletedProcess:
        remaining = max(1.0, deadline - time.monotonic())
        try:
            done = subprocess.run(_DIE_WITH_PARENT + list(argv), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=remaining,
                                  env=env, start_new_session=True)
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"{what or argv[0]} timed out after {remaining:.0f}s") from exc
        if done.returncode != 0:
            raise ServerError(f"{what or argv[0]} failed ({done.returncode}):\n"
                              f"{done.stdout}\n{done.stderr}")
        return done

    # -- to override -------------------------------------------------------

    def _prepare(self) -> None:
        raise NotImplementedError

    def _launch(self) -> subprocess.Popen:
        raise NotImplementedError

    def _create_accounts(self, deadline: float) -> None:
        raise NotImplementedError

    def _log_files(self) -> list[Path]:
        return []


def _lua_string(value: str) -> str:
    """A Lua string literal (long-bracket form cannot hold ']]'; quote instead)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class ProsodyServer(XmppServer):
    """Prosody 0.12 run in the foreground as root (`run_as_root = true`)."""

    kind = "prosody"

    def __init__(self, *args, log_level: str = "debug", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The least severe log level written; the benchmark uses "warn",
        # since debug logging of every stanza would dominate its figures.
        self.log_level = log_level
        self.config_path = self.workdir / "prosody.cfg.lua"
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "prosody.log"

    def _prepare(self) -> None:
        if self.config_path.exists():
            return
        self.data_dir.mkdir()
        (self.workdir / "certs").mkdir()
        modules = '"roster"; "saslauth"; "disco"; "ping"; "posix"'
        component_lines = [
            f"component_ports = {{ {self.component_port} }}",
            'component_interfaces = { "127.0.0.1" }',
        ]
        if self.component_tls is not None:
            # Prosody 0.12's component_ports are plain text only. Direct TLS
            # comes from mod_net_multiplex: its ssl_ports do TLS, then hand
            # the stream to the service whose pattern its header matches,
            # here mod_component's jabber:component:accept.
            modules += '; "net_multiplex"'
            component_lines = [
                "component_ports = { }",
                f"ssl_ports = {{ {self.component_port} }}",
                'ssl_interfaces = { "127.0.0.1" }',
                "ssl = { certificate = " + _lua_string(str(self.component_tls.cert_path))
                + "; key = " + _lua_string(str(self.component_tls.key_path)) + " }",
            ]
        lines = [
            "-- generated by the trestle integration tests",
            "run_as_root = true",
            "daemonize = false",
            f"pidfile = {_lua_string(str(self.workdir / 'prosody.pid'))}",
            f"data_path = {_lua_string(str(self.data_dir))}",
            f"certificates = {_lua_string(str(self.workdir / 'certs'))}",
            'interfaces = { "127.0.0.1" }',
            f"c2s_ports = {{ {self.c2s_port} }}",
            'c2s_interfaces = { "127.0.0.1" }',
            *component_lines,
            "s2s_ports = { }",
            f"modules_enabled = {{ {modules} }}",
            # offline storage stays on: the queued-stanza test relies on it.
            'modules_disabled = { "s2s" }',
            "c2s_require_encryption = false",
            "allow_unencrypted_plain_auth = true",
            'authentication = "internal_hashed"',
            'storage = "internal"',
            "log = { { levels = { min = " + _lua_string(self.log_level)
            + " }, to = \"file\", filename = " + _lua_string(str(self.log_path)) + " } }",
            "",
            f"VirtualHost {_lua_string(self.domain)}",
            "",
        ]
        for comp in self.components:
            lines.append(f"Component {_lua_string(comp.domain)}")
            lines.append(f"    component_secret = {_lua_string(comp.secret)}")
            lines.append("")
        self.config_path.write_text("\n".join(lines))

    def _env(self) -> dict:
        env = dict(os.environ)
        env["HOME"] = str(self.workdir)
        env.pop("PROSODY_CONFIG", None)
        return env

    def _launch(self) -> subprocess.Popen:
        return spawn(["prosody", "--config", str(self.config_path), "-F"],
                     log_path=self.console_log, env=self._env(), cwd=self.workdir)

    def _create_accounts(self, deadline: float) -> None:
        # prosodyctl writes the account files directly; the running server
        # reads them on login, so doing this after start is safe.
        for user, password in self.users.items():
            self._run_tool(["prosodyctl", "--config", str(self.config_path),
                            "register", user, self.domain, password],
                           deadline, env=self._env(), what=f"prosodyctl register {user}")

    def _log_files(self) -> list[Path]:
        return [self.log_path]


class EjabberdServer(XmppServer):
    """ejabberd 23.01 run the way `ejabberdctl foreground` runs it, as root.

    Erlang distribution uses a fixed per-start port instead of epmd
    (`-start_epmd false -erl_epmd_port`, as ejabberdctl does for
    ERL_DIST_PORT), a unique short node name and a random cookie, so two
    tests never see each other and no epmd daemon is left behind.
    """

    kind = "ejabberd"
    ERL_LIBS = "/usr/lib/x86_64-linux-gnu"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.config_path = self.workdir / "ejabberd.yml"
        self.spool_dir = self.workdir / "spool"
        self.logs_dir = self.workdir / "logs"
        self.node = f"trestle_it_{os.getpid()}_{secrets.token_hex(3)}@localhost"
        self.cookie = secrets.token_hex(16)
        self.dist_port = 0

    def _prepare(self) -> None:
        # A fresh distribution port per start: the old one may linger in
        # TIME_WAIT after a kill, and only our own ctl calls use it.
        self.dist_port = free_port()
        if self.config_path.exists():
            return
        self.spool_dir.mkdir()
        self.logs_dir.mkdir()
        services = "\n".join(
            f'      "{c.domain}":\n        password: "{_yaml_escape(c.secret)}"'
            for c in self.components)
        tls_lines = ""
        if self.component_tls is not None:
            # ejabberd_service takes one PEM file with the chain and the key.
            bundle = self.workdir / "component-tls.pem"
            bundle.write_text(self.component_tls.cert_path.read_text()
                              + self.component_tls.key_path.read_text())
            tls_lines = f'    tls: true\n    certfile: "{_yaml_escape(str(bundle))}"\n'
        service_block = ""
        if self.components:
            service_block = (
                "  -\n"
                f"    port: {self.component_port}\n"
                '    ip: "127.0.0.1"\n'
                "    module: ejabberd_service\n"
                f"{tls_lines}"
                "    hosts:\n"
                f"{services}\n")
        else:
            # Keep the port open so start() can wait for it either way.
            service_block = (
                "  -\n"
                f"    port: {self.component_port}\n"
                '    ip: "127.0.0.1"\n'
                "    module: ejabberd_service\n"
                f"{tls_lines}"
                f'    password: "{secrets.token_hex(8)}"\n')
        self.config_path.write_text(
            "# generated by the trestle integration tests\n"
            "loglevel: info\n"
            "hosts:\n"
            f'  - "{self.domain}"\n'
            "listen:\n"
            "  -\n"
            f"    port: {self.c2s_port}\n"
            '    ip: "127.0.0.1"\n'
            "    module: ejabberd_c2s\n"
            "    starttls: false\n"
            "    max_stanza_size: 262144\n"
            f"{service_block}"
            "auth_method: internal\n"
            "auth_password_format: plain\n"
            "acme:\n"
            "  auto: false\n"
            "acl:\n"
            "  local:\n"
            '    user_regexp: ""\n'
            "access_rules:\n"
            "  local:\n"
            "    allow: local\n"
            "  c2s:\n"
            "    allow: all\n"
            "api_permissions:\n"
            '  "console commands":\n'
            "    from:\n"
            "      - ejabberd_ctl\n"
            "    who: all\n"
            '    what: "*"\n'
            "modules:\n"
            "  mod_disco: {}\n"
            "  mod_offline: {}\n"
            "  mod_ping: {}\n"
            "  mod_roster: {}\n")

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "HOME": str(self.workdir),
            "ERL_LIBS": self.ERL_LIBS,
            "EJABBERD_CONFIG_PATH": str(self.config_path),
            "EJABBERD_LOG_PATH": str(self.logs_dir / "ejabberd.log"),
            "ERL_CRASH_DUMP": str(self.logs_dir / "erl_crash.dump"),
            "ERL_CRASH_DUMP_BYTES": "0",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "CONTRIB_MODULES_PATH": str(self.workdir / "contrib"),
        })
        return env

    def _erl_base(self, node: str) -> list[str]:
        return ["erl", "-sname", node, "-setcookie", self.cookie,
                "-start_epmd", "false", "-erl_epmd_port", str(self.dist_port)]

    def _launch(self) -> subprocess.Popen:
        argv = self._erl_base(self.node) + [
            "-noinput",
            "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
            "+K", "true", "+P", "250000",
            "-mnesia", "dir", f'"{self.spool_dir}"',
            "-s", "ejabberd",
        ]
        return spawn(argv, log_path=self.console_log, env=self._env(), cwd=self.spool_dir)

    def ctl(self, *args: str, deadline: Optional[float] = None) -> str:
        """Runs an ejabberdctl command against this node; returns its stdout."""
        deadline = deadline or time.monotonic() + 30
        node = f"ctl_{secrets.token_hex(4)}@localhost"
        argv = self._erl_base(node) + ["-hidden", "-noinput", "-dist_listen", "false",
                                       "-s", "ejabberd_ctl", "-extra", self.node, *args]
        return self._run_tool(argv, deadline, env=self._env(),
                              what="ejabberdctl " + " ".join(args[:2])).stdout

    def _create_accounts(self, deadline: float) -> None:
        # Each ctl call boots a small Erlang VM (~3 s); run them side by side.
        errors: list[BaseException] = []

        def register(user: str, password: str) -> None:
            try:
                self.ctl("register", user, self.domain, password, deadline=deadline)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                errors.append(exc)

        threads = [threading.Thread(target=register, args=item) for item in self.users.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic()) + 5)
        if errors:
            raise errors[0]
        # mnesia writes its transaction log with a delay, so a SIGKILL soon
        # after could lose the new accounts; a clean stop puts them on disk.
        proc, self.proc = self.proc, None
        terminate_process(proc, timeout=max(5.0, deadline - time.monotonic()))
        self._prepare()
        self.proc = self._launch()
        self.wait_until_listening(deadline + 15)

    def _log_files(self) -> list[Path]:
        return [self.logs_dir / "ejabberd.log", self.logs_dir / "error.log"]


def _yaml_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


SERVER_KINDS = {"prosody": ProsodyServer, "ejabberd": EjabberdServer}


def make_server(kind: str, components: Iterable[ComponentEntry | tuple[str, str]] = (),
                users: Optional[dict[str, str]] = None, *,
                component_tls: Optional[TlsFiles] = None) -> XmppServer:
    """Creates (does not start) a server of the named kind; with component_tls
    its component port speaks direct TLS only."""
    try:
        cls = SERVER_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown server {kind!r}; choose one of {sorted(SERVER_KINDS)}") from None
    return cls(components, users, component_tls=component_tls)


def install_exit_on_signals() -> None:
    """Turns SIGTERM/SIGHUP into SystemExit so atexit cleanup still runs (e.g. on a runner timeout)."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def split_server_argv(argv: Sequence[str], default: str = "all") -> tuple[list[str], list[str]]:
    """Takes `--server prosody|ejabberd|all` out of argv.

    Returns (server kinds, remaining argv for unittest.main). The
    TRESTLE_IT_SERVER environment variable is the fallback.
    """
    rest = [argv[0]]
    choice = os.environ.get("TRESTLE_IT_SERVER", default)
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--server" and i + 1 < len(args):
            choice = args[i + 1]
            i += 2
            continue
        if arg.startswith("--server="):
            choice = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    kinds = sorted(SERVER_KINDS) if choice == "all" else [choice]
    for kind in kinds:
        if kind not in SERVER_KINDS:
            raise SystemExit(f"--server: unknown server {kind!r}; "
                             f"choose from {sorted(SERVER_KINDS)} or 'all'")
    return kinds, rest
