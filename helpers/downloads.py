"""Downloads of original files into Keras' own folders: the mirror first, then the published checksum.

One home for what the data sets (``helpers.data``) and the ImageNet weights
(``helpers.transfer``) share: where Keras keeps its files, which address a file
comes from (``IMGCLS_MIRROR`` or the original site), a quick offline check, and
``keras.utils.get_file`` with the checksum unless tests switch it off.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

from helpers import settings


def keras_dir() -> Path:
    """Keras' home folder: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when home is not writable, as Keras)."""
    home = settings.keras_home()
    if home is not None:
        return home
    base = Path.home()
    return (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"


def origin(fname: str, original_base: str) -> str:
    """The address of ``fname``: under ``IMGCLS_MIRROR`` when it is set, else under the original site."""
    return (settings.mirror_url() or original_base) + fname


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the host of ``url`` can be opened (a quick offline check)."""
    parts = urlsplit(url if "//" in url else f"https://{url}/")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def fetch(url: str, fname: str, *, checksum: str, subdir: str, extract_to: str | None = None) -> Path:
    """Download ``url`` into ``keras_dir()/subdir`` with Keras' own ``get_file``, checking the published hash.

    Args:
        url: Where the file is (see :func:`origin`).
        fname: Its name on disk.
        checksum: Published SHA-256 or MD5; skipped only when ``IMGCLS_UNVERIFIED_DOWNLOADS`` is set.
        subdir: Folder under Keras' home (``datasets/svhn``, ``models``).
        extract_to: Unpack an archive into this folder of ``subdir`` instead (Keras' name for it).

    Returns:
        The file, or the unpacked folder.

    Raises:
        ConnectionError: When the host cannot be reached.
    """
    import keras

    if not reachable(url):
        raise ConnectionError(f"{url} cannot be reached (no internet, or IMGCLS_MIRROR is down?)")
    home = keras_dir()
    home.mkdir(parents=True, exist_ok=True)  # else Keras falls back to /tmp/.keras
    file_hash = checksum if settings.verify_download_checksums() else None
    got = keras.utils.get_file(
        extract_to or fname,
        url,
        file_hash=file_hash,
        extract=extract_to is not None,
        cache_subdir=subdir,
        cache_dir=str(home),
    )
    return Path(got)
