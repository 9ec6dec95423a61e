"""Interop: OpenSSH sftp -b, as a person (password + verification code
answered through SSH_ASKPASS) and as a batch job (key), each uploading the
whole set; a batch job through a ControlMaster connection uses two channels."""
import os
import subprocess
import unittest

import interop
from interop import harness


def sftp_batch(inst, login, batch, user=None, key=None, extra=()):
    env = inst.env()
    argv = ["sftp"] + interop.ssh_options(inst) + list(extra)
    if key:
        argv += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", key,
                 "-o", "PreferredAuthentications=publickey"]
    else:
        env.update(SSH_ASKPASS=interop.ASKPASS, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
                   SD_PASSWORD=user.password, SD_TOTP_SECRET=user.secret)
        inst.next_step()  # a fresh code for this login
        argv += ["-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
                 "-o", "PreferredAuthentications=keyboard-interactive"]
    argv += ["-P", str(inst.port), "-b", "-", login + "@127.0.0.1"]
    return subprocess.run(argv, input=batch, capture_output=True, text=True, env=env,
                          timeout=300)


def put_all(src, remote_dir):
    lines = ["mkdir %s" % remote_dir, "cd %s" % remote_dir]
    for name in interop.FILES:
        lines.append('put "%s"' % os.path.join(src, name))
    lines.append("ls -l")
    return "\n".join(lines) + "\n"


class OpenSshInterop(interop.InteropCase):
    def test_person_with_password_and_code_uploads_the_set(self):
        user = self.inst.add_ready_user(interop.RELATION, "j.jansen")
        r = sftp_batch(self.inst, user.login, put_all(self.src, "mens"), user=user)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("rapport maart é.csv", r.stdout)
        self.assertIn("報告 2026.txt", r.stdout)
        self.assert_ingested("mens/")

    def test_batch_job_with_key_uploads_the_set(self):
        key = self.inst.add_batch_user(interop.RELATION, "nachtjob")
        r = sftp_batch(self.inst, interop.RELATION + ".nachtjob",
                       put_all(self.src, "batch"), key=key)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_ingested("batch/")

    def test_controlmaster_connection_serves_two_sftp_channels(self):
        key = self.inst.add_batch_user(interop.RELATION, "mux")
        ctl = os.path.join(self.tmp, "ctl-%C")
        extra = ["-o", "ControlMaster=auto", "-o", "ControlPath=" + ctl,
                 "-o", "ControlPersist=30"]
        login = interop.RELATION + ".mux"
        try:
            # The first sftp leaves the master running; the second opens
            # its channel on the same connection, while a third keeps one
            # open beside it.
            r = sftp_batch(self.inst, login, 'mkdir mux\nput "%s" mux/\n' %
                           os.path.join(self.src, "tiny.txt"), key=key, extra=extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            holder = subprocess.Popen(
                ["sftp"] + interop.ssh_options(self.inst) + extra +
                ["-o", "BatchMode=yes", "-i", key, "-P", str(self.inst.port),
                 "-b", "-", login + "@127.0.0.1"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=self.inst.env())
            holder.stdin.write("pwd\n")
            holder.stdin.flush()
            self.inst.wait_log(r"event=sftp_channel channel=2 channels=1")
            r = sftp_batch(self.inst, login, 'put "%s" mux/\n' %
                           os.path.join(self.src, "drie-mb.bin"), key=key, extra=extra)
            self.assertEqual(r.returncode, 0, r.stderr)
            out, err = holder.communicate("bye\n", timeout=60)
            self.assertEqual(holder.returncode, 0, err)
            self.inst.wait_log(r"event=sftp_channel channel=3 channels=2")
        finally:
            subprocess.run(["ssh", "-o", "ControlPath=" + ctl, "-O", "exit",
                            "-p", str(self.inst.port), login + "@127.0.0.1"],
                           capture_output=True, timeout=30)
        self.assert_ingested("mux/", files=["tiny.txt", "drie-mb.bin"])
        # One connection for all three.
        logins = [l for l in self.inst.log().splitlines()
                  if "event=auth_ok" in l and 'user="mux"' in l]
        self.assertEqual(len(logins), 1, logins)


if __name__ == "__main__":
    unittest.main(verbosity=2)
