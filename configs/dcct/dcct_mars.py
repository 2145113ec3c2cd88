# Short alias of the main DCCT MARS config (used by the README):
#   bash tools/dist_train.sh configs/dcct/dcct_mars.py 2
_base_ = ['./dcct_r50-vit-b_2xb8-50e_mars.py']
