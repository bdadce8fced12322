"""Reclaim the libtorch cache: remove every cached release the given configs do not name (and
the wheels/ downloads folder), and say how much that frees.

    python -m libtorch_bench.cache [--config config/config.yaml ...] [--dry-run]

Configs are layered as Snakemake layers them (a later file's libtorch.versions wins)."""

import argparse
import shutil
from pathlib import Path

import yaml

from .provision import cache_root


def configured(config_files):
    versions, cache_dir = ["1.8.1", "installed"], ""
    for path in config_files:
        libtorch = (yaml.safe_load(Path(path).read_text()) or {}).get("libtorch", {})
        versions = libtorch.get("versions", versions)
        cache_dir = libtorch.get("cache_dir", cache_dir)
    return versions, cache_root(cache_dir)


def size_of(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink())


def reclaim(root, keep, dry_run=False):
    """(path, bytes) of everything removed (or that would be)."""
    gone = [p for p in sorted((root / "libtorch").glob("*")) if p.is_dir() and p.name not in keep]
    gone += [p for p in [root / "wheels"] if p.is_dir()]
    freed = [(p, size_of(p)) for p in gone]
    if not dry_run:
        for p in gone:
            shutil.rmtree(p)
    return freed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", default=None, help="config file(s), layered in order")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    versions, root = configured(args.config or ["config/config.yaml"])
    freed = reclaim(root, set(versions), args.dry_run)
    for path, size in freed:
        print(f"{'would remove' if args.dry_run else 'removed'} {path} ({size / 1e9:.2f} GB)")
    print(
        f"{sum(s for _, s in freed) / 1e9:.2f} GB {'to free' if args.dry_run else 'freed'} in {root}; kept: "
        f"{', '.join(v for v in versions if v != 'installed') or 'nothing'}"
    )


if __name__ == "__main__":
    main()
