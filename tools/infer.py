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
    # ... searched with FAISS (pip install 'mmdcct[faiss]'): exact inner
    # product, or an approximate IVF / HNSW index for large galleries
    python tools/infer.py search CONFIG CHECKPOINT query/ \\
        --index work_dirs/gallery --backend faiss --faiss-index ivf \\
        --nlist 1024 --nprobe 64

    # tracklets of your own video: a tracker's output in the MOTChallenge
    # format (frame, id, x, y, w, h, conf, ...; default: clip.txt beside
    # clip.mp4) -> a gallery index (work_dirs/clip.npz + .json) with the
    # track id and frame range of every tracklet
    python tools/infer.py embed CONFIG CHECKPOINT --video clip.mp4 \\
        --tracks tracks.txt --max-tracklet-len 64 --out work_dirs/clip

Folders: a folder of frames is one tracklet and a folder without frames
stands for its sub-folders, except that a MARS identity folder (frames named
``0001C1T0001F001.jpg``: identity, camera, tracklet, frame) is split into
its tracklets, named ``<folder>/C1T0001``; a folder mixing MARS names with
other names, or holding DukeMTMC-VideoReID frames (``0001_C6_F0017_X1.jpg``)
of several tracklets, is refused with the reason (exit status 2).

Feature mode: a saved index records the feature it holds. Without
``--feature``, ``search --index`` embeds the queries with that mode; an
explicit ``--feature`` that differs is an error naming both modes.

Cameras print as ``C1`` ..., 1-based as in the file names.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Optional

import numpy as np

from mmdcct.apis import (GalleryIndex, VideoReIDInferencer, find_tracklets,
                         find_tracks_file, format_search_results,
                         index_video_tracks, read_mot_tracks)
