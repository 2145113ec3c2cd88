"""CCA attention maps (Fig. 7) and Grad-CAM of both backbones (Fig. 8) of
one tracklet.

Writes ``cca_attention.png`` (rows: frames, CNN self / cross, ViT self /
cross attention; models with a CCA neck only), ``grad_cam.png`` (rows:
frames, CNN and ViT Grad-CAM) and ``maps.npz`` (the raw maps) into
``--out-dir``.

Example::

    python tools/visualization/vis_attention.py configs/dcct/dcct_demo.py \\
        work_dirs/dcct_demo/epoch_30.pth path/to/tracklet_folder \\
        --out-dir work_dirs/dcct_demo/attention
"""
import argparse
import os
import os.path as osp
import sys

import mmcv
import numpy as np

from mmdcct.apis import VideoReIDInferencer
from mmdcct.utils import (ignore_mmcv_lite_warning,
                          install_safe_checkpoint_loading)
from mmdcct.visualization import (VideoReIDVisualizer,
                                  tracklet_attention_maps)


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line (``argv``: None reads ``sys.argv``)."""
    parser = argparse.ArgumentParser(
        description='CCA attention and Grad-CAM maps of a tracklet')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('tracklet', help='tracklet folder (its frames)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--target',
        choices=['norm', 'logit'],
        default='norm',
        help='Grad-CAM score: the branch feature norm or identity logit')
    parser.add_argument(
        '--class-index',
        type=int,
        default=None,
        help="identity of --target logit (default: the top one)")
    parser.add_argument('--alpha', type=float, default=0.5)
    parser.add_argument('--max-frames', type=int, default=8)
    parser.add_argument(
        '--tile-size',
        type=int,
        nargs=2,
        default=(128, 64),
        metavar=('H', 'W'))
    parser.add_argument('--device', default=None)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the tool; returns the exit status."""
    install_safe_checkpoint_loading()  # checkpoints load weights-only
    ignore_mmcv_lite_warning()
    args = parse_args(argv)
    inferencer = VideoReIDInferencer(
        args.config, args.checkpoint, device=args.device)
    visualizer = VideoReIDVisualizer.get_instance(
        'vis_attention', tile_size=tuple(args.tile_size))
    # the frames and maps of what the model sees: the config's test pipeline
    out = tracklet_attention_maps(
        inferencer.model,
        inferencer.prepare(args.tracklet),
        target=args.target,
        class_index=args.class_index)
    out.update(
        visualizer.draw_attention_figures(
            out['frames'],
            out['cca'],
            out['grad_cam'],
            alpha=args.alpha,
            max_frames=args.max_frames))
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    if out['cca_figure'] is not None:
        path = osp.join(args.out_dir, 'cca_attention.png')
        mmcv.imwrite(out['cca_figure'][..., ::-1], path)
        written.append(path)
    else:
        print('the model has no CCA neck: no attention maps')
    path = osp.join(args.out_dir, 'grad_cam.png')
    mmcv.imwrite(out['grad_cam_figure'][..., ::-1], path)
    written.append(path)
    arrays = {f'cca_{k}': v for k, v in (out['cca'] or {}).items()}
    arrays.update({f'grad_cam_{k}': v for k, v in out['grad_cam'].items()})
    arrays['frames'] = out['frames']
    path = osp.join(args.out_dir, 'maps.npz')
    np.savez(path, **arrays)
    written.append(path)
    for path in written:
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
