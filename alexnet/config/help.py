"""`python train.py --help`: the config groups a user composes, each with its options, as
Hydra's own list would show them less the `schema` group (the typed schemas each group's files
start from, not options to choose). The help template (conf/hydra/default.yaml) reads them
through the `alexnet_groups` resolver."""

from __future__ import annotations

from hydra.core.global_hydra import GlobalHydra
from hydra.core.object_type import ObjectType
from omegaconf import OmegaConf

HIDDEN = ("hydra", "schema")  # Hydra's own groups, and the schemas


def user_groups(parent: str = "") -> list[str]:
    """Every config group under `parent` (nested ones as a/b) that holds configs."""
    loader = GlobalHydra.instance().config_loader()
    found = []
    for group in loader.list_groups(parent):
        name = f"{parent}/{group}" if parent else group
        if name.split("/")[0] in HIDDEN:
            continue
        if loader.get_group_options(name, ObjectType.CONFIG):
            found.append(name)
        if loader.get_group_options(name, ObjectType.GROUP):
            found += user_groups(name)
    return found


def groups_text() -> str:
    """One line per group: `group: option, option, ...` (sorted, as Hydra's help lists them)."""
    if not GlobalHydra.instance().is_initialized():
        return ""
    loader = GlobalHydra.instance().config_loader()
    return "\n".join(
        f"{group}: {', '.join(sorted(loader.get_group_options(group)))}"
        for group in sorted(user_groups())
    )


OmegaConf.register_new_resolver("alexnet_groups", groups_text, replace=True)
