"""Models and objectives by import path: resolution, building, and one-line errors naming the key."""

from __future__ import annotations

import textwrap

import pytest
import torch
from torch import nn

from structlearn.config import ConfigError, validate
from structlearn.models import Tapped
from structlearn.utils.factory import (
    build_model,
    build_objective,
    factory_fragment,
    resolve_factory,
)

USER_MODULE = textwrap.dedent(
    """
    import torch
    from torch import nn
    from structlearn.objectives.base import Loss, Objective

    def make_net(width=4):
        return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 2))

    def not_a_module():
        return [1, 2]

    class MeanSquare(Objective):
        def forward(self, features, targets=None):
            total = features[-1].pow(2).mean()
            return Loss(total, {"mean_square": float(total)})

    NUMBER = 3
    """
)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_lab_models.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_lab_models"


def test_build_model_calls_the_factory_with_kwargs_and_taps_the_layers(user_module):
    model = build_model({"factory": f"{user_module}:make_net", "kwargs": {"width": 5}})
    assert isinstance(model, nn.Sequential) and model[0].out_features == 5
    tapped = build_model(
        {"factory": f"{user_module}:make_net", "kwargs": {"width": 5}, "layers": ["1", "2"]}
    )
    assert isinstance(tapped, Tapped)
    relu, out = tapped(torch.ones(2, 3))
    assert relu.shape == (2, 5) and out.shape == (2, 2)


def test_build_objective_returns_a_module_the_trainer_can_call(user_module):
    obj = build_objective({"factory": f"{user_module}:MeanSquare", "kwargs": {}})
    loss = obj([torch.full((2, 2), 3.0)], None)
    assert float(loss.total) == 9.0 and loss.parts == {"mean_square": 9.0}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"factory": "no_such_pkg_xyz.mod:f"},
            "model.factory: cannot import module "
            "'no_such_pkg_xyz.mod' (ModuleNotFoundError: No module named 'no_such_pkg_xyz')",
        ),
        ({"factory": "{m}:missing"}, "model.factory: module '{m}' has no attribute 'missing'"),
        ({"factory": "{m}:NUMBER"}, "model.factory: '{m}:NUMBER' is a int, not a callable"),
        (
            {"factory": "{m}:not_a_module"},
            "model.factory: '{m}:not_a_module' returned list, expected a torch.nn.Module",
        ),
        (
            {"factory": "{m}:make_net", "kwargs": {"depth": 3}},
            "model.kwargs: {m}:make_net(**{{'depth': 3}}) failed: TypeError: make_net() got an "
            "unexpected keyword argument 'depth'",
        ),
        (
            {"factory": "{m}:make_net", "layers": ["9"]},
            "model.layers: unknown layer '9'; available",
        ),
    ],
)
def test_every_failure_is_one_line_naming_the_key(user_module, section, message):
    section = {k: v.format(m=user_module) if isinstance(v, str) else v for k, v in section.items()}
    with pytest.raises(ConfigError) as info:
        build_model(section)
    msg = str(info.value)
    assert msg.startswith(message.format(m=user_module)) and "\n" not in msg


def test_objective_of_the_wrong_type_names_the_objective_key(user_module):
    with pytest.raises(ConfigError, match=r"^objective.factory: .* returned list, expected a"):
        build_objective({"factory": f"{user_module}:not_a_module"})


def test_fragment_validates_the_path_shape_before_anything_is_imported():
    schema = {"objective": factory_fragment("objective", "torch.nn:MSELoss")}
    assert validate(schema, {})["objective"] == {"factory": "torch.nn:MSELoss", "kwargs": {}}
    with pytest.raises(ConfigError, match=r"^objective.kwargs: expected dict, got 3$"):
        validate(schema, {"objective": {"kwargs": 3}})
    with pytest.raises(ConfigError, match=r"^model.factory: expected 'package.module:callable'"):
        resolve_factory("just_a_name", "model.factory")


def test_modules_in_the_working_directory_are_found_but_cannot_shadow_packages(
    tmp_path, monkeypatch
):
    (tmp_path / "cwd_models_abc.py").write_text("def f():\n    return 7\n")
    (tmp_path / "json.py").write_text("raise RuntimeError('shadowed')\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_factory("cwd_models_abc:f")() == 7
    assert resolve_factory("json:dumps")([1]) == "[1]"
