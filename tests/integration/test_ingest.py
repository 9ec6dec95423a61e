#!/usr/bin/env python3
"""The real sftpdrop-ingest on a temporary tree: uploads published like the
daemon does (staging file renamed onto the final name) and like WinSCP does
(NAME.filepart renamed to NAME) reach the spool and the uploads table exactly
once, with their SHA-256; temporary, staging, symlinked and misplaced files
never do; renames and restarts ingest nothing twice.

Needs SFTPDROP_INGEST (the program). Standard library only."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

INGEST = os.environ.get("SFTPDROP_INGEST", "")
STAGING = ".sftpdrop-staging."
DEADLINE_S = 60  # generous for sanitizer builds; every wait polls


class Failure(Exception):
    pass


def check(cond, what, expected=None, got=None):
    if not cond:
        msg = what
        if expected is not None or got is not None:
            msg += f"\n  expected: {expected!r}\n  got:      {got!r}"
        raise Failure(msg)


def wait_for(what, predicate, timeout=DEADLINE_S):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise Failure(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.05)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def publish_like_daemon(directory, name, data):
    """Write a staging file, then rename it onto the final name."""
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, STAGING + "t" + str(os.getpid()))
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(directory, name))


def publish_like_winscp(directory, name, data):
    """NAME.filepart written in pieces, then renamed to NAME."""
    part = os.path.join(directory, name + ".filepart")
    with open(part, "wb") as f:
        for i in range(0, len(data), 4096):
            f.write(data[i:i + 4096])
            f.flush()
    os.rename(part, os.path.join(directory, name))


class Instance:
    def __init__(self, base, spool=None):
        self.base = base
        self.root = os.path.join(base, "upload")
        self.spool = spool or os.path.join(base, "spool")
        self.db = os.path.join(base, "sftpdrop.db")
        self.conf = os.path.join(base, "sftpdrop.conf")
        self.procs = []
        os.makedirs(self.root)
        with open(self.conf, "w") as f:
            f.write(f"host_key = {base}/host_key\n"
                    f"database = {self.db}\n"
                    f"upload_root = {self.root}\n"
                    f"spool_dir = {self.spool}\n"
                    "ingest_settle_ms = 200\n"
                    "debug = yes\n")

    def start(self, logname):
        log = open(os.path.join(self.base, logname), "wb")
        p = subprocess.Popen([INGEST, "-c", self.conf, "-f"], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT)
        log.close()
        p.logpath = os.path.join(self.base, logname)
        self.procs.append(p)
        return p

    @staticmethod
    def log(p):
        with open(p.logpath, "r", errors="replace") as f:
            return f.read()

    def stop(self, p, sig=signal.SIGTERM):
        p.send_signal(sig)
        try:
            rc = p.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            raise Failure(f"ingest did not stop on signal {sig}")
        check(rc == 0, f"ingest exits 0 on signal {sig}\n{self.log(p)}", 0, rc)

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def uploads(self):
        """Rows of the uploads table, read-only; [] while it does not exist."""
        if not os.path.exists(self.db):
            return []
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
            try:
                con.row_factory = sqlite3.Row
                return [dict(r) for r in con.execute("SELECT * FROM uploads ORDER BY id")]
            finally:
                con.close()
        except sqlite3.OperationalError:
            return []

    def spool_files(self):
        out = []
        for dirpath, _, files in os.walk(self.spool):
            for name in files:
                out.append(os.path.relpath(os.path.join(dirpath, name), self.spool))
        return sorted(out)


def ingested(inst, relation, name, data):
    """The row for (relation, name) once it is ingested with data's hash."""
    want = hashlib.sha256(data).hexdigest()
    for row in inst.uploads():
        if (row["relation"] == relation and row["name"] == name and row["ingested_at"]
                and row["sha256"] == want):
            return row
    return None


def test_bad_config_is_reported_with_file_line_and_key(inst):
    bad = os.path.join(inst.base, "bad.conf")
    with open(bad, "w") as f:
        f.write("database = /x\nno_such_key = 1\n")
    r = subprocess.run([INGEST, "-c", bad, "-f"], capture_output=True, text=True,
                       timeout=DEADLINE_S)
    check(r.returncode == 1, "bad config exits 1", 1, r.returncode)
    check(bad in r.stderr and ":2:" in r.stderr and "no_such_key" in r.stderr,
          "the message names file, line and key", f"{bad}:2: ... no_such_key", r.stderr)
    r = subprocess.run([INGEST, "-f"], capture_output=True, text=True, timeout=DEADLINE_S,
                       env={k: v for k, v in os.environ.items() if k != "SFTPDROP_CONFIG"})
    check(r.returncode == 1, "no config at all exits 1", 1, r.returncode)


def other_file_system(base):
    """A writable directory on another file system than base, or None."""
    for cand in ("/dev/shm", "/run/shm"):
        try:
            if os.stat(cand).st_dev != os.stat(base).st_dev and os.access(cand, os.W_OK):
                return tempfile.mkdtemp(prefix="sftpdrop-ingest-spool.", dir=cand)
        except OSError:
            continue
    return None


