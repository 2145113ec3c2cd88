# Cross-dataset evaluation at demo scale: dcct_demo.py (trained on the
# synthetic MARS-layout data in data/demo/MARS) evaluated in one run on the
# synthetic MARS, DukeMTMC-VideoReID and iLIDS-VID layouts, with metric keys
# prefixed per dataset (mars/mAP, duke/mAP, ilids/mAP, ...). Write the two
# extra test sets first:
#   python -c "from mmdcct.testing import make_synthetic_duke_video as d, \
#       make_synthetic_ilids_vid as i; d('data/demo/duke'); \
#       i('data/demo/ilids-vid')"
# Their identities are not MARS's (a different domain, as in the paper's
# setting), so the scores measure generalisation.
_base_ = ['./dcct_demo.py']

test_pipeline = {{_base_.test_pipeline}}
test_sets = [
    dict(type='MARS', data_root='data/demo/MARS', split='test',
         gallery_includes_query=True, pipeline=test_pipeline),
    dict(type='DukeMTMCVideoReID', data_root='data/demo/duke', split='test',
         pipeline=test_pipeline),
    dict(type='iLIDSVID', data_root='data/demo/ilids-vid', split='test',
         split_id=0, pipeline=test_pipeline),
]
dataset_prefixes = ['mars', 'duke', 'ilids']

val_dataloader = dict(
    dataset=dict(
        _delete_=True, type='ConcatVideoReIDDataset', datasets=test_sets))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='MultiDatasetEvaluator',
    metrics=dict(type='VideoReIDMetric', distance='cosine'),
    dataset_prefixes=dataset_prefixes)
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='mars/mAP'))
