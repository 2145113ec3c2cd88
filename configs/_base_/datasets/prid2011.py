# PRID-2011 multi-shot (Hirzer et al., SCIA 2011). `data_root` holds
# prid_2011/multi_shot/cam_{a,b}/person_NNNN/*.png and splits_prid2011.json
# (torchreid's file; generated reproducibly, with a warning, when missing:
# the persons of the first 200 with >= 21 frames in both cameras, i.e. 178,
# as 89 train / 89 test). Query = cam_a, gallery = cam_b; report the mean
# over the 10 splits. The recipe, pipelines and loaders are iLIDS-VID's (the
# paper trains both two-camera benchmarks the same way); only the dataset
# differs.
_base_ = ['./ilids_vid.py']

dataset_type = 'PRID2011'
data_root = 'data/prid2011'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
# query (cam_a) + gallery (cam_b) of the test persons in one pass.
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
