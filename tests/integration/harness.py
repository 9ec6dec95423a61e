"""Test harness: a throw-away sftpdrop instance on 127.0.0.1 with a free port.

It provisions with the real admin CLI, runs the real daemon and ingest in the
foreground, injects time through the test clock file (builds with
-DTEST_CLOCK=ON), and stops only the processes it started, by pid.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN = {
    "admin": os.environ.get("SFTPDROP_ADMIN", "sftpdrop-admin"),
    "daemon": os.environ.get("SFTPDROP_DAEMON", "sftpdropd"),
    "ingest": os.environ.get("SFTPDROP_INGEST", "sftpdrop-ingest"),
}

# A fixed, realistic start time for the test clock (2026-06-01T10:00:00Z).
T0 = 1780308000


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def totp(secret_b32, at):
    """The code for time `at`, from oathtool (the tool users' scripts use)."""
    out = subprocess.run(["oathtool", "--totp", "-b", "-N", "@%d" % at, secret_b32],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


class Instance:
    """One sftpdrop instance: config, database, host key, daemon, ingest."""

    def __init__(self, extra_conf="", start_ingest=True):
        self.dir = tempfile.mkdtemp(prefix="sftpdrop-it-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "sftpdrop.conf")
        self.clock_file = os.path.join(self.dir, "clock")
        self.now = T0
        self.set_clock(self.now)
        self.procs = []
        self.logs = {}
        self.admin("init", "--dir", self.dir, "--listen", "127.0.0.1:%d" % self.port)
        with open(self.conf, "a") as f:
            # Cheap hashing and short delays keep the suite fast; the logic
            # under test is the same.
            f.write("argon2_t_cost = 1\nargon2_m_cost_kib = 8192\n")
            f.write("auth_fail_delay_ms = 200\ningest_settle_ms = 200\n")
            f.write(extra_conf)
        self.upload_root = os.path.join(self.dir, "upload")
        self.spool = os.path.join(self.dir, "spool")
        self.start("daemon", [BIN["daemon"], "-c", self.conf, "-f"])
        wait_for(self._port_open, what="daemon to listen")
        if start_ingest:
            self.start("ingest", [BIN["ingest"], "-c", self.conf, "-f"])

    # -- processes ---------------------------------------------------------
    def env(self):
        e = dict(os.environ)
        e["SFTPDROP_TEST_CLOCK_FILE"] = self.clock_file
        return e

    def start(self, name, argv):
        with open(os.path.join(self.dir, name + ".log"), "ab") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=log, env=self.env())
        self.procs.append(p)
        self.logs[name] = os.path.join(self.dir, name + ".log")
        return p

    def _port_open(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def cleanup(self):
        self.stop()
        # A sanitizer report in any child process fails the test run.
        for name in self.logs:
            text = self.log(name)
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                           "runtime error:"):
                if marker in text:
                    raise AssertionError("%s in %s.log (kept in %s)" % (marker, name, self.dir))
        if os.environ.get("SFTPDROP_KEEP_TEST_DIRS"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self, name="daemon"):
        with open(self.logs[name], "r", errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, name="daemon", timeout=15):
        return wait_for(lambda: re.search(pattern, self.log(name)), timeout,
                        "log line /%s/ in %s.log" % (pattern, name))

    # -- time --------------------------------------------------------------
    def set_clock(self, t):
        self.now = t
        tmp = self.clock_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % t)
        os.replace(tmp, self.clock_file)

    def next_step(self):
        """Move the clock one TOTP step on, so that a fresh code exists."""
        self.set_clock(self.now + 30)
        return self.now

    # -- provisioning ------------------------------------------------------
    def admin(self, *args, check=True):
        argv = [BIN["admin"], "-c", self.conf] + list(args)
        if args and args[0] == "init":
            argv = [BIN["admin"]] + list(args)
        r = subprocess.run(argv, capture_output=True, text=True, env=self.env())
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (argv, r.returncode, r.stderr))
        return r

    def admin_json(self, *args):
        return json.loads(self.admin(*args, "--json").stdout)

    def add_relation(self, number, name="Test relatie"):
        self.admin("relation", "add", number, "--name", name)

    def add_user(self, relation, username, name="J. Jansen"):
        u = self.admin_json("user", "add", relation, username, "--name", name,
                            "--email", username + "@example.org")
        return User(self, u)

    def uploads(self):
        return self.admin_json("uploads")

    def wait_ingested(self, relation, name, timeout=30):
        def find():
            for u in self.uploads():
                if u["relation"] == relation and u["name"] == name and u["sha256"]:
                    return u
            return None
        return wait_for(find, timeout, "ingest of %s/%s" % (relation, name))


class User:
    def __init__(self, inst, info):
        self.inst = inst
        self.login = info["login"]
        self.password = info["one_time_password"]
        uri = info["totp_uri"]
        self.secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)

    def code(self):
        """A code for a fresh step (each code is accepted once)."""
        return totp(self.secret, self.inst.next_step())


def paramiko_connect(inst, login, password, code, path="kbdint", sftp=True):
    """Log in with paramiko. path "password": password method then
    keyboard-interactive for the code (partial success); path "kbdint":
    keyboard-interactive alone, answering by prompt text. Returns
    (transport, sftp); raises paramiko.AuthenticationException on refusal."""
    import paramiko

    sock = socket.create_connection(("127.0.0.1", inst.port), timeout=30)
    t = paramiko.Transport(sock)
    t.start_client(timeout=30)
    seen = []

    def handler(title, instructions, prompts):
        answers = []
        for text, _echo in prompts:
            seen.append(text)
            if text == "Password: ":
                answers.append(password)
            elif text == "Verification code: ":
                answers.append(code)
            else:
                raise AssertionError("unexpected prompt %r" % text)
        return answers

    try:
        if path == "password":
            rest = t.auth_password(login, password)
            assert rest == ["keyboard-interactive"], rest
            t.auth_interactive(login, handler)
        else:
            t.auth_interactive(login, handler)
    except Exception:
        t.close()
        raise
    t.prompts_seen = seen
    return t, (paramiko.SFTPClient.from_transport(t) if sftp else None)
