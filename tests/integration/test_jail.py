"""The relation directory is a jail: `..`, absolute paths and symlinks placed
in it never reach outside, and relations cannot see each other's files."""
import errno
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


class JailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Downloads on, so that reads are really attempted, not just refused.
        cls.inst = harness.Instance(extra_conf="allow_download = yes\n")
        cls.inst.add_relation("111111", "Relatie A")
        cls.inst.add_relation("222222", "Relatie B")
        cls.a = cls.inst.add_ready_user("111111", "anna")
        cls.b = cls.inst.add_ready_user("222222", "bert")
        cls.root_a = os.path.join(cls.inst.upload_root, "111111")
        cls.root_b = os.path.join(cls.inst.upload_root, "222222")
        # A decoy outside every relation directory, and symlinks to it.
        cls.outside = os.path.join(cls.inst.dir, "outside")
        os.makedirs(cls.outside)
        cls.decoy = os.path.join(cls.outside, "secret.txt")
        with open(cls.decoy, "w") as f:
            f.write("do not touch\n")
        os.symlink(cls.outside, os.path.join(cls.root_a, "evil-dir"))
        os.symlink(cls.decoy, os.path.join(cls.root_a, "evil-file"))
        os.symlink("../../outside/secret.txt", os.path.join(cls.root_a, "evil-rel"))

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def connect(self, user):
        t, sftp = harness.paramiko_connect(self.inst, user)
        self.addCleanup(t.close)
        return sftp

    def assert_decoy_intact(self):
        with open(self.decoy) as f:
            self.assertEqual(f.read(), "do not touch\n")
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret.txt"])

    def test_dotdot_stays_inside(self):
        sftp = self.connect(self.a)
        self.assertEqual(sftp.normalize("../../.."), "/")
        with sftp.open("../../../escape.txt", "wb") as f:
            f.write(b"x")
        # Clamped at the relation root by the kernel.
        self.assertTrue(os.path.exists(os.path.join(self.root_a, "escape.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.inst.upload_root, "escape.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.inst.dir, "escape.txt")))
        with self.assertRaises(IOError):
            sftp.stat("../222222/anything")

    def test_absolute_etc_passwd_is_not_the_hosts(self):
        sftp = self.connect(self.a)
        with self.assertRaises(IOError) as cm:
            sftp.stat("/etc/passwd")
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        with self.assertRaises(IOError):
            sftp.open("/etc/passwd", "rb").read()
        with self.assertRaises(IOError):
            sftp.open("../../../../../../etc/passwd", "rb").read()
        with self.assertRaises(IOError):
            sftp.open("/etc/passwd", "wb")  # no /etc inside the jail

    def test_symlinks_placed_inside_do_not_lead_outside(self):
        sftp = self.connect(self.a)
        for path in ("evil-dir/secret.txt", "evil-file", "evil-rel"):
            with self.assertRaises(IOError, msg=path):
                sftp.open(path, "rb").read()
        with self.assertRaises(IOError):
            sftp.listdir("evil-dir")
        with self.assertRaises(IOError):
            with sftp.open("evil-dir/new.txt", "wb") as f:
                f.write(b"x")
        # Writing "to" a symlink is refused; its target is never opened.
        with self.assertRaises(IOError):
            with sftp.open("evil-file", "wb") as f:
                f.write(b"overwritten\n")
        self.assert_decoy_intact()
        with self.assertRaises(IOError):
            sftp.symlink("/etc", "mylink")
        with self.assertRaises(IOError):
            sftp.readlink("evil-file")
        self.assert_decoy_intact()

    def test_relations_cannot_see_each_other(self):
        sa = self.connect(self.a)
        sb = self.connect(self.b)
        with sa.open("only-a.txt", "wb") as f:
            f.write(b"a")
        with sb.open("only-b.txt", "wb") as f:
            f.write(b"b")
        self.assertNotIn("only-b.txt", sa.listdir("/"))
        self.assertNotIn("only-a.txt", sb.listdir("/"))
        self.assertNotIn("222222", sa.listdir("/"))
        for p in ("/222222/only-b.txt", "../222222/only-b.txt", "../../upload/222222/only-b.txt"):
            with self.assertRaises(IOError, msg=p):
                sa.stat(p)
        self.assertTrue(os.path.exists(os.path.join(self.root_b, "only-b.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.root_a, "only-b.txt")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
