# Cross-dataset evaluation: DCCT trained on MARS with the paper's recipe
# (dcct_r50-vit-b_2xb8-50e_mars.py), validated and tested in one run on the
# MARS, DukeMTMC-VideoReID and iLIDS-VID test sets (split 0). Each test set
# keeps its own protocol (MARS appends the queries to the gallery, Duke and
# iLIDS-VID do not) and is evaluated alone; the metric keys are prefixed per
# dataset: mars/mAP, mars/R1, ..., duke/mAP, ..., ilids/mAP, ...
#   bash tools/dist_train.sh \
#       configs/dcct/dcct_r50-vit-b_2xb8-50e_mars-to-duke-ilids.py 2
#   python tools/test.py \
#       configs/dcct/dcct_r50-vit-b_2xb8-50e_mars-to-duke-ilids.py CKPT
_base_ = ['./dcct_r50-vit-b_2xb8-50e_mars.py']

test_pipeline = {{_base_.test_pipeline}}
test_sets = [
    dict(type='MARS', data_root='data/mars', split='test',
         gallery_includes_query=True, pipeline=test_pipeline),
    dict(type='DukeMTMCVideoReID', data_root='data/dukemtmc-vidreid',
         split='test', pipeline=test_pipeline),
    dict(type='iLIDSVID', data_root='data/ilids-vid', split='test',
         split_id=0, pipeline=test_pipeline),
]
dataset_prefixes = ['mars', 'duke', 'ilids']

# All tracklets are embedded in one pass over the concatenation; the
# evaluator splits the features per dataset (ConcatVideoReIDDataset records
# where each one ends).
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

# the best checkpoint by the in-domain mAP
default_hooks = dict(checkpoint=dict(save_best='mars/mAP'))
