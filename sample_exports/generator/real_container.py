"""The `.xls` compound-file container of real vendor exports, rebuilt around an xlwt BIFF8 stream.

What real "corrupt" `.xls` exports look like (docs/real_exports.md R1: "xlrd refuses it unless tolerant;
calamine reads it"): xlrd stops with `CompDocError: Workbook corruption: seen[n] == 4`. The same message
is reported for files written by the PHP OLE writer of PHPExcel / PhpSpreadsheet (the PEAR `OLE_PPS_Root`
port that many web applications, vnEdu-style exports included, use to serve `.xls`). Reading that writer
(`_saveBbd`) shows the defect: it writes the sector allocation table (SAT) of every big-block stream as
**one single chain** — the root entry's mini-stream container (which holds the small
`SummaryInformation` / `DocumentSummaryInformation` streams) is not terminated but runs on into the
`Workbook` stream, which ends the chain. The directory entries are right (each stream's first sector
and size), so a reader that follows a stream by its directory entry and size (calamine, fastexcel,
Excel, LibreOffice) reads the workbook; xlrd first walks the whole mini-stream container chain, marks
the workbook's sectors as "short-stream container" (`seen == 4`) and then refuses the `Workbook`
stream that starts in one of them, unless `ignore_workbook_corruption=True`.

`phpexcel_container` reproduces exactly that: it takes the `Workbook` stream of a valid xlwt file and
writes a new compound file laid out like PHPExcel's (SSAT, mini-stream container, Workbook, directory,
SAT) with the single unterminated big-block chain. Nothing else is altered: the BIFF records are
xlwt's, byte for byte. (`writers.corrupt_xls_container`, used by the `xls_corrupt` quirk, gets the same
xlrd error more crudely, by pointing the root entry at the Workbook's first sector.)
"""

from __future__ import annotations

import struct

SECTOR = 512
MINI = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_HEADER_DIFAT = 109
_SIG = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# FMTIDs of the two summary property sets (GUIDs in their on-disk byte order)
_FMTID_SUMMARY = bytes.fromhex("e0859ff2f94f6810ab9108002b27b3d9")
_FMTID_DOCSUMMARY = bytes.fromhex("02d5cdd59c2e1b10939708002b2cf9ae")


