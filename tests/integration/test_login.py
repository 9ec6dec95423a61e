"""Login with password + TOTP over both auth paths, uploads, and refusals."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import paramiko  # noqa: E402


class LoginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance()
        cls.inst.add_relation("123456", "Gemeente Voorbeeld")
        cls.user = cls.inst.add_ready_user("123456", "j.jansen")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def upload_and_check(self, sftp, name, data):
        with sftp.open(name, "wb") as f:
            f.write(data)
        row = self.inst.wait_ingested("123456", name)
        want = harness.hashlib.sha256(data).hexdigest()
        self.assertEqual(row["sha256"], want)
        self.assertEqual(row["size"], len(data))
        self.assertEqual(row["user"], "j.jansen")
        self.assertEqual(harness.sha256_file(row["spool_path"]), want)
        self.assertTrue(row["spool_path"].startswith(
            os.path.join(self.inst.spool, "123456") + "/"))

    def test_password_method_then_code_uploads(self):
        u = self.user
        t, sftp = harness.paramiko_connect(self.inst, u, path="password")
        try:
            prompts = [p for _, ps in t.dialogue.rounds for p in ps]
            self.assertEqual(prompts, ["Verificatiecode: "])
            self.upload_and_check(sftp, "via-password.txt", b"hello via password\n")
        finally:
            t.close()

    def test_keyboard_interactive_alone_uploads(self):
        u = self.user
        t, sftp = harness.paramiko_connect(self.inst, u, path="kbdint")
        try:
            prompts = [p for _, ps in t.dialogue.rounds for p in ps]
            self.assertEqual(prompts, ["Password: ", "Verificatiecode: "])
            self.upload_and_check(sftp, "via-kbdint.bin", os.urandom(300000))
        finally:
            t.close()

    def assert_refused(self, user, reason, path="kbdint", **dialogue):
        before = self.inst.log().count("event=auth_fail")
        with self.assertRaises(paramiko.AuthenticationException):
            harness.paramiko_connect(self.inst, user, path=path, sftp=False, **dialogue)
        log = harness.wait_for(
            lambda: self.inst.log() if self.inst.log().count("event=auth_fail") > before
            else None, what="auth_fail log line")
        last = [line for line in log.splitlines() if "event=auth_fail" in line][-1]
        self.assertIn("reason=" + reason, last)

    def other(self, login):
        """The same credentials under another login name."""
        o = harness.User(self.inst, {"login": login, "one_time_password": self.user.password})
        o.secret = self.user.secret
        return o

    def test_wrong_password_refused(self):
        u = self.user
        self.assert_refused(u, "bad_password", password=u.password + "x")
        self.assert_refused(u, "bad_password", path="password", password="wrong")

    def test_wrong_code_refused(self):
        u = self.user
        code = harness.totp(u.secret, self.inst.now + 30)
        bad = "%06d" % ((int(code) + 1) % 1000000)
        self.assert_refused(u, "bad_code", code=bad)

    def test_reused_code_refused(self):
        u = self.user
        t, _ = harness.paramiko_connect(self.inst, u, sftp=False)
        code = harness.totp(u.secret, self.inst.now)
        t.close()
        self.inst.set_clock(self.inst.now - 30)  # so that the same step is current again
        self.assert_refused(u, "reused_code", code=code)

    def test_unknown_user_and_relation_refused(self):
        self.assert_refused(self.other("123456.nobody"), "unknown_user")
        self.assert_refused(self.other("999999.j.jansen"), "unknown_user")
        self.assert_refused(self.other("not-a-login"), "bad_login_syntax")

    def test_refusals_look_alike_to_the_client(self):
        """Every cause: the same single code round, no instruction."""
        u = self.user
        seen = []
        for who, kw in ((u, {"password": "wrong"}), (self.other("123456.nobody"), {}),
                        (u, {"code": "000000"})):
            with self.assertRaises(paramiko.AuthenticationException) as cm:
                harness.paramiko_connect(self.inst, who, sftp=False, **kw)
            seen.append(cm.exception.dialogue.rounds)
        self.assertEqual(seen[0], [("", ["Password: "]), ("", ["Verificatiecode: "])])
        self.assertEqual(seen[0], seen[1])
        self.assertEqual(seen[0], seen[2])

    def test_only_sftp_subsystem_is_available(self):
        u = self.user
        t, _ = harness.paramiko_connect(self.inst, u, sftp=False)
        try:
            ch = t.open_session()
            with self.assertRaises(paramiko.SSHException):
                ch.exec_command("id")
        finally:
            t.close()
        self.assertIn("event=request_refused", self.inst.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
