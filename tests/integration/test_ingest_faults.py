"""Exactly once through crashes: the real daemon and watcher, real clients
(paramiko), and faults injected from outside (kill -9 of the watcher and of
a worker, a stopped watcher) and from inside (the test-only fault switch
SFTPDROP_TEST_FAULT, which builds with -DTEST_CLOCK=ON honour, crashing a
process between two steps of an upload's life). After each, every upload
that was cleanly closed is ingested exactly once with its SHA-256, and
nothing that was not closed ever is."""
import os
import random
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from ingest_site import REL, Site, connect, ready_user, sha  # noqa: E402

# Names a shell, getopt or a careless script would get wrong.
NAMES = [
    "-lead dash {i}-{k}.csv",
    "with space {i} {k}.txt",
    "shell $(touch PWNED) `id`; rm -rf x & {i}_{k}|.dat",
    "quote ' \" {i}-{k}",
    "ünïcødé {i}-{k}.xml",
    "plain{i}-{k}.bin",
]

HOOK = r"""#!/bin/sh
# Test hook: counts its runs per upload id.
d=$(dirname "$0")
n=$(cat "$d/runs.$SFTPDROP_ID" 2>/dev/null || echo 0)
echo $((n + 1)) > "$d/runs.$SFTPDROP_ID"
exit 0
"""