def workbook_stream(xls: bytes) -> bytes:
    """The `Workbook` stream of a valid compound file (directory entry, SAT chain and size followed)."""
    if xls[:8] != _SIG:
        raise ValueError("not an OLE2 compound file")
    shift = struct.unpack_from("<H", xls, 30)[0]
    size = 1 << shift
    n_sat = struct.unpack_from("<I", xls, 44)[0]
    dir_first = struct.unpack_from("<I", xls, 48)[0]
    difat = struct.unpack_from("<109I", xls, 76)
    sat: list[int] = []
    for sid in difat[:n_sat]:
        off = 512 + sid * size
        sat.extend(struct.unpack_from(f"<{size // 4}I", xls, off))

    def chain(first: int) -> list[int]:
        out = []
        s = first
        while s < FATSECT and len(out) <= len(sat):
            out.append(s)
            s = sat[s]
        return out

    directory = b"".join(xls[512 + s * size : 512 + (s + 1) * size] for s in chain(dir_first))
    for k in range(len(directory) // 128):
        e = directory[128 * k : 128 * (k + 1)]
        nlen = struct.unpack_from("<H", e, 64)[0]
        name = e[: max(0, nlen - 2)].decode("utf-16-le", "replace")
        if name == "Workbook" and e[66] == 2:
            first, length = struct.unpack_from("<II", e, 116)
            data = b"".join(xls[512 + s * size : 512 + (s + 1) * size] for s in chain(first))
            return data[:length]
    raise ValueError("no Workbook stream")


def _property_set(fmtid: bytes, codepage: int = 1200) -> bytes:
    """A minimal property-set stream: one section holding PID_CODEPAGE (VT_I2)."""
    prop = struct.pack("<HHhH", 0x0002, 0, codepage, 0)  # VT_I2, padding, value, padding
    section = struct.pack("<II", 8 + 8 + len(prop), 1) + struct.pack("<II", 1, 16) + prop
    head = struct.pack("<HHI", 0xFFFE, 0, 0x00020006) + b"\x00" * 16 + struct.pack("<I", 1)
    head += fmtid + struct.pack("<I", len(head) + 20)
    return head + section


def _dir_entry(name: str, etype: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00"
    entry = raw.ljust(64, b"\x00")
    entry += struct.pack("<HBB", len(raw) if name else 0, etype, 1)  # colour: black
    entry += struct.pack("<III", left, right, child)
    entry += b"\x00" * 16 + struct.pack("<I", 0) + b"\x00" * 16  # CLSID, state bits, times
    entry += struct.pack("<III", start, size, 0)
    assert len(entry) == 128
    return entry


def phpexcel_container(workbook: bytes, defect: bool = True) -> bytes:
    """A compound file holding `workbook` laid out like PHPExcel's OLE writer, with its SAT defect.

    Sectors, in file order: the SSAT, the mini-stream container (two summary streams), the `Workbook`
    stream (padded to a 4096-byte boundary, as xlwt does), the directory, the SAT. The SAT chains the
    mini-stream container and the Workbook as one chain (the defect); every other chain is correct.
    `defect=False` terminates the container's chain: the same file, valid (xlrd reads it).
    """
    wb = workbook + b"\x00" * (-len(workbook) % 0x1000)
    if len(wb) < MINI_CUTOFF:
        wb += b"\x00" * (MINI_CUTOFF - len(wb))
    small = [
        ("\x05SummaryInformation", _property_set(_FMTID_SUMMARY)),
        ("\x05DocumentSummaryInformation", _property_set(_FMTID_DOCSUMMARY)),
    ]
    # mini stream: each small stream in whole 64-byte mini sectors
    mini_data = b""
    ssat: list[int] = []
    mini_start: list[int] = []
    for _name, data in small:
        n = -(-len(data) // MINI)
        first = len(ssat)
        mini_start.append(first)
        ssat += [first + k + 1 for k in range(n - 1)] + [ENDOFCHAIN]
        mini_data += data + b"\x00" * (n * MINI - len(data))
    n_ssat = -(-len(ssat) // (SECTOR // 4))
    n_container = -(-len(mini_data) // SECTOR)
    n_wb = len(wb) // SECTOR
    entries = [
        # root → child 2 (SummaryInformation), whose left is Workbook (shorter name) and right the longer one
        ("Root Entry", 5, NOSTREAM, NOSTREAM, 2),
        ("Workbook", 2, NOSTREAM, NOSTREAM, NOSTREAM),
        (small[0][0], 2, 1, 3, NOSTREAM),
        (small[1][0], 2, NOSTREAM, NOSTREAM, NOSTREAM),
    ]
    n_dir = -(-len(entries) // (SECTOR // 128))
    used = n_ssat + n_container + n_wb + n_dir
    n_sat = 1
    while n_sat * (SECTOR // 4) < used + n_sat:
        n_sat += 1
    if n_sat > _HEADER_DIFAT:
        raise ValueError("workbook too large for a header-only DIFAT (about 7 MB)")
    first_container = n_ssat
    first_wb = first_container + n_container
    first_dir = first_wb + n_wb
    first_sat = first_dir + n_dir
    sat = [FREESECT] * (n_sat * (SECTOR // 4))
    for k in range(n_ssat):
        sat[k] = k + 1 if k < n_ssat - 1 else ENDOFCHAIN
    # the defect: container and Workbook as one chain, terminated only after the Workbook's last sector
    for s in range(first_container, first_dir):
        sat[s] = s + 1 if s < first_dir - 1 else ENDOFCHAIN
    if not defect:
        sat[first_wb - 1] = ENDOFCHAIN
    for s in range(first_dir, first_sat):
        sat[s] = s + 1 if s < first_sat - 1 else ENDOFCHAIN
    for s in range(first_sat, first_sat + n_sat):
        sat[s] = FATSECT
    starts = {
        "Root Entry": (first_container, len(mini_data)),
        "Workbook": (first_wb, len(wb)),
        small[0][0]: (mini_start[0], len(small[0][1])),
        small[1][0]: (mini_start[1], len(small[1][1])),
    }
    directory = b"".join(
        _dir_entry(name, etype, left, right, child, *starts[name])
        for name, etype, left, right, child in entries
    )
    directory += b"\x00" * (n_dir * SECTOR - len(directory))
    difat = [first_sat + k for k in range(n_sat)] + [FREESECT] * (_HEADER_DIFAT - n_sat)
    header = _SIG + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3B, 3, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack("<IIIIIIIII", 0, n_sat, first_dir, 0, MINI_CUTOFF, 0, n_ssat, ENDOFCHAIN, 0)
    header += struct.pack(f"<{_HEADER_DIFAT}I", *difat)
    assert len(header) == 512
    ssat_bytes = struct.pack(f"<{len(ssat)}I", *ssat)
    ssat_bytes += struct.pack("<I", FREESECT) * (n_ssat * (SECTOR // 4) - len(ssat))
    container = mini_data + b"\x00" * (n_container * SECTOR - len(mini_data))
    body = ssat_bytes + container + wb + directory + struct.pack(f"<{len(sat)}I", *sat)
    return header + body
