"""Interop: rclone's sftp backend as a batch job with a key (an on-the-fly
remote, no rclone.conf). rclone asks the server to run md5sum/sha1sum over
ssh to check hashes; sftpdrop runs no commands, so the check is off
(--sftp-disable-hashcheck) and the ingested SHA-256 is the proof."""
import os
import subprocess
import unittest

import interop


class RcloneInterop(interop.InteropCase):
    def test_batch_job_copies_the_set(self):
        key = self.inst.add_batch_user(interop.RELATION, "rclonejob")
        remote = ":sftp,host=127.0.0.1,port=%d,user=%s.rclonejob,key_file=%s:rclone" % (
            self.inst.port, interop.RELATION, key)
        env = self.inst.env()
        env["RCLONE_CONFIG"] = os.path.join(self.tmp, "rclone.conf")
        r = subprocess.run(["rclone", "copy", "--sftp-disable-hashcheck",
                            "--sftp-set-modtime", "--retries", "1", "--low-level-retries", "1",
                            "--stats", "0", self.src, remote],
                           capture_output=True, text=True, timeout=180, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("ERROR", r.stderr)
        self.assert_ingested("rclone/")


if __name__ == "__main__":
    unittest.main(verbosity=2)
