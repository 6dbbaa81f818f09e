#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lists the device code a CUDA binary carries, without cuobjdump.

    fatbin_archs.py LIB.so [--expect-ptx 80] [--expect-sass 80,90]

Reads the ELF's .nv_fatbin section: one fatbin per translation unit (magic
0xBA55ED50), each a list of entries whose header says the kind (1 = PTX,
2 = SASS/cubin) and the architecture (80 = sm_80 / compute_80; an
arch-specific target such as sm_90a is listed as 90).  Prints one line per
distinct kind and architecture with the number of entries, e.g.
"ptx compute_80: 12" and "sass sm_90: 12"; with --expect-*, exits 1 unless
every translation unit that has device code carries each expected entry.
"""
import argparse
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50
KINDS = {1: "ptx", 2: "sass"}


def section(path, name):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    for h in headers:
        end = data.index(b"\0", names_at + h[0])
        if data[names_at + h[0]:end].decode() == name:
            return data[h[4]:h[4] + h[5]]
    return b""


def fatbins(blob):
    """Yields, per fatbin, the set of (kind, arch) of its entries."""
    at = 0
    while at + 16 <= len(blob):
        magic, _version, header_size, files_size = struct.unpack_from("<IHHQ", blob, at)
        if magic != FATBIN_MAGIC:
            at += 8
            continue
        entries, pos, end = set(), at + header_size, at + header_size + files_size
        while pos + 32 <= end:
            kind, _unknown, entry_header, size = struct.unpack_from("<HHIQ", blob, pos)
            arch, = struct.unpack_from("<I", blob, pos + 28)
            if entry_header == 0:
                break
            entries.add((KINDS.get(kind, f"kind{kind}"), arch))
            pos += entry_header + size
        yield entries
        at = max(end, at + 8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--expect-ptx", default="", help="comma-separated architectures, e.g. 80")
    ap.add_argument("--expect-sass", default="", help="comma-separated architectures, e.g. 80,90")
    args = ap.parse_args()
    units = [e for e in fatbins(section(args.binary, ".nv_fatbin")) if e]
    if not units:
        sys.exit(f"{args.binary}: no device code (.nv_fatbin) found")
    counts = {}
    for entries in units:
        for e in entries:
            counts[e] = counts.get(e, 0) + 1
    for (kind, arch), n in sorted(counts.items()):
        print(f"{kind} {'compute' if kind == 'ptx' else 'sm'}_{arch}: {n} of {len(units)} translation units")
    missing = []
    for kind, wanted in (("ptx", args.expect_ptx), ("sass", args.expect_sass)):
        for arch in filter(None, wanted.split(",")):
            if counts.get((kind, int(arch)), 0) != len(units):
                missing.append(f"{kind} {arch}")
    if missing:
        print(f"{args.binary}: missing in some translation units: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
