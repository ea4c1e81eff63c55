"""ZIPs that zipfile will not write by itself, for the hostile-input tests and the hostile corpus."""

from __future__ import annotations


def encrypted_flag(data: bytes, member: str) -> bytes:
    """Set the 'encrypted' flag of ``member`` in its local header and central directory entry (zipfile clears
    the flag when writing, so a test ZIP that says it is encrypted is made by hand)."""
    out = bytearray(data)
    name = member.encode()
    at = out.find(b"PK\x03\x04")
    while at >= 0:
        size = int.from_bytes(out[at + 26:at + 28], "little")
        if out[at + 30:at + 30 + size] == name:
            out[at + 6] |= 0x1
        at = out.find(b"PK\x03\x04", at + 4)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        size = int.from_bytes(out[at + 28:at + 30], "little")
        if out[at + 46:at + 46 + size] == name:
            out[at + 8] |= 0x1
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)
