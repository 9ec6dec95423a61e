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
                 email="jan@example.nl"):
        return self.js("user", "add", relation, username, "--name", name, "--email", email)

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
        for key in ("login", "relation", "username", "one_time_password", "totp_secret",
                    "totp_uri"):
            self.assertIn(key, u)
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
        u = self.add_user("123456", "p.de-vries_2")
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
                      "--email", "jan@example.nl").stdout
        self.assertIn("123456.jjansen", out)
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
        a = self.add_user("1", "anna", "Anna A", "anna@example.nl")
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
        for secret in (a["one_time_password"], a["totp_secret"], b["one_time_password"],
                       b["totp_secret"], "$argon2"):
            self.assertNotIn(secret, text)

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
        self.assertEqual(set(a), {"id", "relation", "user", "name", "size", "sha256",
                                  "received_at", "ingested_at", "spool_path"})
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
