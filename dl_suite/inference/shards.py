"""`--shard I/N`: split one inference job over N independent processes (e.g. a SLURM job array).

Shard I of N (1-based, 1 <= I <= N) takes the inputs at positions I-1, I-1+N, I-1+2N, ... of
the sorted input list; the N shards together take every input exactly once. Output names are
decided from the whole list (so two inputs that would share a name get the same distinct
names in every shard), and each shard writes its own report file, so no two shards ever write
the same file.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from dl_suite.errors import UserError

_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_HOW = ("Use --shard I/N with 1 <= I <= N, e.g. --shard 2/8 for the second of 8 shards "
        "(SLURM: --array=1-8 and --shard ${SLURM_ARRAY_TASK_ID}/8).")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    def select(self, paths, groups=None):
        """The inputs of this shard, in their order.

        Args:
            paths: the whole, sorted input list.
            groups: optional lists of paths that must stay together (the frames of one video):
                every N-th group is taken instead of every N-th path.

        Returns:
            list of Path.
        """
        paths = [Path(p) for p in paths]
        if groups is None:
            return paths[self.index - 1::self.count]
        mine = {Path(p) for group in list(groups)[self.index - 1::self.count] for p in group}
        return [p for p in paths if p in mine]

    def report_name(self, name):
        """`inference_report.json` -> `inference_report_shard-2-of-8.json`."""
        stem, dot, suffix = name.rpartition(".")
        return f"{stem}_shard-{self.index}-of-{self.count}{dot}{suffix}"

    def __str__(self):
        return f"{self.index}/{self.count}"


def parse_shard(text):
    """`"2/8"` -> Shard(2, 8); None -> None.

    Raises:
        UserError: not of the form I/N with 1 <= I <= N.
    """
    if text is None:
        return None
    match = _PATTERN.match(str(text))
    if not match:
        raise UserError(f"Received --shard '{text}', expected I/N. {_HOW}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise UserError(f"Received --shard '{text}': the number of shards must be at least 1. {_HOW}")
    if not 1 <= index <= count:
        first = " (shards are numbered from 1)" if index == 0 else ""
        raise UserError(f"Received --shard '{text}': shard {index} does not exist{first}. {_HOW}")
    return Shard(index, count)
