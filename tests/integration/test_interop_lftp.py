"""Interop: lftp's sftp:// as a batch job. lftp runs OpenSSH's ssh as its
transport and answers one password prompt itself, so it cannot take part in
the two-step dialogue of a person's account: batch jobs use a key."""
import os
import subprocess
import unittest

import interop


class LftpInterop(interop.InteropCase):
    def test_batch_job_uploads_the_set(self):
        key = self.inst.add_batch_user(interop.RELATION, "lftpjob")
        ssh = "ssh -a -x -o BatchMode=yes -o IdentitiesOnly=yes -i %s %s" % (
            key, " ".join(interop.ssh_options(self.inst)))
        cmds = ['set sftp:connect-program "%s"' % ssh,
                "set net:max-retries 1",
                "set cmd:fail-exit yes",
                "open -u %s.lftpjob, sftp://127.0.0.1:%d" % (interop.RELATION,
                                                              self.inst.port),
                "mkdir lftp",
                "cd lftp"]
        for name in interop.FILES:
            cmds.append('put "%s"' % os.path.join(self.src, name))
        cmds.append("cls -l")
        r = subprocess.run(["lftp", "-f", "/dev/stdin"], input="\n".join(cmds) + "\n",
                           capture_output=True, text=True, timeout=180, env=self.inst.env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("rapport maart é.csv", r.stdout)
        self.assert_ingested("lftp/")


if __name__ == "__main__":
    unittest.main(verbosity=2)
