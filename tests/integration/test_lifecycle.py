"""The portal's account lifecycle inside the SSH login (issue 3): activation,
forced change, policy, expiry, enrolment, lockout, bans, rehash, greeting."""
import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import paramiko  # noqa: E402

DAY = 86400


class Base(unittest.TestCase):
    extra_conf = ""

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(extra_conf=cls.extra_conf)
        cls.inst.add_relation("123456", "Gemeente Voorbeeld")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def new_user(self, totp=False, name="J. Jansen"):
        type(self).n += 1
        return self.inst.add_user("123456", "user%d" % self.n, name=name, totp=totp)

    def ready_user(self):
        type(self).n += 1
        return self.inst.add_ready_user("123456", "user%d" % self.n)

    def db(self):
        return sqlite3.connect(os.path.join(self.inst.dir, "sftpdrop.db"))

    def row(self, user):
        with self.db() as db:
            db.row_factory = sqlite3.Row
            return dict(db.execute(
                "SELECT * FROM users WHERE username = ?", (user.username,)).fetchone())

    def login(self, user, **kw):
        t, sftp = harness.paramiko_connect(self.inst, user, sftp=False, **kw)
        t.close()
        return t.dialogue

    def refused(self, user, **kw):
        with self.assertRaises(paramiko.AuthenticationException) as cm:
            harness.paramiko_connect(self.inst, user, sftp=False, **kw)
        return cm.exception.dialogue

    def last_fail_reason(self):
        lines = [x for x in self.inst.log().splitlines() if "event=auth_fail" in x]
        return lines[-1].split("reason=")[1].split()[0]


