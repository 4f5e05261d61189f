#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
The module's layering, checked on its objects: every file may reference
(call, or take the address of) functions and data of the files on lower
floors only, never of its own floor or above.  A file's own header (X.h
for X.c) counts as that file: including it from the same floor or above
is a reference too, so a file's static inline functions count as its
own (a header's inline that called up would still be charged to the
file that includes it, so keep headers' inlines to their own file's
data).  Every local header is on a floor, or listed as floorless.  Documentation/block/
nvme-ring-io.rst, "Code layout", explains the floors.

usage: scripts/layers.py DIR    (the built module's drivers/block/nvme_ring_io)
"""
import os
import re
import subprocess
import sys

# Floor of each file, top first; a file's objects may use lower floors.
FLOORS = [
    ["main"],                           # module init and exit
    ["nvme_dev", "unified"],            # one file per device node
    ["file"],                           # the file operations both share
    ["uring"],                          # io_uring commands
    ["submit"],                         # SUBMIT's frame
    ["setup", "resume"],                # shared SETUP; restart records
    ["chain"],                          # chains and read-next hops
    ["io", "bpf", "net"],               # the engines
    ["direct"],                         # NVMe: direct mode
    ["inflight"],                       # NVMe: one descriptor in flight
    ["ring"],                           # SQ/CQ operations
    ["wait"],                           # CQ waiters and their wake-up
    ["ctx"],                            # context lifetime
    ["region", "ns"],                   # memory; the bound namespace
]


# Headers of no file: definitions every floor may use.  Their inlines
# wrap kernel APIs only; they call nothing of the module's.
FLOORLESS = ["compat", "nvme_req"]


def symbols(obj, defined):
    args = ["nm", "--defined-only" if defined else "--undefined-only", obj]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        f = line.split()
        if defined and len(f) == 3 and f[1] in "TDBRtdbr" and f[1].isupper():
            yield f[2]
        elif not defined and len(f) == 2 and f[0] == "U":
            yield f[1]


def main():
    d = sys.argv[1]
    floor = {}
    for i, files in enumerate(FLOORS):
        for f in files:
            floor[f] = i
    objs = sorted(f[:-2] for f in os.listdir(d)
                  if f.endswith(".o") and f[:-2] in floor)
    missing = sorted(set(o for o in floor if not os.path.exists(
        os.path.join(d, o + ".c"))))
    srcs = sorted(f[:-2] for f in os.listdir(d)
                  if f.endswith(".c") and not f.endswith(".mod.c"))
    unknown = [s for s in srcs if s not in floor]
    owner = {}
    for o in objs:
        for s in symbols(os.path.join(d, o + ".o"), True):
            owner[s] = o
    bad = []
    for o in objs:
        for s in symbols(os.path.join(d, o + ".o"), False):
            t = owner.get(s)
            if t and t != o and floor[t] <= floor[o]:
                bad.append(f"{o}.c uses {s} of {t}.c (floor {floor[t]} "
                           f"is not below {floor[o]})")
    srcs_h = [(o, o + ".c") for o in objs] + \
        [(h, h + ".h") for h in floor
         if os.path.exists(os.path.join(d, h + ".h"))]
    for o, name in srcs_h:
        with open(os.path.join(d, name)) as src:
            for line in src:
                m = re.match(r'\s*#\s*include\s*"(?:\./)?([^"/]+)\.h"',
                             line)
                t = m.group(1) if m else None
                if t and t not in floor and t not in FLOORLESS:
                    bad.append(f"{name} includes {t}.h, which is on no "
                               "floor: add it to scripts/layers.py")
                if t in floor and t != o and floor[t] <= floor[o]:
                    bad.append(f"{name} includes {t}.h (floor {floor[t]} "
                               f"is not below {floor[o]})")
    for f in floor:
        if os.path.exists(os.path.join(d, f + ".c")) and f not in objs:
            bad.append(f"{f}.c was not built: is it in the Makefile?")
    for u in unknown:
        bad.append(f"{u}.c is on no floor: add it to scripts/layers.py")
    for m in missing:
        bad.append(f"{m}.c is listed but does not exist")
    for b in bad:
        print("layers: " + b)
    if not bad:
        print(f"layers: {len(objs)} files, every reference goes down")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
