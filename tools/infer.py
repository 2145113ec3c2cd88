"""Embed tracklet folders, or search a gallery of them.

Examples::

    # one feature per tracklet folder (a folder without images stands for
    # its tracklet sub-folders)
    python tools/infer.py embed CONFIG CHECKPOINT gallery/ --out feats.npz

    # build (and save) a gallery index, then query it
    python tools/infer.py search CONFIG CHECKPOINT query/0001C1T0001 \\
        --gallery gallery/ --save-index work_dirs/gallery --topk 5
    # reuse a saved index
    python tools/infer.py search CONFIG CHECKPOINT query/ \\
        --index work_dirs/gallery --topk 5
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np

import mmdcct  # noqa: F401  (allow-lists checkpoint types, quiet warnings)
from mmdcct.apis import (GalleryIndex, VideoReIDInferencer, find_tracklet_dirs,
                         format_search_results)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by the sub-commands."""
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--feature',
        choices=['base', 'spatial', 'final', 'all'],
        help="test feature (default: the config's model.test_cfg.feature)")
    parser.add_argument(
        '--device', default=None, help='e.g. cpu, cuda:0 (default: auto)')
    parser.add_argument(
        '--batch-size', type=int, default=8, help='tracklets per forward')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (``argv``: None reads ``sys.argv``)."""
    parser = argparse.ArgumentParser(
        description='Video Re-ID inference: embed tracklets, search a '
        'gallery')
    sub = parser.add_subparsers(dest='command', required=True)

    embed = sub.add_parser('embed', help='embed tracklet folders')
    add_common(embed)
    embed.add_argument(
        'tracklets',
        nargs='+',
        help='tracklet folders (folders of tracklet folders are expanded)')
    embed.add_argument(
        '--out', required=True, help='output .npz (features, paths)')

    search = sub.add_parser('search', help='search a gallery')
    add_common(search)
    search.add_argument(
        'queries',
        nargs='+',
        help='query tracklet folders (folders of tracklet folders are '
        'expanded)')
    group = search.add_mutually_exclusive_group(required=True)
    group.add_argument(
        '--gallery', nargs='+', help='gallery tracklet folders to index')
    group.add_argument(
        '--index', help='a saved index (<stem>, <stem>.npz or .json)')
    search.add_argument(
        '--save-index', help='save the built index as <stem>.npz/.json')
    search.add_argument('--topk', type=int, default=10, help='hits / query')
    search.add_argument(
        '--name-pattern',
        default=None,
        help='regex with groups pid and camid to parse gallery names '
        '(default: MARS / Market style)')
    return parser.parse_args(argv)


def build_inferencer(args: argparse.Namespace) -> VideoReIDInferencer:
    """The inferencer of the config / checkpoint / feature arguments."""
    return VideoReIDInferencer(
        args.config, args.checkpoint, device=args.device, feature=args.feature)


def cmd_embed(args: argparse.Namespace) -> int:
    """Embed tracklet folders into an ``.npz`` (``features``, ``paths``,
    ``feature``)."""
    inferencer = build_inferencer(args)
    dirs = find_tracklet_dirs(args.tracklets)
    feats = inferencer.extract(
        dirs, batch_size=args.batch_size, progress=not args.no_progress)
    out = args.out if args.out.endswith('.npz') else args.out + '.npz'
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    np.savez(
        out,
        features=feats,
        paths=np.array([osp.abspath(d) for d in dirs]),
        feature=np.array(inferencer.feature))
    print(f'{len(dirs)} tracklets, feature dim {feats.shape[1]} '
          f'({inferencer.feature}) -> {out}')
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Build (or load) a gallery index and print the hits of the queries."""
    inferencer = build_inferencer(args)
    progress = not args.no_progress
    if args.index:
        index = GalleryIndex.load(args.index)
        mode = index.info.get('feature')
        if mode is not None and mode != inferencer.feature:
            print(
                f'warning: the index holds {mode!r} features, the model '
                f'gives {inferencer.feature!r}',
                file=sys.stderr)
    else:
        kwargs = {}
        if args.name_pattern:
            kwargs['pattern'] = args.name_pattern
        index = GalleryIndex.from_folders(
            inferencer,
            args.gallery,
            batch_size=args.batch_size,
            progress=progress,
            **kwargs)
        if args.save_index:
            npz, js = index.save(args.save_index)
            print(f'saved the index of {len(index)} tracklets: {npz}, {js}')
    queries = find_tracklet_dirs(args.queries)
    hits = index.query(
        inferencer,
        queries,
        topk=args.topk,
        batch_size=args.batch_size,
        progress=progress)
    print(f'gallery: {len(index)} tracklets, cosine distance')
    print(format_search_results(hits, queries))
    return 0


def main(argv=None) -> int:
    """Run a sub-command; returns the exit status."""
    args = parse_args(argv)
    if args.command == 'embed':
        return cmd_embed(args)
    return cmd_search(args)


if __name__ == '__main__':
    sys.exit(main())
