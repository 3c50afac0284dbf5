"""Training recipes: everything needed to (re)build a LeNet-5 run from a settings dict.

``cnnbp train`` starts from the recipe of the chosen variant, applies the user's
options, and stores the resulting settings in every checkpoint, so that
``--resume`` and the shipped-weights script rebuild exactly the same run.
"""

from __future__ import annotations

from .. import losses, models, optim
from .augment import Compose, ElasticDistortion, RandomShift
from .trainer import Trainer

# Defaults per variant; measured results are in the README.
RECIPES: dict[str, dict] = {
    "classic": {
        "variant": "classic", "output": "softmax", "optimizer": "sgd", "lr": 0.01,
        "momentum": 0.9, "weight_decay": 0.0, "batch_size": 32, "epochs": 20,
        "schedule": "cosine", "augment": "shift", "seed": 0,
    },
    "modern": {
        "variant": "modern", "output": "softmax", "optimizer": "adam", "lr": 1e-3,
        "momentum": 0.9, "weight_decay": 0.0, "batch_size": 64, "epochs": 20,
        "schedule": "cosine", "augment": "shift", "seed": 0,
    },
}

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "constant", "step", "lenet")
AUGMENTS = ("none", "shift", "elastic", "shift+elastic")


def settings_for(variant: str, **overrides) -> dict:
    """The recipe of ``variant`` with the non-None ``overrides`` applied, validated."""
    if variant not in RECIPES:
        raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(RECIPES)}")
    settings = dict(RECIPES[variant])
    settings.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(settings) - set(RECIPES[variant]) - {"dataset", "limit"}
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}")
    checks = [
        ("optimizer", settings["optimizer"] in OPTIMIZERS, f"one of {OPTIMIZERS}"),
        ("schedule", settings["schedule"] in SCHEDULES, f"one of {SCHEDULES}"),
        ("augment", settings["augment"] in AUGMENTS, f"one of {AUGMENTS}"),
        ("lr", settings["lr"] > 0, "a positive number"),
        ("batch_size", int(settings["batch_size"]) >= 1, "a positive integer"),
        ("epochs", int(settings["epochs"]) >= 1, "a positive integer"),
        ("limit", settings.get("limit") is None or int(settings["limit"]) >= 1, "a positive integer"),
    ]
    for name, ok, expected in checks:
        if not ok:
            raise ValueError(f"{name} must be {expected}, got {settings[name]!r}")
    return settings


def make_augment(name: str):
    parts = {"none": None, "shift": RandomShift(2), "elastic": ElasticDistortion(34.0, 4.0),
             "shift+elastic": Compose(RandomShift(2), ElasticDistortion(34.0, 4.0))}
    return parts[name]


def make_schedule(opt, settings: dict):
    name, epochs = settings["schedule"], int(settings["epochs"])
    if name == "cosine":
        return optim.CosineLR(opt, t_max=epochs)
    if name == "step":
        return optim.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "lenet":
        # LeCun 1998's per-epoch rates, scaled so the first equals --lr.
        return optim.EpochListLR(opt, [settings["lr"] * r / optim.LENET5_LRS[0] for r in optim.LENET5_LRS])
    return optim.ConstantLR(opt)


def make_trainer(settings: dict) -> Trainer:
    """Build the model, loss, optimiser, schedule and Trainer that ``settings`` describe."""
    model = models.lenet5(settings["variant"], rng=settings["seed"], output=settings["output"])
    params = list(model.parameters().values())
    if settings["optimizer"] == "sgd":
        opt = optim.SGD(params, lr=settings["lr"], momentum=settings["momentum"],
                        nesterov=settings["momentum"] > 0, weight_decay=settings["weight_decay"])
    else:
        opt = optim.Adam(params, lr=settings["lr"], weight_decay=settings["weight_decay"])
    return Trainer(
        model, losses.SoftmaxCrossEntropy(), opt, make_schedule(opt, settings),
        batch_size=int(settings["batch_size"]), rng=settings["seed"],
        augment=make_augment(settings["augment"]), preprocess=model.preprocess,
        config={**model.config, "training": settings},
    )


def model_from_config(config: dict):
    """The model a checkpoint's ``config`` describes (its "training" part ignored)."""
    config = {k: v for k, v in config.items() if k != "training"}
    return models.build(config, rng=0)
