"""A model's own sampling defaults ("recipes" in its unisono.json): checked, stored by
`unisono export --recipe`, used by the task methods and shown by `unisono tasks --model`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unisono.cli import main
from unisono.cli.tasks import task_table
from unisono.errors import UnisonoError
from unisono.model_folder import MODEL_INDEX, export_model_folder, read_recipes
from unisono.pipeline import Unisono
from unisono.tasks import get_task
from unisono.tasks.base import InferenceRecipe


def test_replace_converts_and_keeps_the_other_fields() -> None:
    base = InferenceRecipe(steps=25, cfg=4.0, solver="euler", sway=-1.0, cfg_interval=(0.0, 1.0))
    recipe = base.replace({"steps": "50", "cfg": "7", "cfg_interval": ["0.1", "0.9"]}, where="x")
    assert recipe == InferenceRecipe(steps=50, cfg=7.0, solver="euler", sway=-1.0,
                                     cfg_interval=(0.1, 0.9))
    assert base.cfg == 4.0  # frozen: a new recipe, the task's untouched


@pytest.mark.parametrize(("overrides", "match"), [
    ({"guidance": 7}, "unknown recipe field.*guidance.*cfg"),
    ({"steps": 0}, "at least 1"),
    ({"steps": 2.5}, "whole number"),
    ({"cfg": -1}, "cfg must be >= 0"),
    ({"cfg": "strong"}, "bad recipe value"),
    ({"solver": "adams"}, "solver must be one of.*euler"),
    ({"cfg_interval": [0.9, 0.1]}, "low < high"),
    ({"cfg_interval": [0.1]}, "bad recipe value"),
])
def test_bad_overrides_name_the_field_and_the_source(overrides, match) -> None:
    with pytest.raises(UnisonoError, match=match) as error:
        InferenceRecipe().replace(overrides, where="model/unisono.json")
    assert str(error.value).startswith("model/unisono.json")


def test_read_recipes_checks_the_tasks() -> None:
    index = {"tasks": ["t2a"], "recipes": {"t2a": {"cfg": 7}}}
    recipes = read_recipes(index, "i.json")
    assert recipes == {"t2a": InferenceRecipe(**{**vars(get_task("t2a").recipe), "cfg": 7.0})}
    assert read_recipes({"tasks": ["t2a"]}, "i.json") == {}
    with pytest.raises(UnisonoError, match="recipe for 'se', which the model was not trained for"):
        read_recipes({"tasks": ["t2a"], "recipes": {"se": {"steps": 3}}}, "i.json")
    with pytest.raises(UnisonoError, match="Unknown task"):
        read_recipes({"tasks": ["t2a"], "recipes": {"t2x": {"steps": 3}}}, "i.json")
    with pytest.raises(UnisonoError, match="must map task names"):
        read_recipes({"tasks": ["t2a"], "recipes": {"t2a": 7}}, "i.json")


@pytest.fixture(scope="module")
def model_dir(make_model_folder):
    return make_model_folder(["t2a"])


def test_an_exported_recipe_is_the_default_of_the_task_methods(model_dir, tmp_path) -> None:
    plain = Unisono.from_pretrained(model_dir)
    out = export_model_folder(model_dir, tmp_path / "tuned", recipes=["t2a.steps=3", "t2a.cfg=1.5"])
    assert json.loads((out / MODEL_INDEX).read_text())["recipes"] == {"t2a": {"steps": 3, "cfg": 1.5}}
    plain_export = export_model_folder(model_dir, tmp_path / "plain")
    assert "recipes" not in json.loads((plain_export / MODEL_INDEX).read_text())
    tuned = Unisono.from_pretrained(out)
    assert tuned.recipe("t2a").steps == 3 and tuned.recipe("t2a").cfg == 1.5
    assert plain.recipe("t2a") == get_task("t2a").recipe
    # The exported weights are float16, so compare the tuned model with itself.
    default = tuned.generate("a dog barks", duration=1.0, seed=2).audio
    explicit = tuned.generate("a dog barks", duration=1.0, seed=2, steps=3, cfg=1.5).audio
    task_recipe = tuned.generate("a dog barks", duration=1.0, seed=2, steps=25, cfg=4.0).audio
    np.testing.assert_array_equal(default, explicit)
    assert not np.allclose(default, task_recipe)
    # A re-export keeps the stored recipe and merges new fields into it.
    again = export_model_folder(out, tmp_path / "again", recipes=["t2a.cfg_interval=0.2,0.8"])
    assert Unisono.from_pretrained(again).recipe("t2a").cfg_interval == (0.2, 0.8)
    assert Unisono.from_pretrained(again).recipe("t2a").steps == 3


def test_bad_recipe_settings_write_nothing(model_dir, tmp_path, capsys) -> None:
    with pytest.raises(UnisonoError, match="TASK.FIELD=VALUE"):
        export_model_folder(model_dir, tmp_path / "a", recipes=["cfg=7"])
    assert main(["export", str(model_dir), str(tmp_path / "b"), "--recipe", "se.steps=3"]) == 2
    assert "not trained for" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_cli_export_and_tasks_table_show_the_models_recipe(model_dir, tmp_path) -> None:
    out = tmp_path / "cli"
    assert main(["export", str(model_dir), str(out), "--recipe", "t2a.cfg=7", "t2a.steps=40"]) == 0
    rows = {row.split("|")[1].strip(): [c.strip() for c in row.split("|")[1:-1]]
            for row in task_table(str(out)).splitlines()[2:]}
    assert rows["t2a"][2:4] == ["40", "7"]
    recipe = get_task("t2m").recipe
    assert rows["t2m"][2:4] == [str(recipe.steps), f"{recipe.cfg:g}"]


def test_a_hand_edited_bad_recipe_fails_at_load(model_dir, tmp_path) -> None:
    import shutil

    folder = tmp_path / "edited"
    shutil.copytree(model_dir, folder)
    index = json.loads((folder / MODEL_INDEX).read_text())
    (folder / MODEL_INDEX).write_text(json.dumps({**index, "recipes": {"t2a": {"cfg": -2}}}))
    with pytest.raises(UnisonoError, match=r"unisono.json, t2a: bad recipe value \(cfg must"):
        Unisono.from_pretrained(folder)