class FaultsTest(unittest.TestCase):
    def setUp(self):
        self.sites = []

    def tearDown(self):
        for s in self.sites:
            s.cleanup()

    def site(self, **kw):
        s = Site(**kw)
        self.sites.append(s)
        s.add_relation(REL)
        return s

    def assert_exactly_once(self, site, expected):
        """expected: name -> sha256 of what the client closed."""
        rows = site.rows()
        by_name = {}
        for r in rows:
            by_name.setdefault(r["name"], []).append(r)
        for name, want in expected.items():
            got = by_name.get(name, [])
            self.assertEqual(len(got), 1, "one row for %r, got %r" % (name, got))
            r = got[0]
            self.assertTrue(r["ingested_at"], "%r ingested" % name)
            self.assertEqual(r["sha256"], want, "SHA-256 of %r" % name)
            self.assertEqual(harness.sha256_file(r["spool_path"]), want,
                             "spool copy of %r" % name)
            self.assertEqual(site.receipt(r)["sha256"], want, "receipt of %r" % name)
        spool = site.spool_files()
        self.assertEqual(len(spool), len(rows), "one spool file per upload: %r" % spool)
        self.assertEqual(len(site.receipt_files()), len(rows), "one receipt per upload")
        self.assertEqual(len(site.audit("upload_ingested")), len(rows),
                         "one audit row per upload")

    # ------------------------------------------------------------------
    def test_watcher_killed_at_random_during_300_uploads_each_ingested_once(self):
        site = self.site()
        users = [ready_user(site, REL, "client%d" % i) for i in range(4)]
        conns = [connect(site, u) for u in users]
        expected, errors = {}, []
        lock = threading.Lock()

        def client(i, sftp):
            rnd = random.Random(1000 + i)
            try:
                for k in range(75):
                    name = NAMES[k % len(NAMES)].format(i=i, k=k)
                    data = os.urandom(rnd.choice((0, 1, 100, 4096, 30000, 70000)))
                    with sftp.open(name, "wb") as f:
                        f.write(data)
                    with lock:
                        expected[name] = sha(data)
                    # A stream over some seconds, so that the kills land
                    # while uploads arrive and while they are ingested.
                    time.sleep(rnd.uniform(0, 0.06))
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(i, c[1])) for i, c in enumerate(conns)]
        for t in threads:
            t.start()
        rnd = random.Random(7)
        kills = half_done = 0
        after = 10  # kills once the stream is over, while the backlog drains

        def pending():
            return [r for r in site.rows() if not (r["ingested_at"] and r["receipt_at"])]
        while any(t.is_alive() for t in threads) or (after > 0 and pending()):
            if not any(t.is_alive() for t in threads):
                after -= 1
            time.sleep(rnd.uniform(0.05, 0.4))
            site.kill_ingest()
            kills += 1
            # What the kill left: claimed but not recorded, or recorded
            # without a receipt (the restart must finish those).
            half_done += len([r for r in pending() if r["btime"] is not None])
            time.sleep(rnd.uniform(0.0, 0.2))
            site.start_ingest()
        print("kills=%d half_done_seen=%d" % (kills, half_done), file=sys.stderr)
        for t in threads:
            t.join()
        for t, _ in conns:
            t.close()
        self.assertEqual(errors, [])
        self.assertEqual(len(expected), 300)
        self.assertGreaterEqual(kills, 3, "the watcher was really killed")
        harness.wait_for(lambda: all(r["ingested_at"] and r["receipt_at"]
                                     for r in site.rows()) and len(site.rows()) >= 300,
                         timeout=120, what="all 300 uploads ingested")
        self.assert_exactly_once(site, expected)
        self.assertFalse(os.path.exists(os.path.join(site.relation_dir(), "PWNED")))

    def test_worker_killed_mid_50mib_upload_publishes_nothing_then_resumes(self):
        site = self.site()
        user = ready_user(site, REL, "big")
        mark = len(site.log())
        t, sftp = connect(site, user)
        worker = site.worker_pid(mark)
        data = os.urandom(50 << 20)
        failure = []

        def upload():
            try:
                with sftp.open("big upload.bin", "wb") as f:
                    f.write(data)
            except Exception as e:
                failure.append(e)

        th = threading.Thread(target=upload)
        th.start()

        def staged():
            files = site.staging_files()
            return files and os.path.getsize(files[0]) > (8 << 20)
        harness.wait_for(staged, 60, "8 MiB of the upload staged")
        os.kill(worker, signal.SIGKILL)
        th.join(60)
        t.close()
        self.assertTrue(failure, "the client saw its upload fail")
        time.sleep(1.0)  # settle time and more: the watcher has looked
        self.assertNotIn("big upload.bin", os.listdir(site.relation_dir()))
        self.assertEqual(site.rows_named("big upload.bin"), [])
        self.assertEqual(site.spool_files(), [])
        self.assertEqual([u for u in site.uploads() if u["name"] == "big upload.bin"], [])
        parts = site.partials()
        self.assertEqual(len(parts), 1, parts)
        p = parts[0]
        self.assertEqual((p["relation"], p["path"], p["state"], p["resumable"]),
                         (REL, "big upload.bin", "interrupted", True))
        self.assertTrue(0 < p["size"] < len(data))
        self.assertIn("event=sftp_open", site.log())

        # The relation does not see it listed; STAT tells a client how much
        # arrived, and an append resumes it.
        t, sftp = connect(site, user)
        try:
            self.assertNotIn("big upload.bin", sftp.listdir("/"))
            have = sftp.stat("big upload.bin").st_size
            self.assertEqual(have, p["size"])
            with sftp.open("big upload.bin", "a") as f:
                f.write(data[have:])
        finally:
            t.close()
        rows = site.wait_done("big upload.bin", timeout=120)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["sha256"], sha(data))
        self.assertEqual(rows[0]["size"], len(data))
        self.assertEqual(site.partials(), [])
        self.assertIn("event=sftp_resume", site.log())

    def test_watcher_stopped_uploads_meanwhile_all_ingested_after_restart(self):
        site = self.site()
        user = ready_user(site, REL, "meanwhile")
        t, sftp = connect(site, user)
        with sftp.open("before.txt", "wb") as f:
            f.write(b"before the stop\n")
        site.wait_done("before.txt")
        site.stop_ingest()
        expected = {"before.txt": sha(b"before the stop\n")}
        for k in range(20):
            data = os.urandom(1000 + k)
            name = NAMES[k % len(NAMES)].format(i="down", k=k)
            with sftp.open(name, "wb") as f:
                f.write(data)
            expected[name] = sha(data)
        # Renamed while nobody watched (WinSCP's .filepart): ingested under
        # the final name only.
        with sftp.open("report.csv.filepart", "wb") as f:
            f.write(b"a;b\n1;2\n")
        sftp.rename("report.csv.filepart", "report.csv")
        expected["report.csv"] = sha(b"a;b\n1;2\n")
        # Closed and removed again before anyone ingested it: received, and
        # after the next full scan marked as vanished.
        with sftp.open("gone.txt", "wb") as f:
            f.write(b"removed by the client\n")
        sftp.remove("gone.txt")
        t.close()
        time.sleep(1.0)
        self.assertEqual(len([r for r in site.rows() if r["ingested_at"]]), 1)
        site.set_clock(site.now + 60)
        site.start_ingest()
        for name in expected:
            site.wait_done(name)
        gone = site.rows_named("gone.txt")
        harness.wait_for(lambda: site.rows_named("gone.txt")[0]["vanished_at"], 30,
                         "gone.txt marked vanished")
        self.assertEqual(len(gone), 1)
        self.assertIsNone(gone[0]["ingested_at"])
        self.assertEqual([u["state"] for u in site.uploads() if u["name"] == "gone.txt"],
                         ["vanished"])
        del_rows = [r for r in site.rows() if r["name"] != "gone.txt"]
        self.assertEqual(len(del_rows), len(expected))
        self.assertEqual(len(site.spool_files()), len(expected))
        self.assertEqual(len(site.receipt_files()), len(expected))
        for r in del_rows:
            self.assertEqual(r["sha256"], expected[r["name"]])

    def test_crash_between_each_pair_of_ingest_steps_recovers(self):
        site = self.site(extra_conf="ingest_hook_timeout = 10\n", start_ingest=False)
        hook = os.path.join(site.dir, "hook.sh")
        with open(hook, "w") as f:
            f.write(HOOK)
        os.chmod(hook, 0o755)
        site.set_conf("ingest_hook", hook)
        user = ready_user(site, REL, "faults")
        points = ["after_claim", "after_spool", "after_record", "after_receipt",
                  "after_hook"]
        expected = {}
        for point in points:
            p = site.start_ingest(fault=point)
            t, sftp = connect(site, user)
            data = os.urandom(5000)
            name = "-crash %s.txt" % point
            with sftp.open(name, "wb") as f:
                f.write(data)
            t.close()
            expected[name] = sha(data)
            rc = p.wait(timeout=60)
            self.assertEqual(rc, -signal.SIGKILL, "the watcher crashed at %s" % point)
            self.assertIn("event=test_fault point=%s" % point, site.log("ingest"))
            rows = site.rows_named(name)
            self.assertEqual(len(rows), 1)
            # What the crash left: the state of each step on disk and in
            # the store.
            in_spool = any(f.endswith("-" + name) for f in site.spool_files())
            self.assertEqual(in_spool, point != "after_claim", point)
            self.assertEqual(bool(rows[0]["ingested_at"]),
                             point in ("after_record", "after_receipt", "after_hook"), point)
            self.assertEqual(bool(rows[0]["receipt_at"]),
                             point in ("after_receipt", "after_hook"), point)
            site.start_ingest()
            rows = site.wait_done(name, hook=True)
            self.assertEqual(len(rows), 1)
            with open(os.path.join(site.dir, "runs.%d" % rows[0]["id"])) as f:
                runs = int(f.read())
            # A hook runs at least once: twice only if the crash came
            # after it ran and before its result was recorded.
            self.assertEqual(runs, 2 if point == "after_hook" else 1, point)
            site.stop_ingest()
        self.assert_exactly_once(site, expected)

    def test_copy_into_another_file_system_crash_before_rename_recovers(self):
        shm = "/dev/shm"
        if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat("/tmp").st_dev:
            self.skipTest("no second file system for the copy path")
        site = self.site(start_ingest=False)
        spool = os.path.join(shm, os.path.basename(site.dir) + "-spool")
        self.addCleanup(lambda: harness.shutil.rmtree(spool, ignore_errors=True))
        site.set_conf("spool_dir", spool)
        site.spool = spool
        user = ready_user(site, REL, "copier")
        p = site.start_ingest(fault="spool_before_rename")
        t, sftp = connect(site, user)
        data = os.urandom(300000)
        with sftp.open("copied.bin", "wb") as f:
            f.write(data)
        t.close()
        self.assertEqual(p.wait(timeout=60), -signal.SIGKILL)
        # A verified copy under a temporary name only.
        self.assertTrue(all(f.startswith(".ingest-tmp.") for f in site.spool_files()))
        site.start_ingest()
        rows = site.wait_done("copied.bin")
        self.assertEqual(rows[0]["sha256"], sha(data))
        self.assertEqual(site.spool_files(), ["%d-copied.bin" % rows[0]["id"]])

    def test_daemon_crash_between_record_and_publish_publishes_nothing(self):
        site = self.site(daemon_env={"SFTPDROP_TEST_FAULT": "publish_before_rename"})
        user = ready_user(site, REL, "halfway")
        t, sftp = connect(site, user)
        with self.assertRaises(Exception):
            with sftp.open("never.txt", "wb") as f:
                f.write(b"recorded, never published\n")
        t.close()
        self.assertIn("event=test_fault point=publish_before_rename", site.log())
        self.assertNotIn("never.txt", os.listdir(site.relation_dir()))
        rows = site.rows_named("never.txt")
        self.assertEqual(len(rows), 1)
        self.assertIsNone(rows[0]["ingested_at"])
        parts = site.partials()
        self.assertEqual([(p["path"], p["state"]) for p in parts],
                         [("never.txt", "interrupted")])
        # The next full scan finds no such file: the record says so.
        site.stop_ingest()
        site.set_clock(site.now + 60)
        site.start_ingest()
        harness.wait_for(lambda: site.rows_named("never.txt")[0]["vanished_at"], 30,
                         "never.txt marked vanished")
        self.assertEqual(site.spool_files(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
