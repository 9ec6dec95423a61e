#!/usr/bin/python3
"""End-to-end tests of sftpdrop-admin: the real binary (path in $SFTPDROP_ADMIN)
on a fresh installation in its own temporary directory per test, checked through
its output, its exit status, the files it makes and the rows in the database.

Exit statuses under test: 0 done, 1 could not be done, 2 wrong command line.
"""
import base64
import calendar
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import sqlite3
import stat
import string
import subprocess
import tempfile
import time
import unittest
import urllib.parse

ADMIN = os.environ.get("SFTPDROP_ADMIN", "")
ISO8601 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# Cheapest cost the config accepts, so that a test does not wait on argon2.
FAST_ARGON2 = "argon2_t_cost = 1\nargon2_m_cost_kib = 8192\nargon2_parallelism = 1\n"
# A sanitizer report must never pass for an ordinary failure (exit 1).
SANITIZER_EXIT = 86
# The letter code: 3 groups of 4 from upper case and digits without I, O, 0, 1.
ACTIVATION = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")
DAY = 86400
# 2026-01-01T12:00:00Z: a test clock value far from midnight, so that local
# and UTC dates agree in the expiry mail.
T0 = 1767268800


def setUpModule():
    if not ADMIN or not os.access(ADMIN, os.X_OK):
        raise unittest.SkipTest("SFTPDROP_ADMIN does not name the sftpdrop-admin binary")
    os.umask(0o022)


def load_argon2():
    name = ctypes.util.find_library("argon2")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.argon2id_verify.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.argon2id_verify.restype = ctypes.c_int
    return lib


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def b32decode_nopad(s):
    return base64.b32decode(s + "=" * (-len(s) % 8))


def char_classes(pw):
    return sum([
        any(c in string.ascii_lowercase for c in pw),
        any(c in string.ascii_uppercase for c in pw),
        any(c in string.digits for c in pw),
        any(c in string.punctuation or c == " " for c in pw),
    ])


class AdminTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="sftpdrop-admin-")
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "inst")
        self.conf = os.path.join(self.dir, "sftpdrop.conf")
        self.env = {k: v for k, v in os.environ.items() if k != "SFTPDROP_CONFIG"}
        # The test clock (-DTEST_CLOCK=ON builds) reads this file; until a
        # test writes it, the real time is used.
        self.clock_file = os.path.join(self.tmp, "clock")
        self.env["SFTPDROP_TEST_CLOCK_FILE"] = self.clock_file
        self.env["TZ"] = "UTC"
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            prev = self.env.get(var, "")
            self.env[var] = (prev + ":" if prev else "") + f"exitcode={SANITIZER_EXIT}"

    def tearDown(self):
        self._tmp.cleanup()

    # ---- helpers ----

    def run_admin(self, *args, env=None):
        p = subprocess.run([ADMIN, *args], capture_output=True, encoding="utf-8",
                           errors="backslashreplace",
                           env=self.env if env is None else env, cwd=self.tmp,
                           timeout=120)
        self.assertGreaterEqual(p.returncode, 0,
                                f"sftpdrop-admin {args} died by signal {-p.returncode}\n"
                                f"stderr: {p.stderr}")
        for marker in ("Sanitizer", "runtime error:"):
            self.assertNotIn(marker, p.stderr, f"sftpdrop-admin {args}: sanitizer report")
        self.assertNotEqual(p.returncode, SANITIZER_EXIT, f"sftpdrop-admin {args}")
        return p

    def ok(self, *args, env=None):
        p = self.run_admin(*args, env=env)
        self.assertEqual(p.returncode, 0,
                         f"sftpdrop-admin {' '.join(args)}: expected exit 0, got "
                         f"{p.returncode}\nstderr: {p.stderr}")
        return p

    def fails(self, status, *args, message=None, env=None):
        """Run, expect exit status with an error on stderr and nothing on stdout."""
        p = self.run_admin(*args, env=env)
        self.assertEqual(p.returncode, status,
                         f"sftpdrop-admin {args}: expected exit {status}, got "
                         f"{p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        self.assertTrue(p.stderr.startswith("sftpdrop-admin: "),
                        f"error message should name the program: {p.stderr!r}")
        self.assertEqual(p.stdout, "", f"nothing on stdout for a failure: {p.stdout!r}")
        if message is not None:
            self.assertIn(message, p.stderr)
        return p

    def js(self, *args, env=None):
        """A command with --json and -c after the command words; parsed stdout."""
        p = self.ok(*args, "--json", "-c", self.conf, env=env)
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            self.fail(f"sftpdrop-admin {args} --json: not one JSON document ({e}):\n"
                      f"{p.stdout}")

    def init(self):
        out = json.loads(self.ok("init", "--dir", self.dir, "--json").stdout)
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write(FAST_ARGON2)
        return out

    def db(self):
        con = sqlite3.connect(os.path.join(self.dir, "sftpdrop.db"))
        self.addCleanup(con.close)
        return con

    def conf_values(self, path=None):
        values = {}
        with open(path or self.conf, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    values[key.strip()] = value.strip()
        return values

    def add_relation(self, number="123456", name="Jansen B.V."):
        return self.js("relation", "add", number, "--name", name)

    def add_user(self, relation="123456", username="jjansen", name="Jan Jansen",
                 email="jan@example.nl", totp=False):
        return self.js("user", "add", relation, username, "--name", name, "--email", email,
                       *(["--totp"] if totp else []))

    def set_clock(self, t):
        with open(self.clock_file, "w", encoding="ascii") as f:
            f.write(f"{t}\n")

    def need_test_clock(self, relation="123456", username="jjansen"):
        """Skip unless the binary honours the test clock (checked on a user
        created while the clock was set)."""
        shown = self.js("user", "show", relation, username)
        if shown["created_at"] != iso(self.read_clock()):
            self.skipTest("sftpdrop-admin was built without -DTEST_CLOCK=ON")

    def read_clock(self):
        with open(self.clock_file, encoding="ascii") as f:
            return int(f.read())

    def user_row(self, relation="123456", username="jjansen", cols="*"):
        con = self.db()
        con.row_factory = sqlite3.Row
        return con.execute(
            f"SELECT {cols} FROM users u JOIN relations r ON r.id = u.relation_id"
            " WHERE r.number = ? AND u.username = ?", (relation, username)).fetchone()

    def sql(self, statement, *params):
        con = self.db()
        with con:
            con.execute(statement, params)

    def audit_rows(self, event=None):
        rows = self.db().execute(
            "SELECT relation, username, src, event, outcome, detail FROM audit ORDER BY id"
        ).fetchall()
        return [r for r in rows if event is None or r[3] == event]

    def verifies(self, phc, secret):
        argon2 = load_argon2()
        if argon2 is None:
            self.skipTest("libargon2 not loadable from Python")
        b = secret.encode()
        return argon2.argon2id_verify(phc.encode(), b, len(b)) == 0

    # ---- init ----

    def test_init_creates_config_key_database_and_directories(self):
        out = self.init()
        self.assertEqual(out["config"], self.conf)
        self.assertRegex(out["host_key_fingerprint"], r"^SHA256:[A-Za-z0-9+/]{43}$")
        v = self.conf_values()
        key = os.path.join(self.dir, "ssh_host_ed25519_key")
        self.assertEqual(v["listen"], "127.0.0.1:2222")
        self.assertEqual(v["host_key"], key)
        self.assertEqual(v["database"], os.path.join(self.dir, "sftpdrop.db"))
        self.assertEqual(v["upload_root"], os.path.join(self.dir, "upload"))
        self.assertEqual(v["spool_dir"], os.path.join(self.dir, "spool"))
        with open(self.conf, encoding="utf-8") as f:
            self.assertIn("\n# ", f.read(), "the config explains itself in comments")

        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key, encoding="ascii") as f:
            self.assertTrue(f.read().startswith("-----BEGIN OPENSSH PRIVATE KEY-----"))
        with open(key + ".pub", encoding="ascii") as f:
            kind, blob = f.read().split()[:2]
        self.assertEqual(kind, "ssh-ed25519")
        digest = hashlib.sha256(base64.b64decode(blob)).digest()
        self.assertEqual(out["host_key_fingerprint"],
                         "SHA256:" + base64.b64encode(digest).decode().rstrip("="))

        for sub in ("upload", "spool"):
            st = os.stat(os.path.join(self.dir, sub))
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o750, sub)
        dbfile = os.path.join(self.dir, "sftpdrop.db")
        self.assertEqual(stat.S_IMODE(os.stat(dbfile).st_mode), 0o600,
                         "the database holds password hashes")
        tables = {r[0] for r in self.db().execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertLessEqual({"relations", "users", "uploads", "audit"}, tables)
        self.assertGreaterEqual(self.db().execute("PRAGMA user_version").fetchone()[0], 1)

    def test_init_human_output_shows_config_path_and_fingerprint(self):
        p = self.ok("init", "--dir", self.dir)
        self.assertIn(self.conf, p.stdout)
        self.assertRegex(p.stdout, r"SHA256:[A-Za-z0-9+/]{43}")

    def test_init_makes_a_relative_dir_absolute(self):
        out = json.loads(self.ok("init", "--dir", "rel/./inst", "--json",
                                 "--listen", "[::1]:2022").stdout)
        real = os.path.realpath(os.path.join(self.tmp, "rel", "inst"))
        self.assertEqual(out["config"], os.path.join(real, "sftpdrop.conf"))
        v = self.conf_values(out["config"])
        self.assertEqual(v["listen"], "[::1]:2022")
        for key in ("host_key", "database", "upload_root", "spool_dir"):
            self.assertTrue(v[key].startswith(real + "/"), f"{key} = {v[key]}")

    def test_init_refuses_to_overwrite_an_installation(self):
        self.init()
        key = os.path.join(self.dir, "ssh_host_ed25519_key")
        with open(key, "rb") as f:
            before = f.read()
        with open(self.conf, "rb") as f:
            conf_before = f.read()
        self.fails(1, "init", "--dir", self.dir, message="already exists")
        with open(key, "rb") as f:
            self.assertEqual(f.read(), before, "the host key must not change")
        with open(self.conf, "rb") as f:
            self.assertEqual(f.read(), conf_before)

    def test_init_refuses_an_existing_database_and_leaves_nothing_behind(self):
        os.makedirs(self.dir)
        open(os.path.join(self.dir, "sftpdrop.db"), "w").close()
        self.fails(1, "init", "--dir", self.dir, message="sftpdrop.db already exists")
        self.assertEqual(sorted(os.listdir(self.dir)), ["sftpdrop.db"])

    def test_init_refuses_a_path_too_long_for_the_config_and_cleans_up(self):
        deep = os.path.join(self.tmp, *(["d" * 50] * 4))
        self.fails(1, "init", "--dir", deep)
        self.assertFalse(os.path.exists(os.path.join(deep, "sftpdrop.conf")))
        self.assertFalse(os.path.exists(os.path.join(deep, "ssh_host_ed25519_key")))

    def test_init_bad_options_are_usage_errors(self):
        self.fails(2, "init")
        self.fails(2, "init", "--dir", self.dir, "--listen", "localhost")
        self.fails(2, "init", "--dir", self.dir, "--name", "x")
        self.fails(2, "init", "--dir", "")
        self.assertFalse(os.path.exists(self.dir))

    # ---- configuration ----

    def test_bad_config_value_names_file_line_and_key(self):
        self.init()
        bad = os.path.join(self.tmp, "bad.conf")
        with open(self.conf, encoding="utf-8") as f:
            lines = [l for l in f.read().splitlines() if l.strip() and not l.startswith("#")]
        lines.insert(2, "argon2_t_cost = lots")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        p = self.run_admin("-c", bad, "relation", "list")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"{bad}:3", p.stderr)
        self.assertIn("argon2_t_cost", p.stderr)

    def test_unknown_config_key_names_file_line_and_key(self):
        bad = os.path.join(self.tmp, "bad.conf")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("# comment\nfrobnicate = yes\n")
        p = self.run_admin("relation", "list", "-c", bad)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"{bad}:2", p.stderr)
        self.assertIn("frobnicate", p.stderr)

    def test_missing_config_file_is_an_error(self):
        missing = os.path.join(self.tmp, "nope.conf")
        self.fails(1, "-c", missing, "relation", "list", message=missing)

    def test_no_config_at_all_is_a_usage_error(self):
        self.fails(2, "relation", "list", message="no configuration: use -c FILE")

    def test_config_from_the_environment(self):
        self.init()
        env = dict(self.env, SFTPDROP_CONFIG=self.conf)
        self.ok("relation", "add", "42", "--name", "Env B.V.", env=env)
        p = self.ok("relation", "list", "--json", env=env)
        self.assertEqual([r["number"] for r in json.loads(p.stdout)], ["42"])

    def test_missing_database_is_an_error(self):
        self.init()
        os.unlink(os.path.join(self.dir, "sftpdrop.db"))
        self.fails(1, "-c", self.conf, "relation", "list", message="sftpdrop.db")

    # ---- relations ----

    def test_relation_add_and_list_json(self):
        self.init()
        before = int(time.time())
        added = self.add_relation("123456", "Jansen & Zn B.V.")
        self.assertEqual(added["number"], "123456")
        self.add_relation("000042", "Ünïcode Ltd")
        rels = self.js("relation", "list")
        self.assertEqual([r["number"] for r in rels], ["000042", "123456"])
        r = rels[1]
        self.assertEqual(set(r), {"number", "name", "status", "created_at"})
        self.assertEqual(r["name"], "Jansen & Zn B.V.")
        self.assertEqual(r["status"], "active")
        self.assertRegex(r["created_at"], ISO8601)
        created = calendar.timegm(time.strptime(r["created_at"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertLessEqual(abs(created - before), 60)
        self.assertEqual(rels[0]["name"], "Ünïcode Ltd")

    def test_relation_list_human_is_an_aligned_table(self):
        self.init()
        self.add_relation("1", "A")
        self.add_relation("123456789012", "Long Name Holding")
        lines = self.ok("-c", self.conf, "relation", "list").stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NUMBER", "NAME", "STATUS", "CREATED"])
        self.assertEqual(len(lines), 3)
        col = lines[0].index("STATUS")
        for line in lines[1:]:
            self.assertEqual(line[col:].split()[0], "active", line)

    def test_relation_list_of_an_empty_store_is_an_empty_array(self):
        self.init()
        self.assertEqual(self.ok("-c", self.conf, "--json", "relation", "list").stdout,
                         "[]\n")

    def test_relation_add_creates_upload_and_spool_directories(self):
        self.init()
        self.add_relation("123456")
        for sub in ("upload", "spool"):
            d = os.path.join(self.dir, sub, "123456")
            self.assertTrue(os.path.isdir(d), d)
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o750, d)

    def test_duplicate_relation_is_refused(self):
        self.init()
        self.add_relation("123456")
        self.fails(1, "-c", self.conf, "relation", "add", "123456", "--name", "Again",
                   message="sftpdrop-admin: relation 123456 already exists")
        self.assertEqual(len(self.js("relation", "list")), 1)

    def test_relation_number_must_be_1_to_12_digits(self):
        self.init()
        for bad in ("12a", "abc", "", "1234567890123", "12 3", "１２", "+12", "0x1"):
            with self.subTest(number=bad):
                self.fails(2, "-c", self.conf, "relation", "add", "--name", "X", "--", bad,
                           message="relation number")
        self.add_relation("123456789012")
        self.add_relation("0")
        self.assertEqual(len(self.js("relation", "list")), 2)

    def test_relation_name_is_required_and_checked(self):
        self.init()
        self.fails(2, "-c", self.conf, "relation", "add", "7", message="--name")
        for bad in ("", " padded", "bell\x07", "esc\x1b[31m", "x" * 200, "\udcff"):
            with self.subTest(name=bad):
                self.fails(2, "-c", self.conf, "relation", "add", "7", "--name", bad)
        self.assertEqual(self.js("relation", "list"), [])

    # ---- users ----

    def test_user_add_json_has_all_fields_and_a_password_meeting_the_rules(self):
        self.init()
        self.add_relation("123456")
        u = self.add_user("123456", "JJansen")
        for key in ("login", "relation", "username", "name", "email", "one_time_password",
                    "activation_code", "must_change_password", "totp_enrolled",
                    "totp_secret", "totp_uri"):
            self.assertIn(key, u)
        self.assertIs(u["must_change_password"], True)
        self.assertRegex(u["activation_code"], ACTIVATION)
        self.assertEqual(u["login"], "123456.jjansen", "user names are folded to lower case")
        self.assertEqual(u["relation"], "123456")
        self.assertEqual(u["username"], "jjansen")
        pw = u["one_time_password"]
        self.assertGreaterEqual(len(pw), 12)
        self.assertGreaterEqual(char_classes(pw), 3, pw)
        self.assertNotIn("jjansen", pw.lower())

    def test_one_time_passwords_are_strong_distinct_and_never_contain_the_username(self):
        self.init()
        self.add_relation("1")
        seen = set()
        for name in ("a", "b2", "ab", "x-y", "q.r", "z9"):
            pw = self.add_user("1", name)["one_time_password"]
            self.assertGreaterEqual(len(pw), 16)
            self.assertEqual(char_classes(pw), 4, pw)
            self.assertNotIn(name, pw.lower())
            self.assertFalse(set(pw) & set("lIO01 \"'`\\"), f"ambiguous or quoted char: {pw}")
            seen.add(pw)
        self.assertEqual(len(seen), 6)

    def test_totp_uri_parses_and_secret_decodes_to_20_bytes(self):
        self.init()
        self.add_relation("123456")
        u = self.add_user("123456", "p.de-vries_2", totp=True)
        self.assertIs(u["totp_enrolled"], True)
        uri = urllib.parse.urlsplit(u["totp_uri"])
        self.assertEqual(uri.scheme, "otpauth")
        self.assertEqual(uri.netloc, "totp")
        self.assertEqual(urllib.parse.unquote(uri.path), "/sftpdrop:123456.p.de-vries_2")
        q = dict(urllib.parse.parse_qsl(uri.query, strict_parsing=True))
        self.assertEqual(q, {"secret": u["totp_secret"], "issuer": "sftpdrop",
                             "algorithm": "SHA1", "digits": "6", "period": "30"})
        secret = b32decode_nopad(u["totp_secret"])
        self.assertEqual(len(secret), 20)
        row = self.db().execute(
            "SELECT u.totp_secret FROM users u JOIN relations r ON r.id = u.relation_id"
            " WHERE r.number = ? AND u.username = ?", ("123456", "p.de-vries_2")).fetchone()
        self.assertEqual(bytes(row[0]), secret)

    def test_user_is_stored_with_one_time_password_hash_and_no_totp_step(self):
        self.init()
        self.add_relation("123456")
        before = int(time.time())
        u = self.add_user("123456", "jjansen", "Jan Jansen", "jan@example.nl")
        row = self.db().execute(
            "SELECT u.full_name, u.email, u.batch, u.disabled, u.password_hash,"
            " u.must_change, u.password_changed_at, u.totp_last_step, u.last_login_at"
            " FROM users u JOIN relations r ON r.id = u.relation_id"
            " WHERE r.number = '123456' AND u.username = 'jjansen'").fetchone()
        name, email, batch, disabled, phc, must_change, changed, step, last = row
        self.assertEqual((name, email, batch, disabled), ("Jan Jansen", "jan@example.nl", 0, 0))
        self.assertEqual(must_change, 1)
        self.assertEqual(step, -1)
        self.assertEqual(last, 0)
        self.assertLessEqual(abs(changed - before), 60)
        self.assertTrue(phc.startswith("$argon2id$v=19$m=8192,t=1,p=1$"), phc)
        self.assertNotIn(u["one_time_password"], phc)
        argon2 = load_argon2()
        if argon2 is None:
            self.skipTest("libargon2 not loadable from Python")
        pw = u["one_time_password"].encode()
        self.assertEqual(argon2.argon2id_verify(phc.encode(), pw, len(pw)), 0,
                         "the stored hash must verify the password that was shown")
        self.assertNotEqual(argon2.argon2id_verify(phc.encode(), b"x" + pw, len(pw) + 1), 0)

    def test_user_add_human_output_shows_the_secrets_once(self):
        self.init()
        self.add_relation("123456")
        out = self.ok("-c", self.conf, "user", "add", "123456", "jjansen", "--name", "Jan",
                      "--email", "jan@example.nl", "--totp").stdout
        self.assertIn("123456.jjansen", out)
        self.assertRegex(out, r"(?m)^activation code: +[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-"
                              r"[A-HJ-NP-Z2-9]{4}$")
        self.assertRegex(out, r"(?m)^one-time password: +\S{20}$")
        secret = re.search(r"secret=([A-Z2-7]+)&", out).group(1)
        self.assertEqual(len(b32decode_nopad(secret)), 20)
        self.assertIn("otpauth://totp/sftpdrop:123456.jjansen?secret=" + secret, out)
        listed = self.ok("-c", self.conf, "user", "list").stdout
        self.assertNotIn(secret, listed)

    def test_user_add_for_a_missing_relation_is_refused(self):
        self.init()
        self.fails(1, "-c", self.conf, "user", "add", "999", "jj", "--name", "J",
                   "--email", "j@example.nl", message="relation 999 does not exist")

    def test_duplicate_user_is_refused_whatever_the_case(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "jjansen")
        self.fails(1, "-c", self.conf, "user", "add", "1", "JJANSEN", "--name", "J",
                   "--email", "j@example.nl", message="user 1.jjansen already exists")

    def test_username_validation(self):
        self.init()
        self.add_relation("1")
        for bad in (".jj", "-jj", "_jj", "a b", "jan@x", "jan/..", "ü", "x" * 65, "",
                    "a\nb"):
            with self.subTest(username=bad):
                self.fails(2, "-c", self.conf, "user", "add", "1", "--name", "J",
                           "--email", "j@example.nl", "--", bad, message="user name")
        for good in ("a", "7", "x" * 64, "p.de-vries_2", "a..b."):
            with self.subTest(username=good):
                self.assertEqual(self.add_user("1", good)["username"], good)

    def test_user_email_is_required_and_checked(self):
        self.init()
        self.add_relation("1")
        self.fails(2, "-c", self.conf, "user", "add", "1", "jj", "--name", "J",
                   message="--email")
        for bad in ("jan", "jan@", "@example.nl", "jan@example", "a@b@example.nl",
                    "jan @example.nl", "jan@exa_mple.nl", "jan@.example.nl"):
            with self.subTest(email=bad):
                self.fails(2, "-c", self.conf, "user", "add", "1", "jj", "--name", "J",
                           "--email", bad, message="e-mail")

    def test_user_list_json_fields_and_never_secrets(self):
        self.init()
        self.add_relation("1")
        self.add_relation("2")
        a = self.add_user("1", "anna", "Anna A", "anna@example.nl", totp=True)
        b = self.add_user("2", "bob", "Bob B", "bob@example.nl")
        users = self.js("user", "list")
        self.assertEqual([u["login"] for u in users], ["1.anna", "2.bob"])
        u = users[0]
        for key, want in (("relation", "1"), ("username", "anna"), ("name", "Anna A"),
                          ("email", "anna@example.nl"), ("status", "active"),
                          ("kind", "human"), ("last_login_at", None)):
            self.assertEqual(u[key], want, key)
        self.assertRegex(u["created_at"], ISO8601)
        self.assertEqual([u["login"] for u in self.js("user", "list", "2")], ["2.bob"])
        text = json.dumps(users) + self.ok("-c", self.conf, "user", "list").stdout
        for secret in (a["one_time_password"], a["totp_secret"], a["activation_code"],
                       b["one_time_password"], b["activation_code"], "$argon2"):
            self.assertNotIn(secret, text)
        self.assertIsNone(b["totp_secret"])

    def test_user_list_of_an_unknown_relation_is_refused(self):
        self.init()
        self.fails(1, "-c", self.conf, "user", "list", "5", message="relation 5 does not exist")
        self.fails(2, "-c", self.conf, "user", "list", "x5")

    def test_changes_leave_audit_rows(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "anna")
        rows = self.db().execute(
            "SELECT relation, username, src, event, outcome FROM audit ORDER BY id").fetchall()
        self.assertIn(("1", None, "admin", "relation_add", "ok"), rows)
        self.assertIn(("1", "anna", "admin", "user_add", "ok"), rows)

    # ---- account lifecycle (issue 3): activation, show, changes ----

    def test_user_add_prints_an_activation_code_whose_hash_verifies_once_canonical(self):
        self.init()
        self.add_relation("123456")
        u = self.add_user("123456", "jjansen")
        code = u["activation_code"]
        self.assertRegex(code, ACTIVATION)
        row = self.user_row(cols="u.activation_hash, u.password_hash")
        self.assertTrue(row["activation_hash"].startswith("$argon2id$v=19$m=8192,t=1,p=1$"),
                        row["activation_hash"])
        self.assertNotIn(code.replace("-", ""), row["activation_hash"])
        # The daemon drops dashes and spaces and folds case before verifying.
        self.assertTrue(self.verifies(row["activation_hash"], code.replace("-", "")),
                        "the stored hash must verify the code without its dashes")
        self.assertFalse(self.verifies(row["activation_hash"], code))
        self.assertFalse(self.verifies(row["activation_hash"], u["one_time_password"]))
        self.assertTrue(self.verifies(row["password_hash"], u["one_time_password"]))
        history = self.db().execute("SELECT hash FROM password_history").fetchall()
        self.assertEqual(history, [(row["password_hash"],)],
                         "the first password starts the history")
        shown = self.js("user", "show", "123456", "jjansen")
        self.assertIs(shown["activated"], False)

    def test_activation_codes_are_distinct_and_unambiguous(self):
        self.init()
        self.add_relation("1")
        codes = {self.add_user("1", f"u{i}")["activation_code"] for i in range(6)}
        self.assertEqual(len(codes), 6)
        for c in codes:
            self.assertFalse(set(c) & set("IO01lo"), c)

    def test_user_add_without_totp_leaves_enrolment_to_the_first_login(self):
        self.init()
        self.add_relation("123456")
        u = self.add_user("123456", "jjansen")
        self.assertIs(u["totp_enrolled"], False)
        self.assertIsNone(u["totp_secret"])
        self.assertIsNone(u["totp_uri"])
        row = self.user_row(cols="u.totp_secret, u.must_change, u.password_changed_at,"
                                 " u.created_at")
        self.assertIsNone(row["totp_secret"])
        self.assertEqual(row["must_change"], 1)
        self.assertEqual(row["password_changed_at"], row["created_at"])
        out = self.ok("-c", self.conf, "user", "add", "123456", "piet", "--name", "Piet",
                      "--email", "piet@example.nl").stdout
        self.assertNotIn("TOTP secret", out)
        self.assertNotIn("otpauth://", out)
        self.assertIn("first login", out)
        self.assertEqual(self.audit_rows("user_add")[-1][5].split()[-1], "totp=at_first_login")

    def test_totp_is_a_flag_that_takes_no_value(self):
        self.init()
        self.add_relation("1")
        self.fails(2, "-c", self.conf, "user", "add", "1", "jj", "--name", "J", "--email",
                   "j@example.nl", "--totp=yes", message="takes no value")
        self.fails(2, "-c", self.conf, "relation", "list", "--totp", message="does not apply")

    def test_user_show_reports_state_and_never_secrets(self):
        self.init()
        self.add_relation("123456")
        u = self.add_user("123456", "jjansen", totp=True)
        shown = self.js("user", "show", "123456", "JJansen")
        want = {"login": "123456.jjansen", "relation": "123456", "username": "jjansen",
                "name": "Jan Jansen", "email": "jan@example.nl", "kind": "human",
                "status": "active", "locked": False, "locked_until": None,
                "failed_logins": 0, "activated": False, "must_change_password": True,
                "totp_enrolled": True, "password_state": "valid", "password_days_left": 180,
                "expiry_warning_sent": False, "last_login_at": None,
                "last_login_from": None}
        for key, value in want.items():
            self.assertEqual(shown[key], value, key)
        changed = calendar.timegm(time.strptime(shown["password_changed_at"],
                                                "%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(shown["password_expires_at"], iso(changed + 180 * DAY))
        self.sql("UPDATE users SET last_login_at = 1700000000, last_login_src = '192.0.2.7'")
        shown = self.js("user", "show", "123456", "jjansen")
        self.assertEqual(shown["last_login_at"], "2023-11-14T22:13:20Z")
        self.assertEqual(shown["last_login_from"], "192.0.2.7")
        human = self.ok("-c", self.conf, "user", "show", "123456", "jjansen").stdout
        for line in (r"(?m)^login: +123456\.jjansen$", r"(?m)^status: +active$",
                     r"(?m)^locked: +no$", r"(?m)^must change password: +yes$",
                     r"(?m)^two-step \(TOTP\): +enrolled$",
                     r"(?m)^last login: +2023-11-14T22:13:20Z from 192\.0\.2\.7$",
                     r"(?m)^password expires: +\S+Z \(in 180 days\)$"):
            self.assertRegex(human, line)
        text = json.dumps(shown) + human
        for secret in (u["one_time_password"], u["activation_code"], u["totp_secret"],
                       "$argon2"):
            self.assertNotIn(secret, text)

    def test_user_show_of_a_batch_account_has_no_password_expiry(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "robot")
        self.sql("UPDATE users SET batch = 1")
        shown = self.js("user", "show", "1", "robot")
        self.assertEqual(shown["kind"], "batch")
        self.assertIsNone(shown["password_expires_at"])
        self.assertIsNone(shown["password_state"])
        self.assertIn("never (key-only account)",
                      self.ok("-c", self.conf, "user", "show", "1", "robot").stdout)
        self.fails(1, "-c", self.conf, "user", "reset-password", "1", "robot",
                   message="batch account")
        self.fails(1, "-c", self.conf, "user", "reset-totp", "1", "robot",
                   message="batch account")

    def test_account_commands_refuse_unknown_users_and_relations(self):
        self.init()
        self.add_relation("1")
        for cmd in ("show", "disable", "enable", "unlock", "reset-password", "reset-totp"):
            with self.subTest(cmd=cmd):
                self.fails(1, "-c", self.conf, "user", cmd, "1", "nobody",
                           message="user 1.nobody does not exist")
                self.fails(1, "-c", self.conf, "user", cmd, "9", "nobody",
                           message="relation 9 does not exist")
                self.fails(2, "-c", self.conf, "user", cmd, "1")
                self.fails(2, "-c", self.conf, "user", cmd, "1", "bad name")
                self.fails(2, "-c", self.conf, "user", cmd, "1", "jj", "extra")
        self.assertEqual(self.audit_rows("user_disable"), [])

    def test_disable_and_enable_switch_the_account_and_leave_audit_rows(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "anna")
        out = self.ok("-c", self.conf, "user", "disable", "1", "anna").stdout
        self.assertIn("user 1.anna disabled", out)
        self.assertEqual(self.user_row("1", "anna", "u.disabled")[0], 1)
        self.assertEqual(self.js("user", "show", "1", "anna")["status"], "disabled")
        self.assertIn("already disabled",
                      self.ok("-c", self.conf, "user", "disable", "1", "anna").stdout)
        shown = self.js("user", "enable", "1", "anna")
        self.assertEqual(shown["status"], "active", "--json prints the resulting account")
        self.assertEqual(self.user_row("1", "anna", "u.disabled")[0], 0)
        rows = [(r[0], r[1], r[2], r[3], r[4], r[5].split()[-1]) for r in
                self.audit_rows() if r[3] in ("user_disable", "user_enable")]
        self.assertEqual(rows, [("1", "anna", "admin", "user_disable", "ok", "changed=yes"),
                                ("1", "anna", "admin", "user_disable", "ok", "changed=no"),
                                ("1", "anna", "admin", "user_enable", "ok", "changed=yes")])

    def test_unlock_clears_a_lock_and_the_failure_count(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "anna")
        until = int(time.time()) + 900
        self.sql("UPDATE users SET failed_count = 5, locked_until = ?", until)
        shown = self.js("user", "show", "1", "anna")
        self.assertIs(shown["locked"], True)
        self.assertEqual(shown["locked_until"], iso(until))
        self.assertEqual(shown["failed_logins"], 5)
        self.assertRegex(self.ok("-c", self.conf, "user", "show", "1", "anna").stdout,
                         r"(?m)^locked: +yes, until " + re.escape(iso(until)) + "$")
        out = self.ok("-c", self.conf, "user", "unlock", "1", "anna").stdout
        self.assertIn("user 1.anna unlocked", out)
        row = self.user_row("1", "anna", "u.failed_count, u.locked_until")
        self.assertEqual(tuple(row), (0, 0))
        shown = self.js("user", "show", "1", "anna")
        self.assertIs(shown["locked"], False)
        self.assertIsNone(shown["locked_until"])
        self.assertEqual(self.audit_rows("user_unlock")[-1][4:],
                         ("ok", f"uid={os.getuid()} was_locked=yes failures=5"))
        # A lock that has run out is not shown as one.
        self.sql("UPDATE users SET failed_count = 5, locked_until = ?", int(time.time()) - 5)
        self.assertIs(self.js("user", "show", "1", "anna")["locked"], False)
        self.assertIn("was not locked",
                      self.ok("-c", self.conf, "user", "unlock", "1", "anna").stdout)

    def test_reset_password_gives_a_new_one_time_password_and_grows_the_history(self):
        self.init()
        self.add_relation("123456")
        old = self.add_user("123456", "jjansen")["one_time_password"]
        self.sql("UPDATE users SET must_change = 0, password_changed_at = 1700000000,"
                 " failed_count = 5, locked_until = ?", int(time.time()) + 900)
        r = self.js("user", "reset-password", "123456", "jjansen")
        self.assertEqual(set(r), {"login", "one_time_password", "must_change_password",
                                  "activated"})
        self.assertEqual(r["login"], "123456.jjansen")
        self.assertIs(r["must_change_password"], True)
        new = r["one_time_password"]
        self.assertNotEqual(new, old)
        self.assertGreaterEqual(len(new), 20)
        self.assertEqual(char_classes(new), 4)
        row = self.user_row(cols="u.id, u.password_hash, u.must_change,"
                                 " u.password_changed_at, u.failed_count, u.locked_until")
        self.assertTrue(self.verifies(row["password_hash"], new))
        self.assertFalse(self.verifies(row["password_hash"], old))
        self.assertEqual(row["must_change"], 1)
        self.assertLessEqual(abs(row["password_changed_at"] - time.time()), 60)
        self.assertEqual((row["failed_count"], row["locked_until"]), (0, 0), "also unlocks")
        history = [h for (h,) in self.db().execute(
            "SELECT hash FROM password_history WHERE user_id = ? ORDER BY id", (row["id"],))]
        self.assertEqual(len(history), 2)
        self.assertTrue(self.verifies(history[0], old))
        self.assertEqual(history[1], row["password_hash"])
        self.assertEqual(len(self.audit_rows("user_reset_password")), 1)
        out = self.ok("-c", self.conf, "user", "reset-password", "123456", "jjansen").stdout
        self.assertRegex(out, r"(?m)^one-time password: +\S{20}$")
        self.assertIn("activation code", out, "a not yet activated account still needs it")
        self.assertNotIn(self.user_row(cols="u.password_hash")[0], out)

    def test_reset_password_keeps_password_history_entries(self):
        self.init()
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write("password_history = 2\n")
        self.add_relation("1")
        self.add_user("1", "anna")
        for _ in range(3):
            self.js("user", "reset-password", "1", "anna")
        n = self.db().execute("SELECT count(*) FROM password_history").fetchone()[0]
        self.assertEqual(n, 2)

    def test_reset_password_follows_the_configured_minimum_length(self):
        self.init()
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write("password_min_length = 32\n")
        self.add_relation("1")
        self.assertEqual(len(self.add_user("1", "anna")["one_time_password"]), 32)
        r = self.js("user", "reset-password", "1", "anna")
        self.assertEqual(len(r["one_time_password"]), 32)

    def test_reset_totp_forgets_the_secret(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "anna", totp=True)
        self.sql("UPDATE users SET totp_last_step = 12345")
        out = self.ok("-c", self.conf, "user", "reset-totp", "1", "anna").stdout
        self.assertIn("next login", out)
        row = self.user_row("1", "anna", "u.totp_secret, u.totp_last_step")
        self.assertEqual(tuple(row), (None, -1))
        self.assertIs(self.js("user", "show", "1", "anna")["totp_enrolled"], False)
        self.assertEqual(self.audit_rows("user_reset_totp")[0][4:],
                         ("ok", f"uid={os.getuid()} had_totp=yes"))

    # ---- bans ----

    def test_bans_lists_only_current_bans_and_lift_removes_one(self):
        self.init()
        now = int(time.time())
        con = self.db()
        with con:
            for src, failures, until in (("192.0.2.7", 25, now + 3600),
                                         ("2001:db8::1", 30, now + 60),
                                         ("198.51.100.1", 40, now - 10),
                                         ("203.0.113.5", 3, 0)):
                con.execute("INSERT INTO bans(src, failures, window_start, banned_until)"
                            " VALUES (?, ?, ?, ?)", (src, failures, now - 100, until))
        bans = self.js("bans")
        self.assertEqual(bans, [
            {"src": "192.0.2.7", "banned_until": iso(now + 3600), "failures": 25},
            {"src": "2001:db8::1", "banned_until": iso(now + 60), "failures": 30}])
        lines = self.ok("-c", self.conf, "bans").stdout.splitlines()
        self.assertEqual(lines[0].split(), ["SOURCE", "BANNED", "UNTIL", "FAILURES"])
        self.assertEqual(lines[1].split(), ["192.0.2.7", iso(now + 3600), "25"])
        out = self.ok("-c", self.conf, "bans", "lift", "192.0.2.7").stdout
        self.assertIn("ban lifted", out)
        # An address is matched in the form the daemon records it.
        lifted = self.js("bans", "lift", "2001:DB8:0::1")
        self.assertEqual(lifted, {"src": "2001:db8::1", "was_banned": True, "failures": 30})
        self.assertEqual(self.js("bans"), [])
        left = [r[0] for r in self.db().execute("SELECT src FROM bans ORDER BY src")]
        self.assertEqual(left, ["198.51.100.1", "203.0.113.5"])
        rows = self.audit_rows("ban_lift")
        self.assertEqual([(r[0], r[1], r[2], r[4]) for r in rows],
                         [(None, None, "admin", "ok")] * 2)
        self.assertIn("banned_src=192.0.2.7 was_banned=yes failures=25", rows[0][5])
        self.fails(1, "-c", self.conf, "bans", "lift", "192.0.2.7", message="is not banned")
        self.fails(2, "-c", self.conf, "bans", "lift", "example.org", message="address")
        self.fails(2, "-c", self.conf, "bans", "lift")
        self.fails(2, "-c", self.conf, "bans", "extra")

    def test_bans_lift_accepts_an_ipv4_mapped_address(self):
        self.init()
        self.sql("INSERT INTO bans(src, failures, window_start, banned_until)"
                 " VALUES ('192.0.2.9', 20, 0, ?)", int(time.time()) + 600)
        self.ok("-c", self.conf, "bans", "lift", "::ffff:192.0.2.9")
        self.assertEqual(self.js("bans"), [])

    # ---- audit ----

    def test_audit_lists_rows_in_time_order_with_filters(self):
        self.init()
        con = self.db()
        with con:
            con.execute("DELETE FROM audit")
            for at, rel, user, src, event, outcome, detail in (
                    (1780308000, "1", "anna", "192.0.2.7", "auth_ok", "ok", "method=password"),
                    (1780221600, "1", "bob", "192.0.2.8", "auth_fail", "fail",
                     "reason=bad_password"),
                    (1780315200, "2", "anna", "admin", "user_unlock", "ok", "uid=0"),
                    (1780221599, None, None, "admin", "ban_lift", "ok", None)):
                con.execute("INSERT INTO audit(at, relation, username, src, event, outcome,"
                            " detail) VALUES (?,?,?,?,?,?,?)",
                            (at, rel, user, src, event, outcome, detail))
        rows = self.js("audit")
        self.assertEqual([r["event"] for r in rows],
                         ["ban_lift", "auth_fail", "auth_ok", "user_unlock"])
        self.assertEqual(set(rows[0]), {"id", "time", "relation", "user", "src", "event",
                                        "outcome", "detail"})
        self.assertEqual(rows[0]["time"], "2026-05-31T09:59:59Z")
        self.assertIsNone(rows[0]["relation"])
        self.assertIsNone(rows[0]["user"])
        self.assertEqual(rows[1], {"id": rows[1]["id"], "time": "2026-05-31T10:00:00Z",
                                   "relation": "1", "user": "bob", "src": "192.0.2.8",
                                   "event": "auth_fail", "outcome": "fail",
                                   "detail": "reason=bad_password"})

        def events(*args):
            return [r["event"] for r in self.js("audit", *args)]

        self.assertEqual(events("--relation", "1"), ["auth_fail", "auth_ok"])
        self.assertEqual(events("--user", "ANNA"), ["auth_ok", "user_unlock"])
        self.assertEqual(events("--relation", "2", "--user", "anna"), ["user_unlock"])
        self.assertEqual(events("--relation", "3"), [])
        self.assertEqual(events("--since", "2026-06-01"), ["auth_ok", "user_unlock"])
        self.assertEqual(events("--since", "2026-05-31T10:00:00Z"),
                         ["auth_fail", "auth_ok", "user_unlock"])
        self.assertEqual(events("--since", "1780315200"), ["user_unlock"])
        self.assertEqual(events("--since", "2026-06-01T12:00:01Z"), [])
        lines = self.ok("-c", self.conf, "audit", "--relation", "1").stdout.splitlines()
        self.assertEqual(lines[0].split(), ["TIME", "RELATION", "USER", "SOURCE", "EVENT",
                                            "OUTCOME", "DETAIL"])
        self.assertEqual(lines[1].split(), ["2026-05-31T10:00:00Z", "1", "bob", "192.0.2.8",
                                            "auth_fail", "fail", "reason=bad_password"])
        for bad in ("yesterday", "2026-02-30", "2026-06-01T10:00:00", "2026-6-1",
                    "2026-06-01T24:00:00Z", "-5", "1969-12-31", ""):
            with self.subTest(since=bad):
                self.fails(2, "-c", self.conf, "audit", "--since", bad, message="--since")
        self.fails(2, "-c", self.conf, "audit", "--user", "a b")
        self.fails(2, "-c", self.conf, "audit", "extra")

    def test_admin_actions_show_up_in_the_audit_command(self):
        self.init()
        self.add_relation("1")
        self.add_user("1", "anna")
        self.ok("-c", self.conf, "user", "disable", "1", "anna")
        events = [(r["relation"], r["user"], r["src"], r["event"], r["outcome"])
                  for r in self.js("audit", "--relation", "1")]
        self.assertEqual(events, [("1", None, "admin", "relation_add", "ok"),
                                  ("1", "anna", "admin", "user_add", "ok"),
                                  ("1", "anna", "admin", "user_disable", "ok")])

    # ---- notify-expiring ----

    def mail_setup(self, status=0, language=None):
        """A sendmail stand-in that records its argv and message, then exits
        with status."""
        self.mail_log = os.path.join(self.tmp, "mail.log")
        script = os.path.join(self.tmp, "test-sendmail.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\n"
                    "{ printf 'ARGV:'; for a in \"$@\"; do printf ' [%s]' \"$a\"; done\n"
                    "  printf '\\n'; cat; printf '\\n--END--\\n'; } >> " + self.mail_log + "\n"
                    f"exit {status}\n")
        os.chmod(script, 0o755)
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write(f"sendmail_command = {script} -t -i\n"
                    "mail_from = sftpdrop@example.org\n")
            if language:
                f.write(f"language = {language}\n")
        return script

    def mails(self):
        """The messages the stand-in received: (argv, headers, body)."""
        if not os.path.exists(self.mail_log):
            return []
        with open(self.mail_log, encoding="utf-8") as f:
            chunks = f.read().split("\n--END--\n")
        out = []
        for chunk in chunks:
            if not chunk.strip():
                continue
            argv, _, msg = chunk.partition("\n")
            head, _, body = msg.partition("\n\n")
            headers = dict(line.split(": ", 1) for line in head.splitlines())
            out.append((argv, headers, body))
        return out

    def active_user(self, relation="123456", username="jjansen", email="jan@example.nl",
                    name="Jan Jansen"):
        """A user created at the clock's now who has since chosen a password
        (must_change off), as after a first login."""
        self.add_user(relation, username, name=name, email=email)
        self.sql("UPDATE users SET must_change = 0 WHERE username = ?", username)

    def notify(self, status=0):
        p = self.run_admin("-c", self.conf, "--json", "notify-expiring")
        self.assertEqual(p.returncode, status, f"notify-expiring: stderr {p.stderr}")
        return json.loads(p.stdout), p.stderr

    def test_notify_expiring_mails_once_in_dutch_within_the_warning_period(self):
        self.init()
        self.mail_setup()
        self.add_relation("123456")
        self.set_clock(T0)
        self.active_user()
        self.need_test_clock()

        self.set_clock(T0 + 149 * DAY)
        self.assertEqual(self.notify(), ([], ""), "31 days left: not yet")
        self.assertEqual(self.mails(), [])
        self.assertIn("no password expires within 30 days",
                      self.ok("-c", self.conf, "notify-expiring").stdout)

        self.set_clock(T0 + 151 * DAY)
        sent, _ = self.notify()
        self.assertEqual(sent, [{"login": "123456.jjansen", "email": "jan@example.nl",
                                 "expires_at": "2026-06-30T12:00:00Z", "days_left": 29,
                                 "sent": True, "result": "sent", "error": None}])
        (argv, headers, body), = self.mails()
        self.assertEqual(argv, "ARGV: [-t] [-i]", "argv split on spaces, no shell")
        self.assertEqual(headers["To"], "jan@example.nl")
        self.assertEqual(headers["From"], "sftpdrop@example.org")
        self.assertEqual(headers["Subject"], "Uw wachtwoord voor sftpdrop verloopt op 30-06-2026")
        self.assertEqual(headers["Content-Type"], "text/plain; charset=UTF-8")
        self.assertEqual(headers["Date"], "Mon, 01 Jun 2026 12:00:00 +0000")
        self.assertIn("Geachte Jan Jansen,", body)
        self.assertIn("Uw wachtwoord voor sftpdrop verloopt over 29 dagen, op 30-06-2026.", body)
        self.assertIn("123456.jjansen", body)
        row = self.user_row(cols="u.expiry_notified_for, u.password_changed_at")
        self.assertEqual(row[0], row[1], "the warning is recorded for this password")
        audit = self.audit_rows("expiry_notified")
        self.assertEqual([(r[0], r[1], r[4]) for r in audit], [("123456", "jjansen", "ok")])
        self.assertIn("to=jan@example.nl", audit[0][5])
        self.assertIs(self.js("user", "show", "123456", "jjansen")["expiry_warning_sent"], True)

        self.set_clock(T0 + 152 * DAY)
        self.assertEqual(self.notify(), ([], ""), "once per user per expiry")
        self.assertEqual(len(self.mails()), 1)

        # A new password (as the daemon saves it) makes the user eligible again
        # when that one nears its end.
        t1 = T0 + 160 * DAY
        self.sql("UPDATE users SET password_changed_at = ?", t1)
        self.set_clock(t1 + 100 * DAY)
        self.assertEqual(self.notify(), ([], ""))
        self.set_clock(t1 + 179 * DAY)
        sent, _ = self.notify()
        self.assertEqual([(s["login"], s["days_left"], s["sent"]) for s in sent],
                         [("123456.jjansen", 1, True)])
        self.assertIn("verloopt over 1 dag, op ", self.mails()[-1][2])
        self.assertEqual(len(self.mails()), 2)

    def test_notify_expiring_in_english(self):
        self.init()
        self.mail_setup(language="en")
        self.add_relation("123456")
        self.set_clock(T0)
        self.active_user()
        self.need_test_clock()
        self.set_clock(T0 + 151 * DAY)
        self.notify()
        (_, headers, body), = self.mails()
        self.assertEqual(headers["Subject"], "Your sftpdrop password expires on 2026-06-30")
        self.assertIn("Your password for sftpdrop expires in 29 days, on 2026-06-30.", body)

    def test_notify_expiring_failure_is_not_recorded_and_exits_1(self):
        self.init()
        script = self.mail_setup(status=1)
        self.add_relation("123456")
        self.set_clock(T0)
        self.active_user()
        self.active_user(username="piet", email="piet@example.nl", name="Piet")
        self.need_test_clock()
        self.set_clock(T0 + 151 * DAY)
        sent, err = self.notify(status=1)
        self.assertEqual([(s["login"], s["sent"], s["result"]) for s in sent],
                         [("123456.jjansen", False, "failed"), ("123456.piet", False, "failed")],
                         "a failure does not stop the others")
        self.assertIn("exited with status 1", sent[0]["error"])
        self.assertIn("123456.jjansen: warning failed", err)
        self.assertEqual(len(self.mails()), 2)
        self.assertEqual(self.user_row(cols="u.expiry_notified_for")[0], 0)
        self.assertEqual([r[4] for r in self.audit_rows("expiry_notified")], ["fail", "fail"])
        with open(script, "r+", encoding="utf-8") as f:
            text = f.read().replace("exit 1", "exit 0")
            f.seek(0)
            f.write(text)
            f.truncate()
        sent, _ = self.notify()
        self.assertEqual([s["sent"] for s in sent], [True, True], "sent at the next run")

    def test_notify_expiring_with_a_missing_program_exits_1(self):
        self.init()
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write(f"sendmail_command = {self.tmp}/no-such-sendmail -t\n")
        self.add_relation("1")
        self.set_clock(T0)
        self.active_user("1", "anna")
        self.need_test_clock("1", "anna")
        self.set_clock(T0 + 151 * DAY)
        sent, err = self.notify(status=1)
        self.assertIn("cannot run", sent[0]["error"])
        self.assertIn("No such file", err)

    def test_notify_expiring_leaves_out_accounts_it_must_not_warn(self):
        self.init()
        self.mail_setup()
        self.add_relation("123456")
        self.add_relation("7")
        self.set_clock(T0)
        self.active_user()
        self.need_test_clock()
        self.active_user(username="batch")
        self.active_user(username="off")
        self.active_user(username="fresh")
        self.active_user(username="nomail")
        self.active_user(username="evil")
        self.active_user("7", "other")
        self.sql("UPDATE users SET batch = 1 WHERE username = 'batch'")
        self.sql("UPDATE users SET disabled = 1 WHERE username = 'off'")
        self.sql("UPDATE users SET must_change = 1 WHERE username = 'fresh'")
        self.sql("UPDATE users SET email = '' WHERE username = 'nomail'")
        self.sql("UPDATE users SET email = 'x@example.org\nBcc: victim@example.org'"
                 " WHERE username = 'evil'")
        self.sql("UPDATE relations SET disabled = 1 WHERE number = '7'")
        self.set_clock(T0 + 151 * DAY)
        sent, err = self.notify()
        got = {s["login"]: (s["sent"], s["result"]) for s in sent}
        self.assertEqual(got, {"123456.jjansen": (True, "sent"),
                               "123456.nomail": (False, "skipped"),
                               "123456.evil": (False, "skipped")})
        self.assertIn("123456.nomail: not warned: no e-mail address", err)
        self.assertEqual([m[1]["To"] for m in self.mails()], ["jan@example.nl"])
        self.assertNotIn("victim", open(self.mail_log, encoding="utf-8").read())

    def test_notify_expiring_refuses_a_header_breaking_mail_from(self):
        self.init()
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write("mail_from = sftpdrop@example.org\u00e9\n")
        self.fails(1, "-c", self.conf, "notify-expiring", message="mail_from")

    # ---- systemd ----

    def test_systemd_units_run_notify_expiring_daily(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "systemd", "sftpdrop-notify.service"),
                  encoding="utf-8") as f:
            service = f.read()
        with open(os.path.join(root, "systemd", "sftpdrop-notify.timer"),
                  encoding="utf-8") as f:
            timer = f.read()
        self.assertRegex(service, r"(?m)^Type=oneshot$")
        self.assertRegex(service, r"(?m)^ExecStart=\S*sftpdrop-admin .*notify-expiring$")
        self.assertRegex(timer, r"(?m)^OnCalendar=daily$")
        self.assertRegex(timer, r"(?m)^Persistent=true$")

    # ---- uploads ----

    def test_uploads_on_an_empty_store_prints_an_empty_array(self):
        self.init()
        p = self.ok("-c", self.conf, "uploads", "--json")
        self.assertEqual(p.stdout.strip(), "[]")
        self.assertEqual(json.loads(p.stdout), [])

    def test_uploads_lists_received_and_ingested_files(self):
        self.init()
        self.add_relation("1")
        self.add_relation("2")
        con = self.db()
        sha = "ab" * 32
        with con:
            con.execute("INSERT INTO uploads(relation, username, name, size, dev, ino,"
                        " received_at) VALUES ('1', 'anna', 'in/a.csv', 5000000000, 1, 2,"
                        " 1700000000)")
            con.execute("INSERT INTO uploads(relation, username, name, size, dev, ino,"
                        " received_at, sha256, ingested_at, spool_path) VALUES"
                        " ('2', NULL, 'b.xml', 7, 1, 3, 1700000001, ?, 1700000002,"
                        " '/spool/2/b.xml')", (sha,))
        ups = self.js("uploads")
        self.assertEqual(len(ups), 2)
        a, b = ups
        self.assertEqual(set(a), {"id", "relation", "user", "source", "name", "current_name",
                                  "size", "sha256", "state", "received_at", "ingested_at",
                                  "spool_path", "receipt", "removed_at", "vanished_at",
                                  "hook"})
        self.assertEqual((a["state"], b["state"]), ("received", "ingested"))
        self.assertIsNone(a["receipt"])
        self.assertIsNone(a["hook"])
        self.assertEqual((a["relation"], a["user"], a["name"], a["size"]),
                         ("1", "anna", "in/a.csv", 5000000000))
        self.assertIsInstance(a["id"], int)
        self.assertIsNone(a["sha256"])
        self.assertIsNone(a["ingested_at"])
        self.assertEqual(a["received_at"], "2023-11-14T22:13:20Z")
        self.assertIsNone(b["user"])
        self.assertEqual(b["sha256"], sha)
        self.assertEqual(b["ingested_at"], "2023-11-14T22:13:22Z")
        self.assertEqual(b["spool_path"], "/spool/2/b.xml")
        self.assertEqual([u["name"] for u in self.js("uploads", "--relation", "2")],
                         ["b.xml"])
        human = self.ok("-c", self.conf, "uploads").stdout
        self.assertIn("in/a.csv", human)
        self.assertIn(sha, human)

    def test_uploads_of_an_unknown_relation_is_refused(self):
        self.init()
        self.fails(1, "-c", self.conf, "uploads", "--relation", "77", message="77")

    # ---- command line ----

    def test_json_and_config_are_accepted_after_the_command_words(self):
        self.init()
        self.ok("relation", "add", "5", "--name", "Five", "-c", self.conf)
        p = self.ok("relation", "list", "--json", "-c", self.conf)
        self.assertEqual(json.loads(p.stdout)[0]["number"], "5")
        p = self.ok("--json", "relation", "-c", self.conf, "list")
        self.assertEqual(json.loads(p.stdout)[0]["number"], "5")
        p = self.ok("relation", "list", "--config=" + self.conf, "--json")
        self.assertEqual(json.loads(p.stdout)[0]["number"], "5")

    def test_help(self):
        for flag in ("-h", "--help"):
            p = self.ok(flag)
            self.assertIn("usage:", p.stdout)
            self.assertIn("user add RELATIENUMMER USERNAME", p.stdout)
        self.assertIn("usage:", self.ok("relation", "add", "--help").stdout)

    def test_unknown_commands_and_options_are_usage_errors(self):
        self.init()
        for args in (["frob"], ["relation"], ["relation", "frob"], ["user", "delete", "x"],
                     ["relation", "list", "--bogus"], ["relation", "list", "-x"],
                     ["relation", "list", "extra"], ["relation", "list", "--name", "n"],
                     ["uploads", "--relation"], ["--json=1", "relation", "list"], []):
            with self.subTest(args=args):
                self.fails(2, "-c", self.conf, *args)
        self.fails(2, "relation", "list", "-c")
        self.fails(2, "-c", self.conf, "-c", self.conf, "relation", "list")
        self.fails(2, "-c", self.conf, "relation", "add", "1", "--name", "a", "--name", "b")

    def test_hostile_input_never_crashes(self):
        self.init()
        self.add_relation("1")
        junk = ["\x01", "%s%n%s", "A" * 100000, "-", "--", "=", "--=", "-c=", "\xff",
                "relation", "user", "add", "list", "1", "--name", "--email"]
        for i in range(len(junk)):
            args = [junk[(i * 7 + k) % len(junk)] for k in range(i % 6 + 1)]
            with self.subTest(args=[a[:20] for a in args]):
                p = self.run_admin("-c", self.conf, *args)
                self.assertIn(p.returncode, (0, 1, 2))
        for args in (["relation", "add", "1" * 5000, "--name", "x"],
                     ["user", "add", "1", "u" * 5000, "--name", "x", "--email", "a@b.nl"],
                     ["user", "add", "1", "u", "--name", "x" * 100000, "--email", "a@b.nl"],
                     ["user", "add", "1", "u", "--name", "x", "--email", "a" * 5000 + "@b.nl"]):
            with self.subTest(args=[a[:20] for a in args]):
                self.fails(2, "-c", self.conf, *args)


if __name__ == "__main__":
    unittest.main(verbosity=2)
