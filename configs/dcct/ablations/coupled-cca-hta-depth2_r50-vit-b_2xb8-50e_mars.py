# Fig. 5, HTA depth 2 (the default, best in Fig. 5): "+ HTA" of Tab. V.
_base_ = ['./coupled-cca-hta_r50-vit-b_2xb8-50e_mars.py']
