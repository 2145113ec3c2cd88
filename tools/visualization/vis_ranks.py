"""Draw the rank lists of test queries (query frames, top-k gallery
tracklets framed green / red for true / false matches, distances above).

Cameras are labelled 1-based, as in the dataset file names (``C1`` ...), in
the images, the file names (``rank_q0000_pid0012_C2.png``) and the printed
lines, although the datasets count them from 0.

Example::

    python tools/visualization/vis_ranks.py configs/dcct/dcct_demo.py \\
        work_dirs/dcct_demo/epoch_30.pth --queries 5 --topk 8 \\
        --out-dir work_dirs/dcct_demo/ranks
"""
import argparse
import copy
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

from mmdcct.apis import VideoReIDInferencer
from mmdcct.registry import DATASETS
from mmdcct.utils import (ignore_mmcv_lite_warning,
                          install_safe_checkpoint_loading,
                          register_all_modules)
from mmdcct.visualization import (VideoReIDVisualizer, camera_label,
                                  draw_rank_lists, rank_gallery)


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (``argv``: None reads ``sys.argv``)."""
    parser = argparse.ArgumentParser(
        description='Rank-list images of the test queries')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--queries', type=int, default=10, help='number of queries drawn')
    parser.add_argument(
        '--query-start', type=int, default=0, help='first query drawn')
    parser.add_argument(
        '--topk', type=int, default=10, help='gallery tracklets per query')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--query-frames', type=int, default=4, help='query frames shown')
    parser.add_argument(
        '--gallery-frames',
        type=int,
        default=1,
        help='frames per gallery tracklet (1: a representative frame)')
    parser.add_argument(
        '--keep-same-camera',
        action='store_true',
        help='keep gallery entries of the query id in the query camera '
        '(the protocol drops them)')
    parser.add_argument(
        '--feature', choices=['base', 'spatial', 'final', 'all'])
    parser.add_argument('--device', default=None)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--tile-size',
        type=int,
        nargs=2,
        default=(128, 64),
        metavar=('H', 'W'),
        help='size every frame is drawn at')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the tool; returns the exit status."""
    install_safe_checkpoint_loading()  # checkpoints load weights-only
    ignore_mmcv_lite_warning()
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    register_all_modules(init_default_scope=False)
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    dataset_cfg['pipeline'] = []
    with DefaultScope.overwrite_default_scope('mmdcct'):
        dataset = DATASETS.build(dataset_cfg)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    queries = [i for i, info in enumerate(infos) if info.get('is_query')]
    gallery = [i for i, info in enumerate(infos) if info.get('is_gallery')]
    if not queries or not gallery:
        raise SystemExit(f'{len(queries)} queries / {len(gallery)} gallery '
                         'tracklets in the test split: nothing to rank')
    chosen = queries[args.query_start:args.query_start + args.queries]

    inferencer = VideoReIDInferencer(
        cfg, args.checkpoint, device=args.device, feature=args.feature)
    needed = sorted(set(chosen) | set(gallery))
    print(f'embedding {len(needed)} tracklets ({inferencer.feature})')
    feats = inferencer.extract([infos[i]['img_paths'] for i in needed],
                               batch_size=args.batch_size)
    row = {idx: r for r, idx in enumerate(needed)}
    ranks = rank_gallery(
        feats[[row[i] for i in chosen]],
        feats[[row[i] for i in gallery]], [infos[i]['pid'] for i in chosen],
        [infos[i]['pid']
         for i in gallery], [infos[i]['camid'] for i in chosen],
        [infos[i]['camid'] for i in gallery],
        topk=args.topk,
        ignore_same_camera=not args.keep_same_camera,
        q_keys=chosen,
        g_keys=gallery)
    visualizer = VideoReIDVisualizer.get_instance(
        'vis_ranks', tile_size=tuple(args.tile_size))
    written = draw_rank_lists(
        visualizer, [infos[i] for i in chosen], [infos[i] for i in gallery],
        ranks,
        out_dir=args.out_dir,
        num_query_frames=args.query_frames,
        gallery_frames=args.gallery_frames,
        query_positions=[queries.index(i) for i in chosen])
    for path, rank, q in zip(written, ranks, chosen):
        hits = ''.join('+' if m else '-' for m in rank['matches'])
        print(f'{path}  id {infos[q]["pid"]} '
              f'{camera_label(infos[q]["camid"])}  [{hits}]')
    return 0


if __name__ == '__main__':
    sys.exit(main())
