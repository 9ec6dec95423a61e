#!/usr/bin/env python3
"""Seed corpus for fuzz_sftp_decode: client byte streams of SFTP v3 frames
(4-byte length + payload). Valid requests of every type, truncated ones,
bad and oversized lengths, hostile attrs. Run once; the files are committed.
    python3 tests/fuzz/make_corpus.py tests/fuzz/corpus/sftp_decode
"""
import os
import struct
import sys

u8 = lambda v: struct.pack(">B", v)
u32 = lambda v: struct.pack(">I", v)
u64 = lambda v: struct.pack(">Q", v)


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def frame(payload):
    return u32(len(payload)) + payload


def req(t, rid, body=b""):
    return u8(t) + u32(rid) + body


H = b"0123456789abcdef"
ATTRS_NONE = u32(0)
ATTRS_ALL = (u32(0x8000000F) + u64(1 << 40) + u32(1000) + u32(1000) + u32(0o100644)
             + u32(1700000000) + u32(1700000001) + u32(1) + s("x@y") + s("v"))

payloads = {
    "init": u8(1) + u32(3),
    "init_ext": u8(1) + u32(3) + s("a@b") + s("1"),
    "open_write": req(3, 1, s("/up/file.txt") + u32(0x1A) + ATTRS_NONE),
    "open_read": req(3, 2, s("report.pdf") + u32(0x01) + ATTRS_ALL),
    "open_excl": req(3, 3, s("n") + u32(0x2A) + ATTRS_NONE),
    "close": req(4, 4, s(H)),
    "read": req(5, 5, s(H) + u64(0) + u32(32768)),
    "read_far": req(5, 6, s(H) + u64(0xFFFFFFFFFFFFFFFF) + u32(0xFFFFFFFF)),
    "write": req(6, 7, s(H) + u64(1 << 33) + s(b"data\x00with\x00nuls")),
    "lstat": req(7, 8, s("../../etc/passwd")),
    "fstat": req(8, 9, s(H)),
    "setstat": req(9, 10, s("f") + u32(0x8) + u32(1) + u32(2)),
    "fsetstat": req(10, 11, s(H) + ATTRS_ALL),
    "opendir": req(11, 12, s("/")),
    "readdir": req(12, 13, s(H)),
    "remove": req(13, 14, s("old.csv")),
    "mkdir": req(14, 15, s("dir") + u32(0x4) + u32(0o755)),
    "rmdir": req(15, 16, s("dir")),
    "realpath": req(16, 17, s(".")),
    "stat": req(17, 18, s("/a/./b//../c")),
    "rename": req(18, 19, s("a") + s("b")),
    "readlink": req(19, 20, s("l")),
    "symlink": req(20, 21, s("/etc/passwd") + s("l")),
    "ext_posix_rename": req(200, 22, s("posix-rename@openssh.com") + s("a") + s("b")),
    "ext_statvfs": req(200, 23, s("statvfs@openssh.com") + s("/")),
    "ext_fstatvfs": req(200, 24, s("fstatvfs@openssh.com") + s(H)),
    "ext_fsync": req(200, 25, s("fsync@openssh.com") + s(H)),
    "ext_limits": req(200, 26, s("limits@openssh.com")),
    "ext_hardlink": req(200, 27, s("hardlink@openssh.com") + s("a") + s("b")),
    "ext_unknown": req(200, 28, s("copy-data") + b"\x00" * 7),
    "unknown_type": req(99, 29, b"junk"),
    "status_from_client": req(101, 30),
    "utf8_name": req(3, 31, s("caf\xe9 \u65e5\u672c -x".encode("utf-8")) + u32(0x1A) + ATTRS_NONE),
    "control_char": req(3, 32, s(b"a\nb\x00c") + u32(0x1A) + ATTRS_NONE),
    "staging_name": req(17, 33, s("/.sftpdrop-staging.abc")),
    "attrs_huge_ext": req(9, 34, s("f") + u32(0x80000000) + u32(0xFFFFFFFF)),
    "attrs_ext_short": req(9, 35, s("f") + u32(0x80000000) + u32(2) + s("t") + s("v")),
    "string_too_long": req(17, 36, u32(0xFFFFFFF0) + b"x"),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus/sftp_decode"
    os.makedirs(out, exist_ok=True)
    files = {}
    for name, p in payloads.items():
        files["valid_" + name] = frame(p)
    # Truncated payloads inside a frame that says so (decoder errors).
    for name in ("open_write", "write", "fsetstat", "rename", "ext_posix_rename", "read"):
        p = payloads[name]
        for cut in (1, 5, len(p) // 2, len(p) - 1):
            files["trunc_%s_%d" % (name, cut)] = frame(p[:cut])
    # Stream cut mid-frame (framing needs more).
    files["stream_cut"] = frame(payloads["init"]) + frame(payloads["write"])[:-3]
    files["header_only"] = u32(100)
    files["short_header"] = b"\x00\x00"
    files["zero_length"] = u32(0) + b"\x01"
    files["oversized"] = u32(256 * 1024 + 1) + u8(6)
    files["huge_length"] = u32(0xFFFFFFFF) + u8(3)
    # A typical session: init, realpath, open, writes, close.
    files["session"] = b"".join(frame(payloads[n]) for n in
                                ("init", "realpath", "open_write", "write", "write",
                                 "fsetstat", "close", "ext_limits", "stat"))
    files["pipelined_mixed"] = b"".join(frame(p) for p in payloads.values())
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d files in %s" % (len(files), out))


if __name__ == "__main__":
    main()