from mmdcct.apis.video_tracks import video_frame_size
from mmdcct.utils import (ignore_mmcv_lite_warning,
                          install_safe_checkpoint_loading)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by the sub-commands."""
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--feature',
        choices=['base', 'spatial', 'final', 'all'],
        help="test feature (default: the config's model.test_cfg.feature; "
        'for search --index, the feature the index records)')
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
        nargs='*',
        help='tracklet folders (folders of tracklet folders are expanded, '
        'MARS identity folders split into their tracklets)')
    embed.add_argument(
        '--out',
        required=True,
        help='output .npz (features, names, paths, pids, camids, feature); '
        'with --video, the gallery index <stem>.npz + <stem>.json')
    video = embed.add_argument_group(
        'video', 'embed the tracks of a video instead of folders')
    video.add_argument('--video', help='video file (read with OpenCV)')
    video.add_argument(
        '--tracks',
        help='tracks in the MOTChallenge text format (frame, id, x, y, w, '
        'h, conf, ...; 1-based frames); default: <video stem>.txt')
    video.add_argument(
        '--max-tracklet-len',
        type=int,
        default=64,
        help='frames per tracklet at most (longer tracks are cut)')
    video.add_argument(
        '--max-gap',
        type=int,
        default=0,
        help='missing frames a tracklet bridges (more cut the track)')
    video.add_argument(
        '--min-tracklet-len',
        type=int,
        default=1,
        help='shorter tracklets are dropped')
    video.add_argument(
        '--min-conf',
        type=float,
        default=None,
        help='drop boxes whose confidence (7th column) is lower')
    video.add_argument(
        '--crop-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='resize every crop to H x W (default: per tracklet, its '
        'median box)')

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
    search.add_argument(
        '--backend',
        choices=['exact', 'faiss'],
        default=None,
        help='search backend (default: the one a loaded index records, '
        'else exact); faiss needs pip install "mmdcct[faiss]"')
    search.add_argument(
        '--faiss-index',
        choices=['flat', 'ivf', 'hnsw'],
        default=None,
        help='FAISS index: flat (exact), ivf (IndexIVFFlat) or hnsw '
        '(default: the loaded index\'s, else flat)')
    search.add_argument('--nlist', type=int, help='IVF cells')
    search.add_argument('--nprobe', type=int, help='IVF cells scanned')
    search.add_argument('--hnsw-m', type=int, help='HNSW links per node')
    search.add_argument(
        '--ef-search', type=int, help='HNSW search candidate list')
    args, extra = parser.parse_known_args(argv)
    # an optional positional (nargs='*') takes nothing when options come
    # between it and the other positionals: collect the folders here
    if extra and args.command == 'embed' and not any(
            e.startswith('-') for e in extra):
        args.tracklets = list(args.tracklets) + extra
    elif extra:
        parser.error(f'unrecognized arguments: {" ".join(extra)}')
    return args


def build_inferencer(args: argparse.Namespace,
                     feature: Optional[str] = None) -> VideoReIDInferencer:
    """The inferencer of the config / checkpoint arguments, with
    ``feature`` (default: the ``--feature`` argument)."""
    return VideoReIDInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        feature=feature or args.feature)


def fail(message: str) -> int:
    """Print ``error: message`` to stderr; returns the exit status 2."""
    print(f'error: {message}', file=sys.stderr)
    return 2


def cmd_embed_video(args: argparse.Namespace) -> int:
    """Embed the tracklets of ``--video`` / ``--tracks`` into a gallery
    index saved as ``--out`` (``<stem>.npz`` + ``<stem>.json``)."""
    if args.tracklets:
        return fail('give tracklet folders or --video, not both')
    try:
        tracks = args.tracks or find_tracks_file(args.video)
        read = read_mot_tracks(tracks, args.min_conf)
        video_frame_size(args.video)  # an unreadable video fails here
    except (ValueError, FileNotFoundError) as e:
        return fail(str(e))
    inferencer = build_inferencer(args)
    try:
        index, stats = index_video_tracks(
            inferencer,
            args.video,
            read,
            max_tracklet_len=args.max_tracklet_len,
            max_gap=args.max_gap,
            min_len=args.min_tracklet_len,
            crop_size=args.crop_size,
            batch_size=args.batch_size,
            progress=not args.no_progress)
    except ValueError as e:
        return fail(str(e))
    index.info['tracks'] = osp.abspath(tracks)
    npz, js = index.save(args.out)
    print(f'{stats["tracks"]} tracks, {stats["boxes"]} boxes '
          f'({stats["clipped"]} clipped to the frame; skipped: '
          f'{stats["skipped_outside"]} outside the frame, '
          f'{stats["skipped_empty"]} of zero area, '
          f'{stats["beyond_video"]} after the end of the video)')
    print(f'{stats["tracklets"]} tracklets (at most '
          f'{args.max_tracklet_len} frames, {stats["dropped_short"]} '
          f'shorter than {args.min_tracklet_len} dropped), feature dim '
          f'{index.feature_dim} ({inferencer.feature}) -> {npz}, {js}')
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    """Embed tracklet folders into an ``.npz`` (``features``, ``names``,
    ``paths``, ``pids``, ``camids`` (1-based, -1 when unknown),
    ``feature``)."""
    if args.video:
        return cmd_embed_video(args)
    if args.tracks:
        return fail('--tracks needs --video')
    if not args.tracklets:
        return fail('give tracklet folders, or --video (and --tracks)')
    try:
        tracklets = find_tracklets(args.tracklets)
    except (ValueError, FileNotFoundError) as e:
        return fail(str(e))
    inferencer = build_inferencer(args)
    feats = inferencer.extract([t['frames'] for t in tracklets],
                               batch_size=args.batch_size,
                               progress=not args.no_progress)
    out = args.out if args.out.endswith('.npz') else args.out + '.npz'
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)

    def ids(key):
        return np.array([-1 if t[key] is None else t[key] for t in tracklets],
                        dtype=np.int64)

    np.savez(
        out,
        features=feats,
        names=np.array([t['name'] for t in tracklets]),
        paths=np.array([osp.abspath(t['path']) for t in tracklets]),
        pids=ids('pid'),
        camids=ids('camid'),
        feature=np.array(inferencer.feature))
    num_split = len({t['path'] for t in tracklets if t['label']})
    split = (f' ({num_split} identity folders split into tracklets)'
             if num_split else '')
    print(f'{len(tracklets)} tracklets{split}, feature dim {feats.shape[1]} '
          f'({inferencer.feature}) -> {out}')
    return 0


def set_search_backend(index: GalleryIndex,
                       args: argparse.Namespace) -> None:
    """Apply ``--backend`` / ``--faiss-index`` and their parameters (a
    loaded index keeps its recorded backend unless they say otherwise)."""
    if args.faiss_index and args.backend != 'faiss':
        raise ValueError('--faiss-index needs --backend faiss')
    if args.backend == 'exact':
        backend = 'exact'
    elif args.faiss_index:
        backend = f'faiss-{args.faiss_index}'
    elif args.backend == 'faiss' and not index.backend.startswith('faiss'):
        backend = 'faiss-flat'
    else:
        backend = index.backend
    flags = dict(nlist='--nlist', nprobe='--nprobe', m='--hnsw-m',
                 ef_search='--ef-search')
    given = {
        key: getattr(args, flag[2:].replace('-', '_'))
        for key, flag in flags.items()
        if getattr(args, flag[2:].replace('-', '_')) is not None
    }
    allowed = {'faiss-ivf': ('nlist', 'nprobe'),
               'faiss-hnsw': ('m', 'ef_search')}.get(backend, ())
    wrong = [flags[k] for k in given if k not in allowed]
    if wrong:
        raise ValueError(f'{" / ".join(wrong)} does not apply to the '
                         f'{backend!r} search backend (--backend faiss '
                         '--faiss-index ivf takes --nlist / --nprobe, hnsw '
                         'takes --hnsw-m / --ef-search)')
    if backend != index.backend or given:
        index.set_backend(backend, **given)


def cmd_search(args: argparse.Namespace) -> int:
    """Build (or load) a gallery index and print the hits of the queries."""
    progress = not args.no_progress
    try:
        queries = find_tracklets(args.queries)
    except (ValueError, FileNotFoundError) as e:
        return fail(str(e))
    feature = args.feature
    if args.index:
        try:
            index = GalleryIndex.load(
                args.index,
                backend='exact' if args.backend == 'exact' else None)
        except ImportError as e:
            return fail(f'{e} (the index {args.index!r} records a FAISS '
                        'search backend; --backend exact searches it '
                        'without FAISS)')
        recorded = index.info.get('feature')
        if recorded and feature and feature != recorded:
            return fail(
                f'the index {args.index!r} holds {recorded!r} features but '
                f'--feature {feature} was given: distances between the two '
                f'mean nothing. Leave --feature out (the queries are then '
                f'embedded with {recorded!r}) or pass --feature {recorded}, '
                f'or rebuild the index with --feature {feature}.')
        if recorded and not feature:
            feature = recorded
            print(f'feature mode {recorded!r} (recorded in the index)')
        try:
            set_search_backend(index, args)
        except (ValueError, ImportError) as e:
            return fail(str(e))
        try:
            inferencer = build_inferencer(args, feature)
        except ValueError as e:
            if feature != recorded:
                raise
            return fail(f'the index {args.index!r} holds {recorded!r} '
                        f'features, which this model cannot produce: {e}')
    else:
        inferencer = build_inferencer(args, feature)
        kwargs = {}
        if args.name_pattern:
            kwargs['pattern'] = args.name_pattern
        try:
            index = GalleryIndex.from_folders(
                inferencer,
                args.gallery,
                batch_size=args.batch_size,
                progress=progress,
                **kwargs)
        except (ValueError, FileNotFoundError) as e:
            return fail(str(e))
        try:
            set_search_backend(index, args)
        except (ValueError, ImportError) as e:
            return fail(str(e))
        if args.save_index:
            npz, js = index.save(args.save_index)
            print(f'saved the index of {len(index)} tracklets: {npz}, {js}')
    feats = inferencer.extract([q['frames'] for q in queries],
                               batch_size=args.batch_size,
                               progress=progress)
    try:  # an index without a recorded mode: the widths tell
        hits = index.lookup(*index.search(feats, args.topk))
    except ValueError as e:
        return fail(str(e))
    backend = index.search_backend
    params = ', '.join(f'{k}={v}' for k, v in backend.items()
                       if k != 'type')
    print(f'gallery: {len(index)} tracklets, cosine distance, '
          f'{backend["type"]} search' + (f' ({params})' if params else ''))
    print(format_search_results(hits, [q['name'] for q in queries]))
    return 0


def main(argv=None) -> int:
    """Run a sub-command; returns the exit status."""
    install_safe_checkpoint_loading()  # checkpoints load weights-only
    ignore_mmcv_lite_warning()
    args = parse_args(argv)
    if args.command == 'embed':
        return cmd_embed(args)
    return cmd_search(args)


if __name__ == '__main__':
    sys.exit(main())
