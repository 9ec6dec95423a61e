"""Batch accounts: key-only logins with OpenSSH sftp and paramiko, the
accepted key types, source ranges, and every refusal logged with the key's
fingerprint."""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

REL = "123456"


def fingerprint(key):
    """SHA256:... of a key file, as ssh-keygen -l prints it."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", key + ".pub"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def run_sftp(inst, login, key, batch):
    argv = ["sftp", "-i", key, "-o", "IdentitiesOnly=yes",
            "-o", "PreferredAuthentications=publickey", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30",
            "-P", str(inst.port), "-b", "-", login + "@127.0.0.1"]
    return subprocess.run(argv, input=batch, capture_output=True, text=True,
                          env=inst.env(), timeout=120)


class BatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance()
        cls.inst.add_relation(REL)
        cls.tmp = tempfile.mkdtemp(prefix="sftpdrop-src-")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    def make_file(self, name, size):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        return path

    def upload(self, user, key, name, size=1000):
        src = self.make_file(name, size)
        r = run_sftp(self.inst, "%s.%s" % (REL, user), key, "put %s %s\n" % (src, name))
        return r, src

    def assert_uploads(self, user, key, name, size=1000):
        r, src = self.upload(user, key, name, size)
        self.assertEqual(r.returncode, 0, "sftp failed: " + r.stderr)
        row = self.inst.wait_ingested(REL, name, timeout=60)
        self.assertEqual(row["sha256"], harness.sha256_file(src))
        self.assertEqual(row["size"], size)
        self.assertEqual(row["user"], user)

    def assert_refused(self, user, key, reason):
        r, _ = self.upload(user, key, "never-%s.bin" % user)
        self.assertNotEqual(r.returncode, 0, "login with %s should fail" % key)
        self.inst.wait_log(r"event=auth_fail relation=%s user=\"%s\" reason=%s "
                           r"method=publickey fingerprint=%s"
                           % (REL, re.escape(user), reason, re.escape(fingerprint(key))))

    def test_openssh_sftp_key_upload_is_ingested_with_its_sha256(self):
        key = self.inst.add_batch_user(REL, "nightly")
        self.assert_uploads("nightly", key, "nightly.bin", 3 << 20)
        self.inst.wait_log(r"event=auth_ok method=publickey fingerprint=%s"
                           % re.escape(fingerprint(key)))
        show = self.inst.admin_json("user", "show", REL, "nightly")
        self.assertEqual(show["kind"], "batch")
        self.assertEqual(show["keys"], 1)
        self.assertIsNone(show["allowed_from"])
        self.assertEqual(show["last_login_from"], "127.0.0.1")
        audit = self.inst.admin_json("audit", "--user", "nightly")
        self.assertTrue(any(a["event"] == "auth_ok" and "publickey" in (a["detail"] or "")
                            for a in audit), audit)

    def test_paramiko_key_upload_is_ingested(self):
        import paramiko
        key = self.inst.add_batch_user(REL, "paramiko")
        src = self.make_file("paramiko.bin", 5000)
        t = paramiko.Transport(("127.0.0.1", self.inst.port))
        try:
            t.connect(username=REL + ".paramiko",
                      pkey=paramiko.Ed25519Key.from_private_key_file(key))
            sftp = paramiko.SFTPClient.from_transport(t)
            sftp.put(src, "paramiko.bin")
            sftp.close()
        finally:
            t.close()
        row = self.inst.wait_ingested(REL, "paramiko.bin", timeout=60)
        self.assertEqual(row["sha256"], harness.sha256_file(src))

    def test_unknown_key_is_refused_and_logged_with_its_fingerprint(self):
        self.inst.add_batch_user(REL, "unknownkey")
        other = self.inst.new_key("stranger")
        self.assert_refused("unknownkey", other, "unknown_key")

    def test_refused_keys_never_lock_the_account(self):
        key = self.inst.add_batch_user(REL, "unlockable")
        other = self.inst.new_key("prober")
        for _ in range(6):  # lockout_threshold is 5
            r, _ = self.upload("unlockable", other, "probe.bin")
            self.assertNotEqual(r.returncode, 0)
        show = self.inst.admin_json("user", "show", REL, "unlockable")
        self.assertEqual(show["failed_logins"], 0)
        self.assertFalse(show["locked"])
        self.assertNotIn("event=account_locked", self.inst.log())
        self.assert_uploads("unlockable", key, "unlockable.bin")

    def test_rsa_2048_and_ecdsa_keys_log_in(self):
        self.inst.admin("user", "add", REL, "types", "--name", "Types", "--email",
                        "t@example.org", "--batch")
        for kt, bits in (("rsa", 2048), ("ecdsa", 256), ("ecdsa", 384), ("ecdsa", 521)):
            key = self.inst.new_key("types", kt, bits)
            with open(key + ".pub") as f:
                self.inst.admin_stdin(f.read(), "key", "add", REL, "types")
            self.assert_uploads("types", key, "types-%s%d.bin" % (kt, bits))

    def test_rsa_1024_key_is_refused_by_key_add(self):
        self.inst.admin("user", "add", REL, "weak", "--name", "Weak", "--email",
                        "w@example.org", "--batch")
        key = self.inst.new_key("weak", "rsa", 1024)
        with open(key + ".pub") as f:
            r = self.inst.admin_stdin(f.read(), "key", "add", REL, "weak", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 1: RSA keys must have at least 2048 bits", r.stderr)
        self.assertEqual(self.inst.admin_json("key", "list", REL, "weak"), [])

    def test_key_add_checks_every_line_and_adds_none_when_one_is_bad(self):
        self.inst.admin("user", "add", REL, "lines", "--name", "Lines", "--email",
                        "l@example.org", "--batch")
        a, b = self.inst.new_key("lines-a"), self.inst.new_key("lines-b")
        with open(a + ".pub") as f:
            la = f.read().strip()
        with open(b + ".pub") as f:
            lb = f.read().strip()
        text = "# keys\n%s\n\nfrom=\"10.0.0.0/8\" %s\nssh-dss AAAA\nssh-ed25519 AAA\n" % (la, lb)
        r = self.inst.admin_stdin(text, "key", "add", REL, "lines", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 4: options", r.stderr)
        self.assertIn("line 5: unsupported key type", r.stderr)
        self.assertIn("line 6: the key is not valid base64", r.stderr)
        self.assertIn("no key was added", r.stderr)
        self.assertEqual(self.inst.admin_json("key", "list", REL, "lines"), [])
        r = self.inst.admin_stdin("%s\n%s\n%s\n" % (la, lb, la), "--json", "key", "add",
                                  REL, "lines")
        out = json.loads(r.stdout)
        self.assertEqual([k["fingerprint"] for k in out],
                         [fingerprint(a), fingerprint(b), fingerprint(a)])
        self.assertEqual([k["status"] for k in out], ["added", "added", "already_present"])
        self.assertEqual(out[0]["type"], "ssh-ed25519")
        self.assertEqual(out[0]["comment"], "lines-a@test")
        listed = self.inst.admin_json("key", "list", REL, "lines")
        self.assertEqual([k["fingerprint"] for k in listed], [fingerprint(a), fingerprint(b)])

    def test_from_range_decides_where_a_key_may_log_in_from(self):
        outside = self.inst.add_batch_user(REL, "pinned10", from_="10.0.0.0/8")
        self.assert_refused("pinned10", outside, "source_not_allowed")
        inside = self.inst.add_batch_user(REL, "pinned127", from_="10.0.0.0/8,127.0.0.0/8")
        self.assert_uploads("pinned127", inside, "pinned.bin")
        show = self.inst.admin_json("user", "show", REL, "pinned127")
        self.assertEqual(show["allowed_from"], "10.0.0.0/8,127.0.0.0/8")
        r = self.inst.admin("user", "add", REL, "badrange", "--name", "B", "--email",
                            "b@example.org", "--batch", "--from", "10.1.2.3/8", check=False)
        self.assertEqual(r.returncode, 2)
        r = self.inst.admin("user", "add", REL, "notbatch", "--name", "B", "--email",
                            "b@example.org", "--from", "10.0.0.0/8", check=False)
        self.assertEqual(r.returncode, 1)

    def test_human_account_never_logs_in_with_a_key(self):
        self.inst.add_user(REL, "person")
        key = self.inst.new_key("person")
        with open(key + ".pub") as f:
            r = self.inst.admin_stdin(f.read(), "key", "add", REL, "person", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a batch account", r.stderr)
        self.assert_refused("person", key, "not_batch")
        # OpenSSH offers people's keys before the password: that is no failure
        self.assertEqual(self.inst.admin_json("user", "show", REL, "person")["failed_logins"], 0)

    def test_removed_key_is_refused(self):
        key = self.inst.add_batch_user(REL, "removal")
        self.assert_uploads("removal", key, "before-removal.bin")
        fp = fingerprint(key)
        r = self.inst.admin("key", "remove", REL, "removal", fp)
        self.assertIn("removed " + fp, r.stdout)
        self.assertEqual(self.inst.admin_json("key", "list", REL, "removal"), [])
        self.assert_refused("removal", key, "unknown_key")
        r = self.inst.admin("key", "remove", REL, "removal", fp, check=False)
        self.assertEqual(r.returncode, 1)
        audit = self.inst.admin_json("audit", "--user", "removal")
        self.assertIn("key_remove", [a["event"] for a in audit])

    def test_disabled_batch_account_is_refused(self):
        key = self.inst.add_batch_user(REL, "switchedoff")
        self.inst.admin("user", "disable", REL, "switchedoff")
        self.assert_refused("switchedoff", key, "user_disabled")

    def test_password_of_a_batch_account_is_refused(self):
        import paramiko
        self.inst.add_batch_user(REL, "nopassword")
        t = paramiko.Transport(("127.0.0.1", self.inst.port))
        try:
            t.start_client(timeout=30)
            with self.assertRaises(paramiko.AuthenticationException):
                t.auth_interactive(REL + ".nopassword",
                                   lambda title, instr, prompts: ["x" * 16] * len(prompts))
        finally:
            t.close()
        self.inst.wait_log(r'event=auth_fail relation=%s user="nopassword" '
                           r'reason=batch_account_password' % REL)

    def test_password_attempts_never_lock_a_batch_account(self):
        import paramiko
        key = self.inst.add_batch_user(REL, "nolockout")
        for i in range(6):  # lockout_threshold is 5
            t = paramiko.Transport(("127.0.0.1", self.inst.port))
            try:
                t.start_client(timeout=30)
                with self.assertRaises(paramiko.AuthenticationException):
                    t.auth_interactive(REL + ".nolockout",
                                       lambda title, instr, prompts: ["guess-%d" % i] *
                                       len(prompts))
            finally:
                t.close()
        show = self.inst.admin_json("user", "show", REL, "nolockout")
        self.assertFalse(show["locked"])
        self.assert_uploads("nolockout", key, "nolockout.bin")

    def test_password_ageing_never_blocks_a_key_login(self):
        key = self.inst.add_batch_user(REL, "ageless")
        self.inst.set_clock(self.inst.now + 400 * 86400)
        self.assert_uploads("ageless", key, "ageless.bin")


class BatchBanTest(unittest.TestCase):
    def test_refused_keys_count_for_the_source_ban(self):
        inst = harness.Instance(extra_conf="ban_threshold = 2\n", start_ingest=False)
        try:
            inst.add_relation(REL)
            key = inst.add_batch_user(REL, "banme")
            stranger = inst.new_key("stranger")
            for _ in range(2):
                r = run_sftp(inst, REL + ".banme", stranger, "pwd\n")
                self.assertNotEqual(r.returncode, 0)
            inst.wait_log(r"event=source_banned")
            r = run_sftp(inst, REL + ".banme", key, "pwd\n")
            self.assertNotEqual(r.returncode, 0)
            inst.wait_log(r"event=connection_refused reason=banned")
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
