# iLIDS-VID (Wang et al., ECCV 2014). `data_root` holds i-LIDS-VID/sequences/
# cam{1,2}/personNNN/*.png and "train-test people splits/
# train_test_splits_ilidsvid.mat" (generated reproducibly, with a warning,
# when missing). 300 persons, 10 random splits of 150 train / 150 test;
# query = cam1, gallery = cam2; report the mean over the splits. The paper's
# recipe is MARS's (RRS with T = 8, 256x128 bicubic, pad 10 + crop, flip,
# random erasing with one draw per tracklet, 8 ids x 2 tracklets = the two
# cameras of each id, cosine distance), so pipelines and loaders are
# inherited; only the dataset and its split differ.
_base_ = ['./mars.py']

dataset_type = 'iLIDSVID'
data_root = 'data/ilids-vid'

# One of the 10 random splits (0..9); evaluate all of them with
#   tools/analysis_tools/eval_splits.py CONFIG 'work_dirs/x_split{split}/...'
# which sets `split_id` of the datasets below through config options.
split_id = 0

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split_id=split_id))

# query (cam1) + gallery (cam2) of the test persons in one pass (the query
# tracklets are not gallery entries: the dataset class's default protocol).
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split_id=split_id))
test_dataloader = val_dataloader
