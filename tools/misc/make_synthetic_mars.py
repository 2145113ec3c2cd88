"""Write a small synthetic video Re-ID dataset with the exact MARS layout.

Example::

    python tools/misc/make_synthetic_mars.py data/demo/MARS
    python tools/misc/make_synthetic_mars.py data/tiny/MARS \
        --num-train-ids 8 --num-test-ids 8 --height 64 --width 32

The folder can then be used as the ``data_root`` of ``MARS``. A progress
bar (one step per tracklet) goes to stderr when it is a terminal
(``--no-progress`` turns it off); the summary goes to stdout as JSON.
"""
import argparse
import json

from mmdcct.testing import make_synthetic_mars


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (``argv``: None reads ``sys.argv``).

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(
        description='Generate a synthetic dataset in the MARS layout.')
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/demo/MARS',
        help='output folder, used as data_root (default: data/demo/MARS)')
    parser.add_argument('--num-train-ids', type=int, default=60)
    parser.add_argument('--num-test-ids', type=int, default=60)
    parser.add_argument('--num-cams', type=int, default=6)
    parser.add_argument(
        '--cams-per-id',
        type=int,
        nargs=2,
        default=(2, 4),
        metavar=('MIN', 'MAX'))
    parser.add_argument(
        '--tracklets-per-cam',
        type=int,
        nargs=2,
        default=(1, 3),
        metavar=('MIN', 'MAX'))
    parser.add_argument(
        '--tracklet-len',
        type=int,
        nargs=2,
        default=(4, 40),
        metavar=('MIN', 'MAX'),
        help='min and max tracklet length')
    parser.add_argument('--occlusion-prob', type=float, default=0.15)
    parser.add_argument('--junk-ratio', type=float, default=0.07)
    parser.add_argument('--distractor-ratio', type=float, default=0.2)
    parser.add_argument('--query-only-ratio', type=float, default=0.05)
    parser.add_argument('--height', type=int, default=128)
    parser.add_argument('--width', type=int, default=64)
    parser.add_argument('--jpeg-quality', type=int, default=90)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing dataset in OUT_DIR')
    parser.add_argument(
        '--no-progress',
        action='store_true',
        help='no progress bar (default: shown when stderr is a terminal)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Generate the dataset and print its summary."""
    args = parse_args(argv)
    try:
        summary = _generate(args)
    except FileExistsError as e:
        raise SystemExit(f'error: {e}')
    brief = {k: v for k, v in summary.items() if not isinstance(v, list)}
    brief['time_s'] = round(brief['time_s'], 2)
    print(json.dumps(brief, indent=2))


def _generate(args: argparse.Namespace) -> dict:
    """Call :func:`make_synthetic_mars` with the parsed arguments.

    Args:
        args (argparse.Namespace): The command line.

    Returns:
        dict: The summary of the generated dataset.
    """
    return make_synthetic_mars(
        args.out_dir,
        num_train_ids=args.num_train_ids,
        num_test_ids=args.num_test_ids,
        num_cams=args.num_cams,
        cams_per_id=tuple(args.cams_per_id),
        tracklets_per_cam=tuple(args.tracklets_per_cam),
        tracklet_len=tuple(args.tracklet_len),
        occlusion_prob=args.occlusion_prob,
        junk_ratio=args.junk_ratio,
        distractor_ratio=args.distractor_ratio,
        query_only_ratio=args.query_only_ratio,
        img_size=(args.height, args.width),
        jpeg_quality=args.jpeg_quality,
        seed=args.seed,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None)


if __name__ == '__main__':
    main()
