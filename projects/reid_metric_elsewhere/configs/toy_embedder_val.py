# Another codebase's config (scope mmpretrain) evaluating with mmdcct's
# video Re-ID metric: nothing of mmdcct is imported by hand, MMEngine finds
# `mmdcct.VideoReIDMetric` from the scope prefix.
#   python projects/reid_metric_elsewhere/run_val.py   (from the repo root)
default_scope = 'mmpretrain'
custom_imports = dict(
    imports=['projects.reid_metric_elsewhere.toy_reid'],
    allow_failed_imports=False)

model = dict(type='ToyTrackletEmbedder', in_dims=16, out_dims=16)

val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ToyTrackletDataset',
        num_ids=20,
        num_cams=3,
        num_distractors=10,
        num_frames=4,
        dim=16,
        noise=1.5,
        seed=0))
val_cfg = dict()
val_evaluator = dict(
    type='mmdcct.VideoReIDMetric', distance='cosine', topk=(1, 5, 10, 20))

work_dir = 'work_dirs/toy_embedder_val'
log_level = 'WARNING'
