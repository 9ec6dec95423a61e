"""OpenSSH's sftp client in batch mode, prompts answered through SSH_ASKPASS."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ASKPASS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "askpass.sh")


def run_sftp(inst, user, batch, methods="keyboard-interactive"):
    env = inst.env()
    env.update(SSH_ASKPASS=ASKPASS, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
               SD_PASSWORD=user.password, SD_TOTP_SECRET=user.secret)
    inst.next_step()  # a fresh code for this login
    argv = ["sftp", "-o", "BatchMode=no", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=" + methods, "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=30",
            "-P", str(inst.port), "-b", "-", user.login + "@127.0.0.1"]
    return subprocess.run(argv, input=batch, capture_output=True, text=True, env=env,
                          stdin=None, timeout=300)


class OpenSshTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance()
        cls.inst.add_relation("123456")
        cls.user = cls.inst.add_ready_user("123456", "j.jansen")
        cls.tmp = tempfile.mkdtemp(prefix="sftpdrop-src-")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    def make_file(self, name, size):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            left = size
            while left:
                n = min(left, 1 << 20)
                f.write(os.urandom(n))
                left -= n
        return path

    def check_ingested(self, name, src):
        row = self.inst.wait_ingested("123456", name, timeout=60)
        want = harness.sha256_file(src)
        self.assertEqual(row["sha256"], want)
        self.assertEqual(row["size"], os.path.getsize(src))
        self.assertEqual(harness.sha256_file(row["spool_path"]), want)
        self.assertEqual(harness.sha256_file(
            os.path.join(self.inst.upload_root, "123456", name)), want)

    def test_small_and_50mib_upload_keyboard_interactive(self):
        small = self.make_file("small.txt", 1234)
        big = self.make_file("big.bin", 50 * 1024 * 1024)
        r = run_sftp(self.inst, self.user, "put %s\nput %s\nls -l\n" % (small, big))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("big.bin", r.stdout)
        self.check_ingested("small.txt", small)
        self.check_ingested("big.bin", big)

    def test_password_method_then_code(self):
        src = self.make_file("pw-path.txt", 777)
        r = run_sftp(self.inst, self.user, "put %s\n" % src,
                     methods="password,keyboard-interactive")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_ingested("pw-path.txt", src)

    def test_wrong_password_fails_cleanly(self):
        src = self.make_file("never.txt", 10)
        bad = harness.User(self.inst, {"login": self.user.login,
                                       "one_time_password": "wrong-password",
                                       "totp_uri": "otpauth://totp/x?secret=" +
                                       self.user.secret})
        bad.secret = self.user.secret
        r = run_sftp(self.inst, bad, "put %s\n" % src)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(
            os.path.join(self.inst.upload_root, "123456", "never.txt")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
