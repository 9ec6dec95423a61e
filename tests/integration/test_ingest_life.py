"""An upload's life after CLOSE, with the real daemon, watcher and paramiko:
receipts the relation reads (read-only) through SFTP and the operator reads
with sftpdrop-admin, the ingest hook (failing, hanging, hostile names),
STAT/SETSTAT right after CLOSE, retention of published files, receipts and
interrupted uploads, and overwriting an ingested name."""
import errno
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from ingest_site import REL, STAGING, Site, connect, ready_user, sha  # noqa: E402

# Fails its first two runs for names starting with "fail2", hangs its first
# run for names starting with "hang"; records argv and environment per run.
HOOK = r"""#!/bin/sh
d=$(dirname "$0")
n=$(cat "$d/runs.$SFTPDROP_ID" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$d/runs.$SFTPDROP_ID"
for a in "$0" "$@"; do printf '%s\0' "$a"; done > "$d/argv.$SFTPDROP_ID.$n"
env -0 > "$d/env.$SFTPDROP_ID.$n"
echo $$ > "$d/pid.$SFTPDROP_ID.$n"
case "$SFTPDROP_NAME" in
fail2*) if [ $n -le 2 ]; then echo "failing on purpose, run $n"; exit 3; fi ;;
hang*) if [ $n -le 1 ]; then exec sleep 60; fi ;;
esac
exit 0
"""

HOSTILE = "fail2 -rf $(touch PWNED) `touch PWNED2`; 'q' \"x\" *.txt"


class LifeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site(extra_conf="upload_retention = 3600\nreceipt_retention = 7200\n"
                                   "partial_retention = 600\n")
        cls.site.add_relation(REL)
        cls.site.add_relation("654321")
        cls.user = ready_user(cls.site, REL, "anna")
        cls.other = ready_user(cls.site, "654321", "bert")

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def sftp(self, user=None):
        t, sftp = connect(self.site, user or self.user)
        self.addCleanup(t.close)
        return t, sftp

    def put(self, sftp, name, data, mode="wb"):
        with sftp.open(name, mode) as f:
            f.write(data)

    def assert_refused(self, fn, *args):
        with self.assertRaises(IOError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.errno, errno.EACCES, (fn.__name__, args))
        return cm.exception

    # ------------------------------------------------------------------
    def test_receipts_are_readable_through_sftp_and_read_only(self):
        s = self.site
        _, sftp = self.sftp()
        data = b"a;b\n1;2\n"
        self.put(sftp, "report 1.csv", data)
        row = s.wait_done("report 1.csv")[0]
        self.assertIn(".receipts", sftp.listdir("/"))
        name = row["receipt_name"]
        self.assertEqual(name, "%d-report 1.csv.json" % row["id"])
        self.assertIn(name, sftp.listdir("/.receipts"))
        # Readable although downloads are off; the uploads themselves not.
        with sftp.open("/.receipts/" + name, "rb") as f:
            rec = json.loads(f.read())
        self.assert_refused(lambda: sftp.open("report 1.csv", "rb").read())
        self.assertEqual(rec, {
            "receipt": 1, "id": row["id"], "relation": REL, "user": "anna",
            "name": "report 1.csv", "size": len(data), "sha256": sha(data),
            "received_at": rec["received_at"], "ingested_at": rec["ingested_at"],
            "source": "127.0.0.1"})
        self.assertRegex(rec["ingested_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # Nothing in the window can be changed, whatever the request.
        e = self.assert_refused(self.put, sftp, "/.receipts/fake.json", b"{}")
        self.assertIn("receipts are read-only", str(e))
        self.assert_refused(sftp.remove, "/.receipts/" + name)
        self.assert_refused(sftp.rename, "/.receipts/" + name, "/stolen.json")
        self.assert_refused(sftp.rename, "report 1.csv", "/.receipts/x.json")
        self.assert_refused(sftp.posix_rename, "report 1.csv", "/.receipts/" + name)
        self.assert_refused(sftp.mkdir, "/.receipts/sub")
        self.assert_refused(sftp.rmdir, "/.receipts")
        self.assert_refused(sftp.rename, "/.receipts", "/r2")
        self.assert_refused(sftp.utime, "/.receipts/" + name, (1, 1))
        self.assert_refused(sftp.chmod, "/.receipts/" + name, 0o666)
        with sftp.open("/.receipts/" + name, "rb") as f:
            self.assert_refused(f.utime, (1, 1))
        sftp.mkdir("/d")
        self.assert_refused(sftp.rename, "/d", "/.receipts/d")
        # Under its real name it is out of reach like every reserved name.
        self.assert_refused(sftp.stat, "/.sftpdrop-receipts")
        self.assert_refused(sftp.listdir, "/.sftpdrop-receipts")
        self.assertEqual(sftp.normalize("/.receipts/../.receipts/x"), "/.receipts/x")
        with open(os.path.join(s.relation_dir(), ".sftpdrop-receipts", name)) as f:
            self.assertEqual(json.load(f), rec)
        # Another relation sees its own receipts only.
        _, other = self.sftp(self.other)
        self.put(other, "theirs.txt", b"theirs")
        orow = s.wait_done("theirs.txt", relation="654321")[0]
        self.assertEqual(other.listdir("/.receipts"), [orow["receipt_name"]])
        self.assertNotIn(orow["receipt_name"], sftp.listdir("/.receipts"))
        # The operator: receipt, source and user in `uploads`, and the audit
        # trail.
        up = [u for u in s.uploads() if u["id"] == row["id"]][0]
        self.assertEqual((up["receipt"], up["source"], up["user"], up["state"]),
                         ("/.receipts/" + name, "127.0.0.1", "anna", "ingested"))
        audit = [a for a in s.audit("upload_ingested") if ("id=%d " % row["id"]) in a["detail"]]
        self.assertEqual(len(audit), 1)
        self.assertEqual((audit[0]["username"], audit[0]["src"]), ("anna", "127.0.0.1"))
        self.assertIn(sha(data), audit[0]["detail"])

    def test_stat_setstat_list_right_after_close_and_retention(self):
        s = self.site
        _, sftp = self.sftp()
        data = os.urandom(20000)
        self.put(sftp, "kept.bin", data)
        # What WinSCP and `put -p` do right after CLOSE, before and while
        # the watcher takes its copy: no errors.
        for _ in range(5):
            self.assertEqual(sftp.stat("kept.bin").st_size, len(data))
            sftp.utime("kept.bin", (1700000000, 1700000000))
            sftp.chmod("kept.bin", 0o644)
            self.assertIn("kept.bin", sftp.listdir("/"))
            time.sleep(0.1)
        row = s.wait_done("kept.bin")[0]
        st = sftp.stat("kept.bin")
        self.assertEqual((st.st_size, st.st_mtime), (len(data), 1700000000))
        sftp.utime("kept.bin", (1700000001, 1700000001))
        self.assertEqual(harness.sha256_file(row["spool_path"]), sha(data))
        # Seen by the relation for upload_retention, then taken away; the
        # spool copy and the receipt stay.
        s.set_clock(s.now + 3601)
        harness.wait_for(lambda: "kept.bin" not in os.listdir(s.relation_dir()), 30,
                         "kept.bin removed after upload_retention")
        self.assertNotIn("kept.bin", sftp.listdir("/"))
        self.assertEqual(harness.sha256_file(row["spool_path"]), sha(data))
        self.assertIn(row["receipt_name"], sftp.listdir("/.receipts"))
        self.assertIn("event=upload_expired", s.log("ingest"))
        up = [u for u in s.uploads() if u["id"] == row["id"]][0]
        self.assertEqual(up["state"], "ingested,expired")
        # A new upload under the same name is not touched by the old one's
        # retention.
        self.put(sftp, "kept.bin", b"new")
        s.wait_done("kept.bin")
        time.sleep(2.5)
        self.assertIn("kept.bin", sftp.listdir("/"))
        # The receipt goes after receipt_retention.
        s.set_clock(s.now + 3600)
        harness.wait_for(lambda: row["receipt_name"] not in s.receipt_files(), 30,
                         "receipt removed after receipt_retention")
        self.assertNotIn(row["receipt_name"], sftp.listdir("/.receipts"))
        self.assertIn("event=receipt_expired", s.log("ingest"))

    def test_overwriting_an_ingested_name_is_a_new_upload(self):
        s = self.site
        _, sftp = self.sftp()
        v1, v2, more = b"version one\n", b"version two, longer\n", b"appended\n"
        self.put(sftp, "same.txt", v1)
        r1 = s.wait_done("same.txt")[-1]
        self.put(sftp, "same.txt", v2)
        harness.wait_for(lambda: len([r for r in s.rows_named("same.txt")
                                      if r["receipt_at"]]) == 2, 30, "second upload")
        self.put(sftp, "same.txt", more, mode="a")
        harness.wait_for(lambda: len([r for r in s.rows_named("same.txt")
                                      if r["receipt_at"]]) == 3, 30, "third upload")
        rows = s.rows_named("same.txt")
        self.assertEqual([r["sha256"] for r in rows], [sha(v1), sha(v2), sha(v2 + more)])
        self.assertEqual(len({r["spool_path"] for r in rows}), 3)
        for r, want in zip(rows, (v1, v2, v2 + more)):
            self.assertEqual(harness.sha256_file(r["spool_path"]), sha(want))
        self.assertEqual(r1["id"], rows[0]["id"])
        names = sftp.listdir("/.receipts")
        for r in rows:
            self.assertIn(r["receipt_name"], names)

    def test_interrupted_upload_kept_for_partial_retention_then_removed(self):
        s = self.site
        t, sftp = connect(s, self.user)
        f = sftp.open("sub dir part.bin", "wb")
        f.write(b"x" * 5000)
        f.flush()
        harness.wait_for(lambda: s.staging_files(), 10, "the staging file")
        parts = s.partials()
        self.assertEqual([(p["path"], p["state"]) for p in parts],
                         [("sub dir part.bin", "in_progress")])
        # An upload in progress is invisible to everyone else.
        _, other = self.sftp()
        with self.assertRaises(IOError):
            other.stat("sub dir part.bin")
        t.close()  # the connection ends without CLOSE
        harness.wait_for(lambda: [p["state"] for p in s.partials()] == ["interrupted"], 30,
                         "the partial interrupted")
        self.assertEqual(other.stat("sub dir part.bin").st_size, 5000)
        self.assertNotIn("sub dir part.bin", other.listdir("/"))
        self.assertEqual(s.rows_named("sub dir part.bin"), [])
        self.assertIn("event=sftp_partial", s.log())
        # Older than partial_retention (by the file's own clock): removed
        # when the watcher looks (at the latest at its next start).
        path = s.staging_files()[0]
        old = time.time() - 601
        os.utime(path, (old, old))
        s.stop_ingest()
        s.start_ingest()
        harness.wait_for(lambda: not s.staging_files(), 30, "the partial removed")
        self.assertEqual(s.partials(), [])
        self.assertIn("event=partial_expired", s.log("ingest"))
        with self.assertRaises(IOError):
            other.stat("sub dir part.bin")


class HookTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = Site(extra_conf="ingest_hook_timeout = 1\n", start_ingest=False)
        cls.hook = os.path.join(cls.site.dir, "hook.sh")
        with open(cls.hook, "w") as f:
            f.write(HOOK)
        os.chmod(cls.hook, 0o755)
        cls.site.set_conf("ingest_hook", cls.hook)
        cls.site.add_relation(REL)
        cls.user = ready_user(cls.site, REL, "hookuser")
        cls.site.start_ingest()

    @classmethod
    def tearDownClass(cls):
        cls.site.cleanup()

    def runs(self, row):
        with open(os.path.join(self.site.dir, "runs.%d" % row["id"])) as f:
            return int(f.read())

    def run_file(self, kind, row, n):
        with open(os.path.join(self.site.dir, "%s.%d.%d" % (kind, row["id"], n)), "rb") as f:
            return [x.decode() for x in f.read().split(b"\0")[:-1]]

    def test_hook_fails_twice_then_succeeds_with_the_receipt_as_argv_and_env(self):
        s = self.site
        t, sftp = connect(s, self.user)
        data = b"hostile name, harmless content\n"
        with sftp.open(HOSTILE, "wb") as f:
            f.write(data)
        t.close()
        row = s.wait_done(HOSTILE, hook=True, timeout=60)[0]
        self.assertEqual(self.runs(row), 3)
        self.assertEqual(row["hook_attempts"], 3)
        log = s.log("ingest")
        failed = [ln for ln in log.splitlines()
                  if "event=hook_failed id=%d " % row["id"] in ln]
        self.assertEqual(len(failed), 2, failed)
        self.assertIn("reason=exit status=3", failed[0])
        self.assertIn('output="failing on purpose, run 1', failed[0])
        self.assertIn("event=hook_done id=%d attempt=3" % row["id"], log)
        self.assertEqual([a["outcome"] for a in s.audit("hook_failed")], ["failed", "failed"])
        self.assertEqual(len(s.audit("hook_done")), 1)
        argv = self.run_file("argv", row, 3)
        want = {
            "id": str(row["id"]), "relation": REL, "user": "hookuser", "name": HOSTILE,
            "size": str(len(data)), "sha256": sha(data), "source": "127.0.0.1",
            "spool_path": row["spool_path"],
            "receipt": "/.receipts/" + row["receipt_name"], "attempt": "3",
        }
        self.assertEqual(argv[0], self.hook)
        got = dict(a.split("=", 1) for a in argv[1:])
        for k, v in want.items():
            self.assertEqual(got[k], v, k)
        self.assertFalse(any(a.startswith("-") for a in argv[1:]))
        env = dict(e.split("=", 1) for e in self.run_file("env", row, 3))
        for k, v in want.items():
            self.assertEqual(env["SFTPDROP_" + k.upper()], v, k)
        self.assertNotIn("SFTPDROP_TEST_CLOCK_FILE", env)
        for d in (s.dir, "/", s.relation_dir(), s.spool):
            self.assertFalse(os.path.exists(os.path.join(d, "PWNED")))
            self.assertFalse(os.path.exists(os.path.join(d, "PWNED2")))
        up = [u for u in s.uploads() if u["id"] == row["id"]][0]
        self.assertEqual((up["hook"]["state"], up["hook"]["attempts"]), ("done", 3))

    def test_hook_that_hangs_is_killed_and_retried_while_ingest_goes_on(self):
        s = self.site
        t, sftp = connect(s, self.user)
        with sftp.open("hang.txt", "wb") as f:
            f.write(b"slow hook\n")
        hang = s.wait_done("hang.txt")[0]
        harness.wait_for(lambda: os.path.exists(os.path.join(s.dir, "pid.%d.1" % hang["id"])),
                         10, "the first run")
        # The hook hangs: other uploads are ingested meanwhile.
        with sftp.open("meanwhile.txt", "wb") as f:
            f.write(b"not blocked\n")
        t.close()
        mid = s.wait_done("meanwhile.txt", hook=True, timeout=30)[0]
        self.assertTrue(mid["ingested_at"])
        row = s.wait_done("hang.txt", hook=True, timeout=30)[0]
        self.assertEqual(self.runs(row), 2)
        log = s.log("ingest")
        self.assertIn("event=hook_failed id=%d attempt=1 reason=timeout" % row["id"], log)
        self.assertIn("timeout", row["hook_error"] or "timeout")
        with open(os.path.join(s.dir, "pid.%d.1" % row["id"])) as f:
            pid = int(f.read())
        # Killed with its process group, and reaped.
        self.assertFalse(os.path.exists("/proc/%d" % pid))


if __name__ == "__main__":
    unittest.main(verbosity=2)