def test_spool_on_another_file_system_gets_a_verified_copy(base):
    """No hard link across file systems: a copy, verified, under its final
    name only when complete, read-only; a restart does not copy it again."""
    spool = other_file_system(base)
    if spool is None:
        print("skip: no second file system for the copy path")
        return
    inst = Instance(os.path.join(base, "copy"), spool=os.path.join(spool, "spool"))
    try:
        rel = "4242"
        data = os.urandom(3_000_000)
        p1 = inst.start("ingest-copy-1.log")
        wait_for("the start-up rescan", lambda: "event=ingest_rescan_done" in inst.log(p1))
        publish_like_daemon(os.path.join(inst.root, rel), "big.bin", data)
        row = wait_for("big.bin ingested by copy", lambda: ingested(inst, rel, "big.bin", data))
        check('name="big.bin"' in inst.log(p1) and "method=copy" in inst.log(p1),
              "the log says it was copied", "method=copy", inst.log(p1))
        check(sha256_file(row["spool_path"]) == hashlib.sha256(data).hexdigest(),
              "the copy has the upload's SHA-256")
        mode = os.stat(row["spool_path"]).st_mode & 0o7777
        check(mode == 0o444, "the copy is read-only", "0o444", oct(mode))
        check(inst.spool_files() == [f"{rel}/{row['id']}-big.bin"],
              "only the final name in the spool, no temporary file",
              [f"{rel}/{row['id']}-big.bin"], inst.spool_files())
        inst.stop(p1)
        p2 = inst.start("ingest-copy-2.log")
        wait_for("big.bin recognised as ingested after the restart",
                 lambda: 'name="big.bin" reason=already_ingested' in inst.log(p2))
        check(len(inst.uploads()) == 1, "a restart copies nothing twice", 1,
              len(inst.uploads()))
        inst.stop(p2)
    except Failure:
        for p in inst.procs:
            print(f"--- log {p.logpath} ---\n{Instance.log(p)}", file=sys.stderr)
        raise
    finally:
        inst.kill_all()
        subprocess.run(["rm", "-rf", spool], check=False)


def main():
    if not INGEST or not os.access(INGEST, os.X_OK):
        print("SFTPDROP_INGEST must name the sftpdrop-ingest program", file=sys.stderr)
        return 1
    base = tempfile.mkdtemp(prefix="sftpdrop-ingest-test.")
    inst = Instance(base)
    passed = failed = 0
    try:
        test_bad_config_is_reported_with_file_line_and_key(inst)
        passed += 1
        failed += scenario(inst)
        passed += 1
        test_spool_on_another_file_system_gets_a_verified_copy(base)
        passed += 1
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        for p in inst.procs:
            print(f"--- log {p.logpath} ---\n{Instance.log(p)}", file=sys.stderr)
        failed += 1
    finally:
        inst.kill_all()
    print(f"{passed} passed, {failed} failed")
    if failed == 0:
        subprocess.run(["rm", "-rf", base], check=False)
    else:
        print(f"instance kept in {base}", file=sys.stderr)
    return 1 if failed else 0


