"""Reading and writing files below the landing root, local or ``s3://``."""

from __future__ import annotations

import posixpath

from pyarrow import fs

from medallion.storage import filesystem


class LandingStore:
    """Files addressed by their path relative to the landing root."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self._fs, self._base = filesystem(self.root)

    def uri(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def _path(self, relative: str) -> str:
        return f"{self._base.rstrip('/')}/{relative}"

    def write(self, relative: str, data: bytes) -> None:
        path = self._path(relative)
        if isinstance(self._fs, fs.LocalFileSystem):  # object stores need no folders
            self._fs.create_dir(posixpath.dirname(path), recursive=True)
        with self._fs.open_output_stream(path) as out:
            out.write(data)

    def read(self, relative: str) -> bytes | None:
        """The file's bytes, or ``None`` when it does not exist."""
        path = self._path(relative)
        if self._fs.get_file_info(path).type == fs.FileType.NotFound:
            return None
        with self._fs.open_input_stream(path) as source:
            return bytes(source.read())
