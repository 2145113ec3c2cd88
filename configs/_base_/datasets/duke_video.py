# DukeMTMC-VideoReID (Wu et al., CVPR 2018). `data_root` holds
# DukeMTMC-VideoReID/{train,query,gallery}/<pid>/<tracklet>/*.jpg as the
# official release unpacks them. The paper's recipe is MARS's (RRS with
# T = 8, 256x128 bicubic, pad 10 + crop, flip, random erasing with one draw
# per tracklet, 8 ids x 2 tracklets, cosine distance), so the pipelines and
# loaders are inherited; only the dataset and its protocol differ.
_base_ = ['./mars.py']

dataset_type = 'DukeMTMCVideoReID'
data_root = 'data/dukemtmc-vidreid'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))

# The gallery holds the 702 query identities and 408 distractor identities.
# The Duke protocol (the dataset class's default): every query has a
# cross-camera match in the gallery, the query tracklets are not appended.
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
