"""
Filters from full connections on your own images
================================================

A fully connected layer trained with a higher-order objective (here FastICA, the InfoMax ICA
solution of Bell & Sejnowski 1997) on patch mosaics grows filters that stay inside one tile: local
receptive fields emerge from the data's statistics alone. Here the mosaics are cut from a folder of
images -- yours in practice; in this page, three bundled photographs written to a temporary folder.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.decomposition import FastICA

from structlearn.analysis.filters import analyze_filters
from structlearn.data.mosaic import make_mosaic
from structlearn.data.natural import NaturalImage, load_natural_images
from structlearn.data.sources import load_source

# %%
# "Your" folder of images: any format Pillow reads, grey or colour.
folder = Path(tempfile.mkdtemp()) / "my_photos"
folder.mkdir()
for photo in load_natural_images(["camera", "grass", "gravel"]):
    Image.fromarray((255 * photo.image).astype(np.uint8)).save(folder / f"{photo.name}.png")
data = load_source(f"images:{folder}")
print(data.description)

# %%
# Mosaics of 2x2 tiles of 6 px, ZCA-whitened, then 24 ICA filters over the 144 pixels.
images = [NaturalImage(n, str(folder), im) for n, im in zip(data.names, data.images)]
mosaic = make_mosaic(
    4000, grid=(2, 2), tile=6, images=images, remove_tile_mean=True, whiten=True, random_state=0
)
ica = FastICA(n_components=24, whiten="unit-variance", max_iter=400, random_state=0)
ica.fit(mosaic.X)
result = analyze_filters(ica.components_, mosaic.image_shape, mosaic.tile_map)
print(f"median best-tile energy fraction {result.median_locality_fraction:.2f} (chance 0.25)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
result.plot_gallery(ax=axes[0])
result.plot(ax=axes[1])
plt.show()