def scenario(inst):
    root = inst.root
    rel = "123456"
    files = {}  # (relation, name) -> content

    # Present before ingest starts: found by the start-up rescan.
    os.makedirs(os.path.join(root, rel))
    before = b"uploaded while ingest was not running\n"
    with open(os.path.join(root, rel, "before.txt"), "wb") as f:
        f.write(before)
    files[(rel, "before.txt")] = before

    p1 = inst.start("ingest-1.log")
    wait_for("the start-up rescan", lambda: "event=ingest_rescan_done" in inst.log(p1))
    wait_for("before.txt ingested", lambda: ingested(inst, rel, "before.txt", before))

    # Published like the daemon and like WinSCP.
    report = os.urandom(100_000)
    publish_like_daemon(os.path.join(root, rel), "report.csv", report)
    files[(rel, "report.csv")] = report
    photo = os.urandom(70_000)
    publish_like_winscp(os.path.join(root, rel), "photo.jpg", photo)
    files[(rel, "photo.jpg")] = photo
    # A relation directory (and subdirectories) made while ingest runs.
    deep = b"in a directory made after start\n"
    publish_like_daemon(os.path.join(root, "777", "sub", "deep"), "d.bin", deep)
    files[("777", "sub/deep/d.bin")] = deep
    empty = b""
    publish_like_daemon(os.path.join(root, "777"), "empty", empty)
    files[("777", "empty")] = empty

    # Never ingested: a staging file and a .filepart that are never renamed,
    # a symlink, a file directly in upload_root, one outside any relation dir.
    with open(os.path.join(root, rel, STAGING + "abandoned"), "wb") as f:
        f.write(b"partial")
    with open(os.path.join(root, rel, "broken.zip.filepart"), "wb") as f:
        f.write(b"partial")
    os.symlink("/etc/hostname", os.path.join(root, rel, "link"))
    with open(os.path.join(root, "loose.txt"), "wb") as f:
        f.write(b"not in a relation")
    os.makedirs(os.path.join(root, "not-a-relation"))
    with open(os.path.join(root, "not-a-relation", "x.txt"), "wb") as f:
        f.write(b"not in a relation")

    for (relation, name), data in files.items():
        row = wait_for(f"{relation}/{name} ingested", lambda: ingested(inst, relation, name, data))
        spool = row["spool_path"]
        check(spool.startswith(os.path.join(inst.spool, relation) + "/"),
              "the spool file is in spool/<relation>/", inst.spool + "/" + relation, spool)
        check(os.path.basename(spool) == f"{row['id']}-{os.path.basename(name)}",
              "the spool file is named <id>-<basename>",
              f"{row['id']}-{os.path.basename(name)}", os.path.basename(spool))
        check(sha256_file(spool) == hashlib.sha256(data).hexdigest(),
              f"the spool copy of {name} has the upload's SHA-256")
        check(row["size"] == len(data), f"size of {name}", len(data), row["size"])
        mode = os.stat(spool).st_mode & 0o7777
        check(mode == 0o444, f"the spool file of {name} is read-only", "0o444", oct(mode))

    log1 = inst.log(p1)
    for (relation, name) in files:
        check(f'event=ingest_done relation={relation} name="{name}"' in log1,
              f"an ingest_done line for {relation}/{name}")
    check("event=ingest_error" not in log1, "no ingest_error in a clean run", "", log1)

    def no_temp_names():
        names = inst.spool_files()
        bad = [n for n in names if ".filepart" in n or STAGING in n or ".ingest-tmp." in n
               or "link" in n or "loose" in n or "x.txt" in n]
        check(not bad, "no temporary, staging, symlinked or misplaced name in the spool",
              [], bad)
        return names

    names = no_temp_names()
    check(len(names) == len(files), "one spool file per upload", len(files), names)
    rows = inst.uploads()
    check(len(rows) == len(files), "one uploads row per upload", len(files), rows)

    # A later client rename (and a directory rename) ingests nothing again.
    os.rename(os.path.join(root, rel, "report.csv"), os.path.join(root, rel, "report-v2.csv"))
    os.rename(os.path.join(root, "777", "sub"), os.path.join(root, "777", "sub2"))
    wait_for("the renamed file recognised as ingested", lambda:
             'name="report-v2.csv" reason=already_ingested' in inst.log(p1))
    # A file written into the renamed directory arrives under its new name.
    late = b"written after the directory rename\n"
    publish_like_daemon(os.path.join(root, "777", "sub2", "deep"), "late.bin", late)
    files[("777", "sub2/deep/late.bin")] = late
    wait_for("late.bin ingested under the new directory name",
             lambda: ingested(inst, "777", "sub2/deep/late.bin", late))
    rows = inst.uploads()
    check(len(rows) == len(files), "renames add no row", len(files), len(rows))

    # A second watcher on the same spool is refused.
    p_dup = inst.start("ingest-dup.log")
    rc = p_dup.wait(timeout=DEADLINE_S)
    check(rc == 1, "a second ingest on the same spool exits 1", 1, rc)
    check("reason=spool_locked" in inst.log(p_dup), "and says why", "reason=spool_locked",
          inst.log(p_dup))

    inst.stop(p1, signal.SIGTERM)
    check("event=ingest_stop" in inst.log(p1), "a stop line on SIGTERM")

    # Published while ingest is down; then a restart rescans everything.
    down = b"published while ingest was stopped\n"
    publish_like_daemon(os.path.join(root, rel), "while-down.txt", down)
    files[(rel, "while-down.txt")] = down
    p2 = inst.start("ingest-2.log")
    wait_for("while-down.txt ingested after the restart",
             lambda: ingested(inst, rel, "while-down.txt", down))
    present = [(rel, "before.txt"), (rel, "report-v2.csv"), (rel, "photo.jpg"),
               ("777", "sub2/deep/d.bin"), ("777", "empty"), ("777", "sub2/deep/late.bin")]
    for relation, name in present:
        wait_for(f"{relation}/{name} recognised as ingested after the restart",
                 lambda: f'relation={relation} name="{name}" reason=already_ingested'
                 in inst.log(p2))
    rows = inst.uploads()
    check(len(rows) == len(files), "a restart ingests nothing twice", len(files), len(rows))
    seen = set()
    for row in rows:
        key = (row["dev"], row["ino"])
        check(key not in seen, "each inode is ingested once", "unique", key)
        seen.add(key)
    names = no_temp_names()
    check(len(names) == len(files), "one spool file per upload after the restart",
          len(files), names)
    check("event=ingest_error" not in inst.log(p2), "no ingest_error after the restart", "",
          inst.log(p2))
    inst.stop(p2, signal.SIGINT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
