"""Interop: paramiko's SFTP client as a person (keyboard-interactive alone:
password, then verification code), and two SFTP channels on one
connection; a channel past max_sessions_per_connection is refused."""
import io
import os
import unittest

import paramiko

import interop
from interop import harness


class ParamikoInterop(interop.InteropCase):
    extra_conf = "max_sessions_per_connection = 2\n"

    def put_all(self, sftp, remote_dir):
        sftp.mkdir(remote_dir)
        for name in interop.FILES:
            sftp.put(os.path.join(self.src, name), remote_dir + "/" + name)

    def test_person_uploads_the_set(self):
        user = self.inst.add_ready_user(interop.RELATION, "p.person")
        t, sftp = harness.paramiko_connect(self.inst, user)
        try:
            self.put_all(sftp, "mens")
            self.assertEqual(sorted(sftp.listdir("mens")), sorted(interop.FILES))
            # 64-bit sizes come back as they went.
            self.assertEqual(sftp.stat("mens/drie-mb.bin").st_size, 3 * 1024 * 1024)
        finally:
            t.close()
        self.assert_ingested("mens/")

    def test_control_characters_refused_with_a_message_session_goes_on(self):
        user = self.inst.add_ready_user(interop.RELATION, "c.control")
        t, sftp = harness.paramiko_connect(self.inst, user)
        try:
            for bad in ("regel\nbreuk.txt", "tab\there.txt", "bel\x07.txt", "esc\x1b[1m.txt"):
                with self.assertRaises(IOError) as cm:
                    sftp.putfo(io.BytesIO(b"x"), bad)
                self.assertIn("control characters", str(cm.exception))
            # The session is still usable, and UTF-8 and "-" names are fine.
            sftp.putfo(io.BytesIO(b"ok"), "-daarna é 報告.txt")
        finally:
            t.close()
        self.assertEqual(self.inst.wait_ingested(interop.RELATION, "-daarna é 報告.txt")["size"], 2)
        self.assertFalse([n for n in os.listdir(os.path.join(self.inst.upload_root,
                                                             interop.RELATION))
                          if any(ord(c) < 32 for c in n)])

    def test_rename_v3_never_overwrites_posix_rename_replaces(self):
        user = self.inst.add_ready_user(interop.RELATION, "r.rename")
        t, sftp = harness.paramiko_connect(self.inst, user)
        try:
            sftp.mkdir("ren")
            sftp.putfo(io.BytesIO(b"1" * 10), "ren/a.txt")
            sftp.putfo(io.BytesIO(b"2" * 20), "ren/b.txt")
            with self.assertRaises(IOError) as cm:
                sftp.rename("ren/a.txt", "ren/b.txt")  # SSH_FXP_RENAME
            self.assertIn("file exists", str(cm.exception))
            self.assertEqual(sftp.stat("ren/b.txt").st_size, 20)
            sftp.posix_rename("ren/a.txt", "ren/b.txt")  # posix-rename@openssh.com
            self.assertEqual(sftp.stat("ren/b.txt").st_size, 10)
            self.assertNotIn("a.txt", sftp.listdir("ren"))
        finally:
            t.close()

    def test_two_channels_at_once_and_a_third_refused(self):
        user = self.inst.add_ready_user(interop.RELATION, "k.kanaal")
        t, one = harness.paramiko_connect(self.inst, user)
        try:
            two = paramiko.SFTPClient.from_transport(t)
            one.mkdir("twee")
            data = os.urandom(3 * 1024 * 1024)
            a = one.open("twee/a.bin", "wb")
            b = two.open("twee/b.bin", "wb")
            for i in range(0, len(data), 32768):  # interleaved on one connection
                a.write(data[i:i + 32768])
                b.write(data[i:i + 32768])
            a.close()
            b.close()
            with self.assertRaises(paramiko.ChannelException):
                paramiko.SFTPClient.from_transport(t)
            self.inst.wait_log(r"event=request_refused .*reason=channel_limit")
            two.close()
            # The freed place can be taken again.
            three = paramiko.SFTPClient.from_transport(t)
            self.assertEqual(three.stat("twee/b.bin").st_size, len(data))
        finally:
            t.close()
        want = harness.hashlib.sha256(data).hexdigest()
        for name in ("twee/a.bin", "twee/b.bin"):
            self.assertEqual(self.inst.wait_ingested(interop.RELATION, name)["sha256"], want)



def statvfs(sftp, path):
    """statvfs@openssh.com (paramiko has no call for it): the 11 fields."""
    from paramiko.sftp import CMD_EXTENDED
    _t, msg = sftp._request(CMD_EXTENDED, "statvfs@openssh.com", path)
    names = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
             "f_ffree", "f_favail", "f_fsid", "f_flag", "f_namemax")
    return dict((n, msg.get_int64()) for n in names)


class ParamikoQuota(interop.InteropCase):
    extra_conf = "relation_quota = 4194304\nmax_sessions_per_connection = 2\n"

    def test_quota_is_shared_by_the_channels_of_a_connection(self):
        user = self.inst.add_ready_user(interop.RELATION, "q.quota")
        t, one = harness.paramiko_connect(self.inst, user)
        try:
            two = paramiko.SFTPClient.from_transport(t)
            # df shows the quota as the size and the room left in it.
            st = statvfs(one, ".")
            self.assertEqual(st["f_blocks"] * st["f_frsize"], 4194304)
            a = one.open("a.bin", "wb")
            a.write(os.urandom(3 * 1024 * 1024))
            a.flush()
            b = two.open("b.bin", "wb")
            b.write(os.urandom(1024 * 1024))  # exactly at the quota: fine
            b.flush()
            self.assertEqual(statvfs(two, ".")["f_bavail"], 0)
            with self.assertRaises(IOError) as cm:
                b.write(b"x")  # one byte over, on the other channel
                b.flush()
            self.assertIn("quota exceeded", str(cm.exception))
            b.close()  # FAILURE, which paramiko does not raise on close
            a.close()
            # The session goes on: the refused upload was never published.
            self.assertNotIn("b.bin", one.listdir("."))
            self.assertEqual(one.stat("a.bin").st_size, 3 * 1024 * 1024)
        finally:
            t.close()
        self.inst.wait_ingested(interop.RELATION, "a.bin")
        self.assertNotIn("b.bin", [u["name"] for u in self.inst.uploads()])
        self.assertIn('reason="quota exceeded"', self.inst.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
