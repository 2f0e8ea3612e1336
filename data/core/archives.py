"""Archives from the internet, extracted as if hostile: every member is checked before a byte of
it is written (no absolute path, no `..`, no link or device, a bounded total), into a folder that
is renamed into place at the end and removed if anything is refused."""
from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import Callable

MB = 1024 ** 2


class Refused(Exception):
    """A download or archive that is not what was expected: nothing of it is kept."""


def check_member(m: tarfile.TarInfo) -> None:
    """Refuse a member that could write outside the folder or is anything but a file or folder."""
    parts = Path(m.name).parts
    if m.name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
        raise Refused(f"the archive holds an unsafe path ({m.name})")
    if not (m.isfile() or m.isdir()):
        raise Refused(f"the archive holds a link or special file ({m.name})")


def extract(archive: Path, dest: Path, keep: Callable[[str], str | None], max_total: int) -> int:
    """The members `keep` maps to a path (None: skipped) extracted into dest.part, then renamed to
    dest (replacing it). Returns how many files were extracted."""
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    total = n = 0
    try:
        with tarfile.open(archive, "r:*") as tf:
            for m in tf:
                check_member(m)
                rel = keep(m.name) if m.isfile() else None
                if rel is None:
                    continue
                total += m.size
                if total > max_total:
                    raise Refused(f"the archive unpacks to more than {max_total / MB:,.0f} MB")
                target = tmp / rel
                if not target.resolve().is_relative_to(tmp.resolve()):
                    raise Refused(f"the archive holds an unsafe path ({m.name})")
                target.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(m) as f, open(target, "wb") as out:
                    shutil.copyfileobj(f, out)
                n += 1
        if not n:
            raise Refused(f"{archive.name} holds none of the expected files")
        shutil.rmtree(dest, ignore_errors=True)
        tmp.replace(dest)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise Refused(f"{archive.name} is not a readable archive ({e})") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return n