class FirstLoginTest(Base):
    def test_complete_first_login_with_enrolment(self):
        u = self.new_user(totp=False)
        self.assertTrue(u.activation)
        new = u.next_password()
        t, sftp = harness.paramiko_connect(self.inst, u, new_passwords=[new])
        d = t.dialogue
        prompts = [p for _, ps in d.rounds for p in ps]
        self.assertEqual(prompts, ["Password: ", "Activatiecode: ", "Nieuw wachtwoord: ",
                                   "Herhaal nieuw wachtwoord: ", "Verificatiecode: "])
        instr = [i for i, _ in d.rounds]
        self.assertIn("activatiecode", instr[1])
        self.assertIn("eenmalig wachtwoord", instr[2])
        self.assertIn("ten minste 12 karakters", instr[2])
        self.assertIn("otpauth://totp/sftpdrop:123456.%s?secret=" % u.username, instr[4])
        # the last round: no prompt, greeting by name and part of day (10:00 UTC)
        self.assertEqual(d.rounds[-1][1], [])
        self.assertIn("Goedemorgen, J. Jansen.", instr[-1])
        self.assertIn("Dit is uw eerste login.", instr[-1])
        self.assertIn("Twee-staps verificatie is ingesteld.", instr[-1])
        with sftp.open("first.txt", "wb") as f:
            f.write(b"first upload\n")
        t.close()
        row = self.row(u)
        self.assertIsNone(row["activation_hash"])
        self.assertEqual(row["must_change"], 0)
        self.assertIsNotNone(row["totp_secret"])
        self.assertEqual(u.password, new)
        # the next login: password and code only; the greeting names the last login
        d = self.login(u)
        self.assertEqual([p for _, ps in d.rounds for p in ps], ["Password: ", "Verificatiecode: "])
        self.assertIn("Uw vorige login was op", d.rounds[-1][0])
        self.assertIn("vanaf 127.0.0.1", d.rounds[-1][0])
        # the one-time password is gone
        old = harness.User(self.inst, {"login": u.login, "one_time_password": "x"})
        old.secret = u.secret
        self.refused(old)

    def test_interrupted_first_login_changes_nothing(self):
        u = self.new_user(totp=False)
        before = self.row(u)

        def stop_at_enrolment(title, instructions, prompts):
            if "otpauth://" in instructions:
                raise RuntimeError("the user walks away")
            return d.handler(title, instructions, prompts)

        ends = self.inst.log().count("event=connection_end")
        self.inst.next_step()
        d = harness.Dialogue(u, new_passwords=[u.next_password()])
        sock = harness.socket.create_connection(("127.0.0.1", self.inst.port))
        t = paramiko.Transport(sock)
        t.start_client(timeout=30)
        with self.assertRaises(Exception):
            t.auth_interactive(u.login, stop_at_enrolment)
        t.close()
        harness.wait_for(lambda: self.inst.log().count("event=connection_end") > ends,
                         what="the connection to end")
        after = self.row(u)
        for k in ("password_hash", "activation_hash", "must_change", "totp_secret",
                  "password_changed_at"):
            self.assertEqual(before[k], after[k], k)
        # and the same first login still works afterwards
        self.login(u, new_passwords=[u.next_password()])
        self.assertIsNone(self.row(u)["activation_hash"])

    def test_wrong_activation_code_refused(self):
        u = self.new_user(totp=True)
        d = self.refused(u, activation="AAAA-BBBB-CCCC")
        self.assertEqual(self.last_fail_reason(), "bad_activation_code")
        self.assertNotIn("Nieuw wachtwoord: ", [p for _, ps in d.rounds for p in ps])
        self.assertIsNotNone(self.row(u)["activation_hash"])

    def test_lost_letter_new_activation_code(self):
        u = self.new_user(totp=True)
        old_code = u.activation
        new = self.inst.admin_json("user", "reset-activation", "123456", u.username)
        self.assertNotEqual(new["activation_code"], old_code)
        self.refused(u, activation=old_code)
        self.assertEqual(self.last_fail_reason(), "bad_activation_code")
        u.activation = new["activation_code"]
        self.login(u, new_passwords=[u.next_password()])
        # once activated there is nothing to reset
        r = self.inst.admin("user", "reset-activation", "123456", u.username, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already activated", r.stderr)
        events = [a["event"] for a in self.inst.admin_json("audit", "--user", u.username)]
        self.assertIn("user_reset_activation", events)

    def test_rejected_new_password_then_good_one_same_connection(self):
        u = self.new_user(totp=True)
        good = u.next_password()
        d = self.login(u, new_passwords=["kort", u.username + "-Lang-Genoeg1", good])
        texts = [i for i, _ in d.rounds]
        # first refusal names both broken rules, the second the user name
        self.assertIn("korter dan 12 karakters", texts[3])
        self.assertIn("minder dan 3 van", texts[3])
        self.assertIn("nog 2 pogingen", texts[3])
        self.assertIn("gebruikersnaam verwerkt", texts[4])
        self.assertIn("nog 1 poging", texts[4])
        self.assertEqual(u.password, good)

    def test_repeat_mismatch_asks_again(self):
        u = self.new_user(totp=True)
        good = u.next_password()
        d = self.login(u, new_passwords=[good, good], repeat_wrong=True)
        self.assertTrue(any("niet gelijk" in i for i, _ in d.rounds))
        self.assertEqual(u.password, good)

    def test_too_many_rejected_passwords_fail_the_login(self):
        u = self.new_user(totp=True)
        self.refused(u, new_passwords=["a", "b", "c"])
        self.assertEqual(self.last_fail_reason(), "password_change_failed")
        self.assertEqual(self.row(u)["must_change"], 1)

    def test_password_method_cannot_skip_the_change(self):
        u = self.new_user(totp=True)
        good = u.next_password()
        t, _ = harness.paramiko_connect(self.inst, u, path="password", sftp=False,
                                        new_passwords=[good])
        t.close()
        prompts = [p for _, ps in t.dialogue.rounds for p in ps]
        self.assertEqual(prompts[0], "Activatiecode: ")
        self.assertIn("Nieuw wachtwoord: ", prompts)
        self.assertIn("event=password_change_required", self.inst.log())
        self.assertIn("reason=one_time_password", self.inst.log())


class ExpiryTest(Base):
    def test_expired_password_must_be_changed_and_old_ones_refused(self):
        u = self.ready_user()
        changed = self.row(u)["password_changed_at"]
        self.inst.set_clock(changed + 181 * DAY)
        current = u.password
        good = u.next_password()
        d = self.login(u, new_passwords=[current, good])
        prompts = [p for _, ps in d.rounds for p in ps]
        self.assertEqual(prompts, ["Password: ", "Nieuw wachtwoord: ", "Nieuw wachtwoord: ",
                                   "Herhaal nieuw wachtwoord: ", "Verificatiecode: "])
        self.assertIn("Uw wachtwoord is verlopen", d.rounds[1][0])
        self.assertIn("gelijk aan een van uw laatste 12 wachtwoorden", d.rounds[2][0])
        self.assertIn("Uw nieuwe wachtwoord is geldig tot", d.rounds[-1][0])
        self.assertEqual(u.password, good)
        self.assertIn("reason=expired", self.inst.log())

    def test_warning_at_29_days_left(self):
        u = self.ready_user()
        changed = self.row(u)["password_changed_at"]
        self.inst.set_clock(changed + 151 * DAY - 30)
        d = self.login(u)
        last = d.rounds[-1][0]
        expires = harness.time.strftime("%d-%m-%Y", harness.time.gmtime(changed + 180 * DAY))
        self.assertIn("Uw wachtwoord verloopt over 29 dagen, op %s." % expires, last)

    def test_no_warning_before_the_period(self):
        u = self.ready_user()
        changed = self.row(u)["password_changed_at"]
        self.inst.set_clock(changed + 149 * DAY - 30)
        d = self.login(u)
        self.assertNotIn("verloopt", d.rounds[-1][0])


class LockoutTest(Base):
    extra_conf = "ban_threshold = 1000\n"

    def test_lock_after_5_failures_unlock_and_expiry(self):
        u = self.ready_user()
        for i in range(5):
            self.refused(u, password="wrong-%d" % i)
        self.assertIn("event=account_locked", self.inst.log())
        self.refused(u)  # right password, locked
        self.assertEqual(self.last_fail_reason(), "account_locked")
        self.inst.admin("user", "unlock", "123456", u.username)
        self.login(u)
        # locked again, then the lock runs out after lockout_seconds (900)
        for i in range(5):
            self.refused(u, password="wrong-%d" % i)
        self.refused(u)
        self.inst.set_clock(self.inst.now + 900)
        self.login(u)
        audit = self.inst.admin_json("audit", "--user", u.username)
        events = [a["event"] for a in audit]
        self.assertIn("account_locked", events)
        self.assertIn("auth_fail", events)
        self.assertIn("auth_ok", events)


class BanTest(Base):
    extra_conf = "ban_threshold = 3\nban_window = 600\nban_seconds = 3600\n"

    def test_source_banned_after_failures_and_lifted(self):
        u = self.ready_user()
        other = self.ready_user()
        for i in range(3):
            self.refused(u, password="wrong-%d" % i)
        self.assertIn("event=source_banned", self.inst.log())
        with self.assertRaises(Exception):
            harness.paramiko_connect(self.inst, other, sftp=False)
        self.assertIn("reason=banned", self.inst.log())
        bans = self.inst.admin_json("bans")
        self.assertEqual([b["src"] for b in bans], ["127.0.0.1"])
        self.inst.admin("bans", "lift", "127.0.0.1")
        self.login(other)


class RehashAndLanguageTest(Base):
    def test_rehash_when_cost_changes(self):
        u = self.ready_user()
        self.assertIn("m=8192,t=1,", self.row(u)["password_hash"])
        self.inst.stop()
        with open(self.inst.conf) as f:
            text = f.read().replace("argon2_t_cost = 1", "argon2_t_cost = 2")
        text = text.replace("language = nl\n", "")
        with open(self.inst.conf, "w") as f:
            f.write(text + "language = en\n")
        self.inst.start("daemon", [harness.BIN["daemon"], "-c", self.inst.conf, "-f"])
        harness.wait_for(self.inst._port_open, what="daemon to listen")
        d = self.login(u)
        self.assertIn("m=8192,t=2,", self.row(u)["password_hash"])
        self.assertIn("event=password_rehashed", self.inst.log())
        # English texts; the password prompt is the same in every language
        self.assertEqual([p for _, ps in d.rounds for p in ps],
                         ["Password: ", "Verification code: "])
        self.assertIn("Good morning, J. Jansen.", d.rounds[-1][0])
        self.login(u)  # the new hash verifies


if __name__ == "__main__":
    unittest.main(verbosity=2)
