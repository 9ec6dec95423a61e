"""A file larger than 4 GiB through OpenSSH sftp (a batch key): size and
SHA-256 in `uploads --json` must be exact, so offsets and sizes are 64-bit
from the client's WRITE to the ingest record. The source is a real file
(a repeated random block), not a sparse one: the server counts what it is
sent, holes included."""
import hashlib
import os
import subprocess
import time
import unittest

import interop
from test_interop_openssh import sftp_batch

SIZE = 4 * 1024 ** 3 + 100 * 1024 ** 2 + 7  # past 2^32 by 100 MiB and a bit


class BigFile(interop.InteropCase):
    def test_file_over_4_gib_keeps_size_and_hash(self):
        key = self.inst.add_batch_user(interop.RELATION, "groot")
        src = os.path.join(self.tmp, "groot.bin")
        block = os.urandom(1024 * 1024)
        h = hashlib.sha256()
        t0 = time.monotonic()
        with open(src, "wb") as f:
            left = SIZE
            while left:
                b = block if left >= len(block) else block[:left]
                f.write(b)
                h.update(b)
                left -= len(b)
        want = h.hexdigest()
        r = sftp_batch(self.inst, interop.RELATION + ".groot",
                       'put "%s"\nls -l groot.bin\n' % src, key=key)
        os.unlink(src)  # the space is needed for the upload
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(str(SIZE), r.stdout)
        row = self.inst.wait_ingested(interop.RELATION, "groot.bin", timeout=300)
        self.assertEqual(row["size"], SIZE)
        self.assertEqual(row["sha256"], want)
        print("4 GiB+ round trip in %.0f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
