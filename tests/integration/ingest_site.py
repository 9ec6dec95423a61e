"""Helpers shared by the ingest integration tests (test_ingest_faults.py,
test_ingest_life.py): an instance whose ingest watcher the test starts, kills
and restarts itself (optionally with the test-only fault switch), read-only
looks at the store, the spool and the receipts, and paramiko clients.

Builds on harness.py; works with both of its login helpers (a plain
password+code login and the account life cycle's first-login dialogue)."""
import hashlib
import inspect
import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import harness

REL = "123456"
STAGING = ".sftpdrop-staging."
RECEIPTS_DIR = ".sftpdrop-receipts"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def ready_user(inst, relation, username):
    """An account that can log in and upload."""
    if hasattr(inst, "add_ready_user"):
        return inst.add_ready_user(relation, username)
    return inst.add_user(relation, username)


def connect(inst, user):
    """(transport, sftp) for user, whichever login helper the harness has."""
    params = inspect.signature(harness.paramiko_connect).parameters
    if "login" in params:
        return harness.paramiko_connect(inst, user.login, user.password, user.code())
    return harness.paramiko_connect(inst, user)


class Site(harness.Instance):
    """harness.Instance with the watcher under the test's control."""

    def __init__(self, extra_conf="", daemon_env=None, start_ingest=True):
        self.daemon_env = dict(daemon_env or {})
        self.ingest = None
        super().__init__(extra_conf=extra_conf, start_ingest=False)
        self.db = self.conf_value("database")
        if start_ingest:
            self.start_ingest()

    def conf_value(self, key):
        with open(self.conf) as f:
            for line in f:
                m = re.match(r"\s*%s\s*=\s*(.*?)\s*$" % re.escape(key), line)
                if m:
                    return m.group(1)
        return None

    def set_conf(self, key, value):
        """Replace (or add) one key; for the watcher's next start."""
        with open(self.conf) as f:
            lines = [ln for ln in f if not re.match(r"\s*%s\s*=" % re.escape(key), ln)]
        lines.append("%s = %s\n" % (key, value))
        with open(self.conf, "w") as f:
            f.writelines(lines)

    def start(self, name, argv, extra_env=None):
        env = self.env()
        if name == "daemon":
            env.update(self.daemon_env)
        env.update(extra_env or {})
        with open(os.path.join(self.dir, name + ".log"), "ab") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=log, env=env,
                                 stdin=subprocess.DEVNULL)
        self.procs.append(p)
        self.logs[name] = os.path.join(self.dir, name + ".log")
        return p

    # -- the watcher -------------------------------------------------------
    def start_ingest(self, fault=None):
        assert self.ingest is None or self.ingest.poll() is not None
        extra = {"SFTPDROP_TEST_FAULT": fault} if fault else {}
        self.ingest = self.start("ingest", [harness.BIN["ingest"], "-c", self.conf, "-f"],
                                 extra)
        return self.ingest

    def kill_ingest(self):
        """kill -9: no clean-up of any kind."""
        if self.ingest and self.ingest.poll() is None:
            self.ingest.send_signal(signal.SIGKILL)
        if self.ingest:
            self.ingest.wait(timeout=30)

    def stop_ingest(self):
        if self.ingest and self.ingest.poll() is None:
            self.ingest.send_signal(signal.SIGTERM)
            self.ingest.wait(timeout=30)

    def ingest_alive(self):
        return self.ingest is not None and self.ingest.poll() is None

    # -- looking (read-only) -----------------------------------------------
    def query(self, sql, args=()):
        for _ in range(50):
            try:
                con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
                try:
                    con.row_factory = sqlite3.Row
                    return [dict(r) for r in con.execute(sql, args)]
                finally:
                    con.close()
            except sqlite3.OperationalError:
                time.sleep(0.1)
        raise AssertionError("database stays locked")

    def rows(self, relation=REL):
        return self.query("SELECT * FROM uploads WHERE relation = ? ORDER BY id", (relation,))

    def rows_named(self, name, relation=REL):
        return self.query("SELECT * FROM uploads WHERE relation = ? AND name = ? ORDER BY id",
                          (relation, name))

    def wait_done(self, name, relation=REL, timeout=60, hook=False):
        """The single row of name once ingested, with its receipt written
        (and with hook, its hook done)."""
        def done():
            rows = self.rows_named(name, relation)
            if rows and rows[-1]["ingested_at"] and rows[-1]["receipt_at"] and \
                    (not hook or rows[-1]["hook_state"] == "done"):
                return rows
            return None
        return harness.wait_for(done, timeout, "ingest of %s/%s" % (relation, name))

    def relation_dir(self, relation=REL):
        return os.path.join(self.upload_root, relation)

    def spool_files(self, relation=REL):
        d = os.path.join(self.spool, relation)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def receipt_files(self, relation=REL):
        d = os.path.join(self.relation_dir(relation), RECEIPTS_DIR)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def receipt(self, row):
        path = os.path.join(self.relation_dir(row["relation"]), RECEIPTS_DIR,
                            row["receipt_name"])
        with open(path) as f:
            return json.load(f)

    def staging_files(self, relation=REL):
        out = []
        for dirpath, _dirs, files in os.walk(self.relation_dir(relation)):
            out += [os.path.join(dirpath, f) for f in files if f.startswith(STAGING)]
        return out

    def partials(self):
        return self.admin_json("uploads", "--partial")

    def audit(self, event, relation=REL):
        return self.query("SELECT * FROM audit WHERE event = ? AND relation = ? ORDER BY id",
                          (event, relation))

    def worker_pid(self, since):
        """The worker of the newest connection logged after offset since
        (the monitor's child)."""
        pids = re.findall(r"event=connection src=\S+ pid=(\d+)", self.log()[since:])
        assert pids, "no connection logged"
        mon = int(pids[-1])
        with open("/proc/%d/task/%d/children" % (mon, mon)) as f:
            kids = f.read().split()
        assert kids, "monitor %d has no worker" % mon
        return int(kids[0])
