"""WinSCP's way of uploading, reproduced at protocol level with paramiko:
the password typed into the first keyboard-interactive prompt; files over
100 KB uploaded as NAME.filepart and renamed when done (an existing target
deleted first); the modification time set after every upload; an
interrupted transfer resumed by appending to the .filepart (OPEN without
TRUNC, writes from its current size). No step may fail, and each final file
is ingested once with the right SHA-256; no .filepart ever is."""
import os
import time
import unittest

import paramiko
from paramiko.sftp import CMD_OPEN, SFTP_FLAG_CREATE, SFTP_FLAG_TRUNC, SFTP_FLAG_WRITE
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_file import SFTPFile

import interop
from interop import harness

# WinSCP: "Transfer to temporary filename" for files above 100 KB (default).
PART_THRESHOLD = 100 * 1024
BLOCK = 32768
MTIME = 1767225600  # 2026-01-01, as the local file would have it


def sftp_open(sftp, path, flags):
    """OPEN with exactly these pflags (paramiko's mode strings cannot say
    WRITE|CREAT without TRUNC)."""
    _t, msg = sftp._request(CMD_OPEN, path, flags, SFTPAttributes())
    return SFTPFile(sftp, msg.get_binary(), "wb")


def exists(sftp, path):
    try:
        sftp.stat(path)
        return True
    except FileNotFoundError:
        return False


def winscp_put(sftp, local, remote, stop_after=None):
    """One upload as WinSCP does it: True when done. stop_after: bytes
    after which the transfer 'breaks': returns the open file, which the
    caller keeps until it has dropped the connection (paramiko would CLOSE
    a file it collects)."""
    size = os.path.getsize(local)
    temp = remote + ".filepart" if size > PART_THRESHOLD else remote
    offset = 0
    if temp != remote and exists(sftp, temp):
        offset = sftp.stat(temp).st_size  # resume where it broke off
    flags = SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | (0 if offset else SFTP_FLAG_TRUNC)
    f = sftp_open(sftp, temp, flags)
    with open(local, "rb") as src:
        src.seek(offset)
        f.seek(offset)
        while True:
            if stop_after is not None and offset >= stop_after:
                return f  # interrupted: no CLOSE
            block = src.read(BLOCK)
            if not block:
                break
            f.write(block)
            offset += len(block)
    f.close()
    if temp != remote:
        if exists(sftp, remote):
            sftp.remove(remote)
        sftp.rename(temp, remote)
    sftp.utime(remote, (MTIME, MTIME))
    return True


class WinScpPattern(interop.InteropCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.inst.add_ready_user(interop.RELATION, "w.winscp")

    def connect(self):
        # keyboard-interactive alone, "Password: " first: WinSCP's way.
        return harness.paramiko_connect(self.inst, self.user, path="kbdint")

    def test_set_uploaded_through_filepart_and_rename(self):
        t, sftp = self.connect()
        try:
            sftp.mkdir("set")
            for name in interop.FILES:
                self.assertTrue(winscp_put(sftp, os.path.join(self.src, name),
                                           "set/" + name))
                self.assertEqual(sftp.stat("set/" + name).st_mtime, MTIME)
        finally:
            t.close()
        self.assert_ingested("set/")
        self.assertFalse([u for u in self.inst.uploads() if u["name"].endswith(".filepart")])

    def test_overwrite_deletes_the_target_first(self):
        d = interop.make_files(self.tmp, {"drie-mb.bin": 3 * 1024 * 1024})
        t, sftp = self.connect()
        try:
            sftp.mkdir("over")
            self.assertTrue(winscp_put(sftp, os.path.join(self.src, "drie-mb.bin"),
                                       "over/drie-mb.bin"))
            first = self.inst.wait_ingested(interop.RELATION, "over/drie-mb.bin")
            self.assertTrue(winscp_put(sftp, os.path.join(d, "drie-mb.bin"),
                                       "over/drie-mb.bin"))
        finally:
            t.close()
        want = harness.sha256_file(os.path.join(d, "drie-mb.bin"))

        def second():
            rows = [u for u in self.inst.uploads()
                    if u["name"] == "over/drie-mb.bin" and u["sha256"] == want]
            return rows
        rows = harness.wait_for(second, 60, "the new version ingested")
        self.assertEqual(len(rows), 1)
        self.assertNotEqual(first["sha256"], want)

    def test_interrupted_transfer_resumed_by_appending_to_the_filepart(self):
        d = interop.make_files(self.tmp, {"hervat.bin": 5 * 1024 * 1024 + 123})
        local = os.path.join(d, "hervat.bin")
        t, sftp = self.connect()
        try:
            sftp.mkdir("resume")
            broken = winscp_put(sftp, local, "resume/hervat.bin", stop_after=2 * 1024 * 1024)
            self.assertIsInstance(broken, SFTPFile)
        finally:
            t.close()  # the connection breaks mid-transfer
        self.inst.wait_log(r'event=sftp_partial path="/resume/hervat.bin.filepart"')
        t, sftp = self.connect()
        try:
            self.assertTrue(winscp_put(sftp, local, "resume/hervat.bin"))
            self.assertFalse(exists(sftp, "resume/hervat.bin.filepart"))
        finally:
            t.close()
        self.assertIn("event=sftp_resume", self.inst.log())
        row = self.inst.wait_ingested(interop.RELATION, "resume/hervat.bin")
        self.assertEqual(row["sha256"], harness.sha256_file(local))
        self.assertEqual(row["size"], os.path.getsize(local))
        time.sleep(0.5)  # nothing else arrives later
        names = [u["name"] for u in self.inst.uploads()]
        self.assertEqual(names.count("resume/hervat.bin"), 1)
        self.assertNotIn("resume/hervat.bin.filepart", names)


if __name__ == "__main__":
    unittest.main(verbosity=2)
