"""Train one Task 3 recipe (CAE, VAE or GAN) on a dataset's training split."""
from __future__ import annotations

import sys

from idl.generative.data import load_images, read_split


def _factory(recipe: dict, image_shape):
    from idl.models.generative import build_generative

    return lambda: build_generative(recipe["kind"], tuple(image_shape), latent_dim=recipe["latent_dim"],
                                    filters=recipe.get("filters", 128))


def train_generative(prepared_dir, split_dir, out_dir, state_dir, recipe: dict, seed: int) -> dict:
    """Train one recipe on a dataset's training split; write model.keras and history.csv."""
    from functools import partial

    images = load_images(prepared_dir)  # before Keras starts: a bad file fails in a second
    tr, te = read_split(split_dir, len(images))

    from idl.models.generative import compile_generative
    from idl.training import TrainSettings, configure_threads, threads_from_env, train

    configure_threads(threads_from_env())
    x_train, x_test = images[tr], images[te]
    kind = recipe["kind"]
    # the CAE learns x -> x; the VAE and GAN take the images alone (their losses are their own)
    y_train, y_val = (x_train, x_test) if kind == "cae" else (None, None)
    settings = TrainSettings(epochs=recipe["epochs"], batch_size=recipe["batch_size"],
                             learning_rate=recipe.get("learning_rate"), lr_halving_epochs=None,
                             patience=None, seed=seed, progress=sys.stderr.isatty())
    history = train(
        _factory(recipe, images.shape[1:]), x_train, y_train,
        None if kind == "gan" else x_test, y_val,  # a GAN has no held-out loss worth watching
        settings, out_dir=out_dir, state_dir=state_dir,
        compile_model=partial(compile_generative, learning_rate=recipe.get("learning_rate")),
    )
    return {"epochs": int(len(history)), "n_train": int(len(x_train))}
