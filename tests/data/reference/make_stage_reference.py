"""Write ``stage_reference.pth``: test features and losses of tiny models.

Run from the repository root with the code whose results are the reference:
``python tests/data/reference/make_stage_reference.py``. It uses the head
argument names of that code (``frame_channels``, ``video_channels``, the
untyped ``loss_ld`` / ``loss_fd`` dicts, ``VideoReIDHead``), which later
code keeps as deprecated aliases, so the script runs on both.
"""
import os.path as osp
import warnings

import torch

from mmdcct.registry import MODELS
from mmdcct.structures import VideoReIDDataSample
from mmdcct.utils import register_all_modules

CNN = dict(type='mmpretrain.ResNet', depth=18, base_channels=4,
           stem_channels=4, strides=(1, 2, 2, 1), out_indices=(3, ))
VIT = dict(type='mmpretrain.VisionTransformer',
           arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                     feedforward_channels=32),
           img_size=(32, 16), patch_size=8, out_type='raw',
           drop_path_rate=0.0)
C1, C2, D, K, B, T = 32, 16, 24, 5, 4, 3
BACKBONE = dict(type='CoupledBackbone', cnn=CNN, transformer=VIT)
SPATIAL = dict(type='ComplementaryContentAttention', in_channels=(C1, C2))
TEMPORAL = dict(type='HierarchicalTemporalAggregation', in_channels=(C1, C2),
                embed_dims=D // 2, depth=1, num_heads=2, num_frames=T)
SD_HEAD = dict(type='SelfDistillationHead', num_classes=K,
               frame_channels=(C1, C2), spatial_channels=(C1, C2),
               video_channels=D,
               loss_ld=dict(weight=0.1, tau=0.3),
               loss_fd=dict(weight=0.1, mode='l2'),
               freeze_bias=dict(frame=(False, True), spatial=False,
                                video=False))
#: name -> (model config, test modes, modes also tested per branch)
MODELS_CFG = dict(
    dcct=(dict(type='VideoReID', backbone=BACKBONE, spatial_neck=SPATIAL,
               temporal_neck=TEMPORAL, head=SD_HEAD),
          ('base', 'spatial', 'final', 'all', 'base+final', 'base+spatial',
           'spatial+final'), ('base', 'spatial', 'base+spatial')),
    cca=(dict(type='VideoReID', backbone=BACKBONE, spatial_neck=SPATIAL,
              head=dict(SD_HEAD, video_channels=None, loss_ld=None,
                        loss_fd=None)),
         ('base', 'spatial', 'all'), ('base', 'spatial')),
    coupled=(dict(type='VideoReID', backbone=BACKBONE,
                  head=dict(type='VideoReIDHead', num_classes=K,
                            in_channels=(C1, C2), freeze_bias=(False, True))),
             ('base', 'all'), ('base', )),
)


def inputs():
    """Test clips (2 per tracklet), training tracklets and labels."""
    torch.manual_seed(1)
    return dict(test=torch.randn(B, 2 * T, 3, 32, 16),
                train=torch.randn(B, T, 3, 32, 16),
                labels=torch.arange(B) // 2)


def main():
    register_all_modules()
    data = inputs()
    test_samples = [
        VideoReIDDataSample(metainfo=dict(num_clips=2)) for _ in range(B)
    ]
    samples = [VideoReIDDataSample().set_gt_label(int(i))
               for i in data['labels']]
    out = dict(inputs=data, states={}, features={}, losses={})
    for name, (cfg, modes, branch_modes) in MODELS_CFG.items():
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            model = MODELS.build(cfg)
        # the backbones are equal (built first from the same seed): the
        # backbone weights are stored once, with the first model
        out['states'][name] = {  # copies: training updates BN statistics
            k: v.clone()
            for k, v in model.state_dict().items()
            if name == 'dcct' or not k.startswith('backbone.')
        }
        model.eval()
        for mode in modes:
            for branch in (None, 'cnn', 'transformer'):
                if branch is not None and mode not in branch_modes:
                    continue
                model.test_cfg.update(feature=mode, branch=branch)
                with torch.no_grad():
                    out['features'][f'{name}|{mode}|{branch}'] = model(
                        data['test'], test_samples, mode='tensor')
        model.train()
        supervisions = ('frame', 'video') if name == 'coupled' else (None, )
        for supervision in supervisions:
            if supervision is not None:
                model.head.supervision = supervision
            key = name if supervision is None else f'{name}_{supervision}'
            with torch.no_grad():
                out['losses'][key] = model(data['train'], samples,
                                           mode='loss')
    torch.save(out, osp.join(osp.dirname(__file__), 'stage_reference.pth'))


if __name__ == '__main__':
    main()
