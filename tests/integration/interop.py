"""The interoperability suite's common part: one instance per client, the
same set of files for every client (tiny, empty, 3 MiB, names with spaces
and accents, CJK, a leading dash), and the check that each was ingested
once with its SHA-256 under exactly its name."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RELATION = "123456"
ASKPASS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "askpass.sh")

# name -> size; contents are random bytes (text for the .csv).
FILES = {
    "tiny.txt": 5,
    "leeg.dat": 0,
    "drie-mb.bin": 3 * 1024 * 1024,
    "rapport maart é.csv": 2048,
    "報告 2026.txt": 100,
    "-begint-met-streep.txt": 10,
}


def make_files(where, files=None):
    """Write the set into a new directory under where; returns its path."""
    d = tempfile.mkdtemp(prefix="src-", dir=where)
    for name, size in (files or FILES).items():
        with open(os.path.join(d, name), "wb") as f:
            if name.endswith(".csv"):
                row = b"nummer;naam;bedrag\n1;\xc3\xa9\xc3\xa9n;12,50\n"
                f.write((row * (size // len(row) + 1))[:size])
            else:
                f.write(os.urandom(size))
    return d


def host_fingerprint(inst):
    """SHA256:... of the instance's first host key, as ssh-keygen -lf prints."""
    key = None
    with open(inst.conf) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "host_key":
                key = v.strip()
                break
    out = subprocess.run(["ssh-keygen", "-lf", key], check=True, capture_output=True,
                         text=True).stdout
    return out.split()[1]


def ssh_options(inst):
    """OpenSSH options shared by the tests: a throw-away known_hosts entry
    is never written; the host key is pinned by fingerprint where the
    client can (curl), elsewhere not checked."""
    return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30"]


class InteropCase(unittest.TestCase):
    """setUpClass: an instance, the relation, and the source files."""
    extra_conf = ""

    @classmethod
    def setUpClass(cls):
        cls.inst = harness.Instance(extra_conf=cls.extra_conf)
        cls.inst.add_relation(RELATION)
        cls.tmp = tempfile.mkdtemp(prefix="sftpdrop-interop-")
        cls.src = make_files(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    def assert_ingested(self, prefix="", src=None, files=None, timeout=60):
        """Every file of the set is ingested under prefix + name with its
        SHA-256 and size, once, and its name is byte for byte the same in
        the upload directory."""
        src = src or self.src
        for name in (files or FILES):
            path = os.path.join(src, name)
            want = harness.sha256_file(path)
            row = self.inst.wait_ingested(RELATION, prefix + name, timeout=timeout)
            self.assertEqual(row["sha256"], want, name)
            self.assertEqual(row["size"], os.path.getsize(path), name)
            self.assertEqual(harness.sha256_file(row["spool_path"]), want, name)
            on_disk = os.path.join(self.inst.upload_root, RELATION, prefix + name)
            self.assertTrue(os.path.exists(on_disk.encode()), name)
        names = [u["name"] for u in self.inst.uploads() if u["relation"] == RELATION]
        for name in (files or FILES):
            self.assertEqual(names.count(prefix + name), 1,
                             "%s ingested %d times" % (name, names.count(prefix + name)))
        log = self.inst.log()
        self.assertNotIn("runtime error", log)
