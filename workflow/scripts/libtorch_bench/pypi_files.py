"""What a package index says about a project's files (PEP 691 JSON), and the members of a
remote wheel read without downloading it: its METADATA and its list of files.

Not every file on PyPI has a PEP 658 `.metadata` beside it (among the torch wheels of our table
2.2.2, 2.12.1, 2.14.1 and 2.15.0 have none), so the wheel itself is read, through HTTP range
requests: zipfile then fetches the central directory and the members asked for, a few MB of a
wheel of up to 1 GB."""

import io
import zipfile

from packaging.metadata import parse_email
from packaging.utils import canonicalize_name

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
TIMEOUT_S = 120


def project_files(session, index_url, package):
    """The index's file entries of one project: filename, url, hashes, size, yanked, ..."""
    url = f"{index_url.rstrip('/')}/{canonicalize_name(package)}/"
    response = session.get(url, headers={"Accept": SIMPLE_JSON}, timeout=TIMEOUT_S)
    response.raise_for_status()
    return response.json()["files"]


class RangeFile(io.RawIOBase):
    """A remote file of known size, readable and seekable through HTTP range requests."""

    def __init__(self, session, url, size):
        self.session, self.url, self.size, self.pos = session, url, size, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def readinto(self, buffer):
        end = min(self.pos + len(buffer), self.size)
        if end <= self.pos:
            return 0
        headers = {"Range": f"bytes={self.pos}-{end - 1}"}
        response = self.session.get(self.url, headers=headers, timeout=TIMEOUT_S)
        response.raise_for_status()
        if response.status_code != 206:  # a server that ignores Range would send the whole wheel
            raise OSError(f"{self.url}: the server does not answer range requests (HTTP {response.status_code})")
        data = response.content
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


def open_remote_wheel(session, file_entry):
    """A zipfile over the index entry's URL; reading a member fetches only that member."""
    raw = RangeFile(session, file_entry["url"], file_entry["size"])
    return zipfile.ZipFile(io.BufferedReader(raw, buffer_size=1 << 16))


def requires_dist(wheel):
    """The Requires-Dist lines of an open wheel's METADATA, verbatim (markers included)."""
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
    raw, _ = parse_email(wheel.read(name))
    return raw.get("requires_dist", [])
