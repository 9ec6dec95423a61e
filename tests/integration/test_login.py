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
        cls.user = cls.inst.add_user("123456", "j.jansen")

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
        t, sftp = harness.paramiko_connect(self.inst, u.login, u.password, u.code(),
                                           path="password")
        try:
            self.assertEqual(t.prompts_seen, ["Verification code: "])
            self.upload_and_check(sftp, "via-password.txt", b"hello via password\n")
        finally:
            t.close()

    def test_keyboard_interactive_alone_uploads(self):
        u = self.user
        t, sftp = harness.paramiko_connect(self.inst, u.login, u.password, u.code(),
                                           path="kbdint")
        try:
            self.assertEqual(t.prompts_seen, ["Password: ", "Verification code: "])
            self.upload_and_check(sftp, "via-kbdint.bin", os.urandom(300000))
        finally:
            t.close()

    def assert_refused(self, login, password, code, reason, path="kbdint"):
        before = self.inst.log().count("event=auth_fail")
        with self.assertRaises(paramiko.AuthenticationException):
            harness.paramiko_connect(self.inst, login, password, code, path=path)
        log = harness.wait_for(
            lambda: self.inst.log() if self.inst.log().count("event=auth_fail") > before
            else None, what="auth_fail log line")
        last = [line for line in log.splitlines() if "event=auth_fail" in line][-1]
        self.assertIn("reason=" + reason, last)

    def test_wrong_password_refused(self):
        u = self.user
        self.assert_refused(u.login, u.password + "x", u.code(), "bad_password")
        self.assert_refused(u.login, "wrong", u.code(), "bad_password", path="password")

    def test_wrong_code_refused(self):
        u = self.user
        code = u.code()
        bad = "%06d" % ((int(code) + 1) % 1000000)
        self.assert_refused(u.login, u.password, bad, "bad_code")

    def test_reused_code_refused(self):
        u = self.user
        code = u.code()
        t, _ = harness.paramiko_connect(self.inst, u.login, u.password, code)
        t.close()
        self.assert_refused(u.login, u.password, code, "reused_code")

    def test_unknown_user_and_relation_refused(self):
        u = self.user
        self.assert_refused("123456.nobody", u.password, u.code(), "unknown_user")
        self.assert_refused("999999.j.jansen", u.password, u.code(), "unknown_user")
        self.assert_refused("not-a-login", u.password, u.code(), "bad_login_syntax")

    def test_only_sftp_subsystem_is_available(self):
        u = self.user
        t, _ = harness.paramiko_connect(self.inst, u.login, u.password, u.code(),
                                        sftp=False)
        try:
            ch = t.open_session()
            with self.assertRaises(paramiko.SSHException):
                ch.exec_command("id")
        finally:
            t.close()
        self.assertIn("event=request_refused", self.inst.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
