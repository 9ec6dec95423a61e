"""The account lifecycle through OpenSSH's sftp client in batch mode, every
prompt answered through SSH_ASKPASS (tests/integration/askpass.sh)."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ASKPASS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "askpass.sh")
DAY = 86400


class OpenSshLifecycleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(extra_conf="ban_threshold = 1000\n")
        cls.inst.add_relation("123456", "Gemeente Voorbeeld")
        cls.tmp = tempfile.mkdtemp(prefix="sftpdrop-ossh-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    def sftp(self, user, batch="pwd\n", password=None, new_passwords=()):
        state = os.path.join(self.tmp, "askpass-state")
        if os.path.exists(state):
            os.unlink(state)
        env = self.inst.env()
        env.update(SSH_ASKPASS=ASKPASS, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
                   SD_PASSWORD=user.password if password is None else password,
                   SD_TOTP_SECRET=user.secret or "", SD_ACTIVATION=user.activation or "",
                   SD_NEW_PASSWORDS=" ".join(new_passwords), SD_ASKPASS_STATE=state)
        self.inst.next_step()
        argv = ["sftp", "-o", "BatchMode=no", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no",
                "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=30",
                "-P", str(self.inst.port), "-b", "-", user.login + "@127.0.0.1"]
        return subprocess.run(argv, input=batch, capture_output=True, text=True, env=env,
                              timeout=120)

    def user(self, ready=True):
        type(self).n += 1
        name = "ossh%d" % self.n
        if ready:
            return self.inst.add_ready_user("123456", name)
        return self.inst.add_user("123456", name, totp=True)

    def changed_at(self, user):
        with sqlite3.connect(os.path.join(self.inst.dir, "sftpdrop.db")) as db:
            return db.execute("SELECT password_changed_at FROM users WHERE username = ?",
                              (user.username,)).fetchone()[0]

    def test_first_login_with_a_rejected_then_good_new_password(self):
        u = self.user(ready=False)
        good = u.next_password()
        r = self.sftp(u, "pwd\n", new_passwords=["tekort", good])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Remote working directory: /", r.stdout)
        # the instructions OpenSSH printed: the refusal, and the greeting
        self.assertIn("Het wachtwoord is korter dan 12 karakters", r.stderr)
        self.assertIn("Goedemorgen, J. Jansen.", r.stderr)
        u.password = good
        r = self.sftp(u)  # the new password works from now on
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Uw vorige login was op", r.stderr)

    def test_expired_password_changed_and_old_one_refused(self):
        u = self.user()
        self.inst.set_clock(self.changed_at(u) + 200 * DAY)
        good = u.next_password()
        r = self.sftp(u, new_passwords=[u.password, good])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Uw wachtwoord is verlopen", r.stderr)
        self.assertIn("gelijk aan een van uw laatste 12 wachtwoorden", r.stderr)
        u.password = good
        self.assertEqual(self.sftp(u).returncode, 0)

    def test_warning_at_29_days(self):
        u = self.user()
        changed = self.changed_at(u)
        self.inst.set_clock(changed + 151 * DAY - 30)
        r = self.sftp(u)
        self.assertEqual(r.returncode, 0, r.stderr)
        expires = harness.time.strftime("%d-%m-%Y", harness.time.gmtime(changed + 180 * DAY))
        self.assertIn("Uw wachtwoord verloopt over 29 dagen, op %s." % expires, r.stderr)

    def test_lockout_and_unlock(self):
        u = self.user()
        for i in range(5):
            self.assertNotEqual(self.sftp(u, password="fout-%d" % i).returncode, 0)
        self.assertNotEqual(self.sftp(u).returncode, 0)
        self.assertIn("reason=account_locked", self.inst.log())
        self.inst.admin("user", "unlock", "123456", u.username)
        r = self.sftp(u)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
