# LS-VID (Li et al., ICCV 2019). `data_root` is the LS-VID folder as the
# release unpacks it: list_sequence/ (or info/list_sequence/, or info/) with
# list_seq_{train,test}.txt, test/data/info_test.mat and the frame folders.
# Reading info_test.mat (MATLAB v7.3) needs h5py: pip install -e ".[lsvid]".
# The recipe is MARS's (RRS with T = 8, 256x128 bicubic, pad 10 + crop,
# flip, random erasing with one draw per tracklet, 8 ids x 2 tracklets,
# cosine distance), so the pipelines and loaders are inherited; only the
# dataset and its protocol differ.
_base_ = ['./mars.py']

dataset_type = 'LSVID'
data_root = 'data/LS-VID'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))

# The LS-VID protocol (the dataset class's default): the gallery is the
# test list minus the queries, the query tracklets are not appended to it.
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
