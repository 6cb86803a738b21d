#!/usr/bin/env python3
"""Writes the image of one ihop store release to stdout, reading the store by hand.

Used by update.sh to check a clone without going through ihop itself (an independent
reader, so a bug shared by ihop's writer and reader cannot hide). Layout from
shared/spec/FORMATS.md section 5: the release file is
  magic "IHOP1\\0" | u64 n | StoreDictionary protobuf (n bytes) | BLAKE2b-512 of all before,
and chunk files live at <store>/chunks/<hex of hash bytes 0..1>/<hex of hash>.chunk.
Only the fields needed are decoded: source_order (4, packed uint32), chunk_descriptors
(5: checksum = 1, source_size = 2) and source_checksum (2), which the output is checked
against. Usage: store-cat.py STORE/RELEASE > image
"""
import hashlib
import os
import struct
import sys


def varint(buf, pos):
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def fields(buf):
    """(field number, value) for each field; value is an int or a bytes slice."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 2:
            length, pos = varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            sys.exit(f"store-cat: unsupported wire type {wire}")
        yield number, value


def main():
    release = sys.argv[1]
    root = os.path.dirname(os.path.abspath(release))
    data = open(release, "rb").read()
    if data[:6] != b"IHOP1\0":
        sys.exit(f"store-cat: {release}: not a store dictionary")
    (n,) = struct.unpack_from("<Q", data, 6)
    if 14 + n + 64 != len(data):
        sys.exit(f"store-cat: {release}: length {len(data)} does not match n = {n}")
    if hashlib.blake2b(data[:14 + n], digest_size=64).digest() != data[14 + n:]:
        sys.exit(f"store-cat: {release}: dictionary checksum mismatch")
    order, chunks, source_checksum = [], [], None
    for number, value in fields(data[14:14 + n]):
        if number == 2:
            source_checksum = bytes(value)
        elif number == 4:
            if isinstance(value, int):
                order.append(value)
            else:
                pos = 0
                while pos < len(value):
                    v, pos = varint(value, pos)
                    order.append(v)
        elif number == 5:
            checksum = dict(fields(value)).get(1, b"")
            chunks.append(bytes(checksum).hex())
    digest = hashlib.blake2b(digest_size=64)
    out = sys.stdout.buffer
    for index in order:
        name = chunks[index]
        with open(os.path.join(root, "chunks", name[:4], name + ".chunk"), "rb") as f:
            piece = f.read()
        digest.update(piece)
        out.write(piece)
    if source_checksum is not None and digest.digest() != source_checksum:
        sys.exit(f"store-cat: {release}: image checksum mismatch")


main()
