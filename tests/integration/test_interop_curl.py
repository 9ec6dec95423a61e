"""Interop: curl's sftp:// as a batch job with a key, the server's host key
pinned by its SHA-256 fingerprint (--hostpubsha256, what sftpdrop-admin
init and ssh-keygen -lf print)."""
import os
import subprocess
import unittest
import urllib.parse

import interop


class CurlInterop(interop.InteropCase):
    def curl(self, key, *args):
        fp = interop.host_fingerprint(self.inst)
        argv = ["curl", "--silent", "--show-error", "--fail",
                "--hostpubsha256", fp.split(":", 1)[1],
                "--key", key, "--pubkey", key + ".pub",
                "--user", interop.RELATION + ".curljob:"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    def test_batch_job_uploads_the_set_with_pinned_host_key(self):
        key = self.inst.add_batch_user(interop.RELATION, "curljob")
        base = "sftp://127.0.0.1:%d/" % self.inst.port
        for name in interop.FILES:
            url = base + "curl/" + urllib.parse.quote(name)
            r = self.curl(key, "--ftp-create-dirs", "-T", os.path.join(self.src, name), url)
            self.assertEqual(r.returncode, 0, "%s: %s" % (name, r.stderr))
        self.assert_ingested("curl/")

    def test_wrong_host_key_fingerprint_is_refused_by_curl(self):
        key = self.inst.add_batch_user(interop.RELATION, "curlwrong")
        argv = ["curl", "--silent", "--show-error", "--hostpubsha256",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "--key", key,
                "--pubkey", key + ".pub", "--user", interop.RELATION + ".curlwrong:",
                "-T", os.path.join(self.src, "tiny.txt"),
                "sftp://127.0.0.1:%d/nooit.txt" % self.inst.port]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(
            os.path.join(self.inst.upload_root, interop.RELATION, "nooit.txt")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
