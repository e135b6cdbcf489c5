"""Rebuild the dataset bundles (``nsl-kdd``, ``cic-ids2017``, ``unsw-nb15``, ``ton-iot``)."""

from __future__ import annotations

from pathlib import Path

from ids_desktop.core.tasks import Cancel, Progress
from ids_desktop.errors import InputError
from ids_desktop.training.recipes import Recipe
from ids_desktop.training.trainer import TrainResult, train


def recipe_files(recipe: Recipe, data: Path) -> list[Path]:
    """The recipe's data files under the shared data folder ``data``.

    Raises
    ------
    InputError
        When ``data`` is not a folder (``no shared data at DATA``).
    """
    if not data.is_dir():
        raise InputError(f"no shared data at {data}")
    return [data / f for f in recipe.files]


def train_recipe(
    recipe: Recipe,
    data: Path,
    out: Path,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> TrainResult:
    """Train a dataset recipe's bundle from the shared data and write it to ``out``.

    Parameters
    ----------
    recipe
        A recipe of kind ``"dataset"``.
    data
        The shared data folder the recipe's files are relative to.
    out
        The bundle folder to write.
    seed
        ``None``: the recipe's own seed (the shipped bundle's).
    progress, cancel
        Hooks, see :mod:`ids_desktop.core.tasks`.

    Returns
    -------
    TrainResult
        The bundle's metadata and the Keras model.
    """
    if recipe.kind != "dataset":
        raise InputError(f"{recipe.name} is a {recipe.kind} recipe, not a dataset recipe")
    return train(recipe.feature_format, recipe_files(recipe, data), out,
                 seed=recipe.seed if seed is None else seed, progress=progress, cancel=cancel,
                 options=recipe.train_options())
