#!/usr/bin/env python3
"""Write the dictionary's training samples: one file per package, its names sorted and
front-coded the way a stored name table's bytes are (docs/FORMAT.md, field 10c: each name
without the bytes it shares with the previous one, then a NUL).

usage: samples.py OUTDIR JAVA_NAMES.txt GO_NAMES.txt   (one function name a line)
"""
import os
import sys


def package(name, java):
    """Java 'java/util/HashMap.get' -> 'java/util'; Go 'net/http.(*conn).serve' ->
    'net/http' (a Go name without a dot, like an assembly routine, is its own group)."""
    slash = name.rfind('/')
    if java:
        return name[:max(slash, 0)]
    dot = name.find('.', slash + 1)
    return name if dot < 0 else name[:dot]


def main():
    outdir, java_names, go_names = sys.argv[1:4]
    groups = {}
    for path in (java_names, go_names):
        with open(path, 'rb') as f:
            for line in f.read().decode('utf-8').splitlines():
                if line:
                    groups.setdefault(package(line, path == java_names), set()).add(line.encode('utf-8'))
    os.makedirs(outdir, exist_ok=True)
    for i, pkg in enumerate(sorted(groups)):
        out, prev = bytearray(), b''
        for name in sorted(groups[pkg]):
            shared = 0
            while shared < min(len(prev), len(name)) and prev[shared] == name[shared]:
                shared += 1
            out += name[shared:] + b'\0'
            prev = name
        with open(os.path.join(outdir, '%05d' % i), 'wb') as f:
            f.write(out)


main()
