"""Test harness: a throw-away sftpdrop instance on 127.0.0.1 with a free port.

It provisions with the real admin CLI, runs the real daemon and ingest in the
foreground, injects time through the test clock file (builds with
-DTEST_CLOCK=ON), and stops only the processes it started, by pid.
"""
import atexit
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
        # unittest skips tearDownClass when setUpClass fails: never leave
        # the daemon or the watcher running behind a failed test.
        atexit.register(self.stop)
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
        e["TZ"] = "UTC"  # greetings and dates in the dialogue are local time
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

    def add_user(self, relation, username, name="J. Jansen", totp=True):
        """A new account as the admin tool makes it (one-time password,
        activation code; with totp the TOTP secret is pre-provisioned)."""
        args = ["user", "add", relation, username, "--name", name,
                "--email", username + "@example.org"]
        if totp:
            args.append("--totp")
        return User(self, self.admin_json(*args))

    def add_ready_user(self, relation, username, name="J. Jansen"):
        """An account that has done its first login (activated, own password,
        TOTP in use): what most tests need."""
        u = self.add_user(relation, username, name)
        t, _ = paramiko_connect(self, u, new_passwords=[u.next_password()], sftp=False)
        t.close()
        return u

    def add_batch_user(self, relation, username, from_=None, key_type="ed25519",
                       bits=None):
        """A batch (key-only) account with one new key: returns the path of
        the private key (the public one is PATH.pub)."""
        args = ["user", "add", relation, username, "--name", "Batch " + username,
                "--email", username + "@example.org", "--batch"]
        if from_:
            args += ["--from", from_]
        self.admin(*args)
        key = self.new_key(username, key_type, bits)
        with open(key + ".pub") as f:
            self.admin_stdin(f.read(), "key", "add", relation, username)
        return key

    def new_key(self, name, key_type="ed25519", bits=None):
        """A fresh key pair in the instance directory (ssh-keygen)."""
        path = os.path.join(self.dir, "key-%s-%s%s" % (name, key_type, bits or ""))
        argv = ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", name + "@test",
                "-f", path]
        if bits:
            argv += ["-b", str(bits)]
        subprocess.run(argv, check=True, capture_output=True)
        return path

    def admin_stdin(self, text, *args, check=True):
        """sftpdrop-admin with text on standard input."""
        argv = [BIN["admin"], "-c", self.conf] + list(args)
        r = subprocess.run(argv, input=text, capture_output=True, text=True, env=self.env())
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (argv, r.returncode, r.stderr))
        return r

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
        self.username = self.login.split(".", 1)[-1]
        self.password = info["one_time_password"]
        self.activation = info.get("activation_code")
        uri = info.get("totp_uri")
        self.secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1) if uri else None
        self.generation = 0

    def code(self):
        """A code for a fresh step (each code is accepted once)."""
        return totp(self.secret, self.inst.next_step())

    def next_password(self):
        """A new password that meets the policy and was never used."""
        self.generation += 1
        return "Nieuw-Wachtwoord-%d!" % self.generation


# The prompts of the login dialogue, in both languages (docs/login.md).
PROMPTS = {
    "password": ("Password: ",),
    "activation": ("Activation code: ", "Activatiecode: "),
    "new": ("New password: ", "Nieuw wachtwoord: "),
    "repeat": ("Repeat new password: ", "Herhaal nieuw wachtwoord: "),
    "code": ("Verification code: ", "Verificatiecode: "),
}


def prompt_kind(text):
    for kind, texts in PROMPTS.items():
        if text in texts:
            return kind
    raise AssertionError("unexpected prompt %r" % text)


class Dialogue:
    """Answers keyboard-interactive rounds by prompt text and records them.

    new_passwords: answers to successive "New password" prompts; repeat_wrong:
    the repeat differs the first time; code: a fixed code, else a fresh one
    from the user's secret (or from the secret shown at enrolment)."""

    def __init__(self, user, password=None, code=None, activation=None,
                 new_passwords=None, repeat_wrong=False):
        self.user = user
        self.password = user.password if password is None else password
        self.code = code
        self.activation = user.activation if activation is None else activation
        self.new_passwords = list(new_passwords or [])
        self.repeat_wrong = repeat_wrong
        self.last_new = None
        self.accepted_new = None
        self.rounds = []  # (instruction, [prompt texts])
        self.enrol_secret = None

    def handler(self, title, instructions, prompts):
        self.rounds.append((instructions, [p for p, _ in prompts]))
        answers = []
        for text, _echo in prompts:
            kind = prompt_kind(text)
            if kind == "password":
                answers.append(self.password)
            elif kind == "activation":
                answers.append(self.activation or "")
            elif kind == "new":
                self.last_new = self.new_passwords.pop(0) if self.new_passwords else "x"
                answers.append(self.last_new)
            elif kind == "repeat":
                if self.repeat_wrong:
                    self.repeat_wrong = False
                    answers.append(self.last_new + "typo")
                else:
                    self.accepted_new = self.last_new
                    answers.append(self.last_new)
            else:
                m = re.search(r"secret=([A-Z2-7]+)", instructions)
                if m:
                    self.enrol_secret = m.group(1)
                    answers.append(self.code or totp(self.enrol_secret, self.user.inst.now))
                else:
                    answers.append(self.code or totp(self.user.secret, self.user.inst.now))
        return answers

    def instructions(self):
        return "\n".join(i for i, _ in self.rounds)


def paramiko_connect(inst, user, path="kbdint", sftp=True, **dialogue):
    """Log in with paramiko as user. path "password": the password method,
    then keyboard-interactive (partial success); path "kbdint":
    keyboard-interactive alone. The clock moves one TOTP step first, so a
    fresh code exists. On success the user's password and secret follow what
    the dialogue changed. Returns (transport, sftp or None) with
    transport.dialogue; raises paramiko.AuthenticationException on refusal
    (the Dialogue is then in exc.dialogue)."""
    import paramiko

    inst.next_step()
    d = Dialogue(user, **dialogue)
    sock = socket.create_connection(("127.0.0.1", inst.port), timeout=30)
    t = paramiko.Transport(sock)
    t.start_client(timeout=30)
    try:
        if path == "password":
            rest = t.auth_password(user.login, d.password)
            assert rest == ["keyboard-interactive"], rest
        t.auth_interactive(user.login, d.handler)
    except paramiko.AuthenticationException as e:
        t.close()
        e.dialogue = d
        raise
    except Exception:
        t.close()
        raise
    if d.accepted_new:
        user.password = d.accepted_new
    if d.enrol_secret:
        user.secret = d.enrol_secret
    t.dialogue = d
    return t, (paramiko.SFTPClient.from_transport(t) if sftp else None)
