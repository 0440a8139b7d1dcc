"""`python -m alexnet COMMAND [overrides...]`, the same commands as the console scripts
alexnet-train, alexnet-eval, alexnet-interpret, alexnet-predict, alexnet-export and
alexnet-describe."""

import sys
from collections.abc import Callable
from importlib import import_module

COMMANDS = {
    "train": "alexnet.cli.main:train_command",
    "eval": "alexnet.cli.main:eval_command",
    "interpret": "alexnet.cli.main:interpret_command",
    "predict": "alexnet.cli.main:predict_command",
    "export": "alexnet.cli.main:export_command",
    "describe": "alexnet.cli.describe:command",
}


def command(name: str) -> Callable[[], None]:
    """The function behind command `name`."""
    module, function = COMMANDS[name].split(":")
    return getattr(import_module(module), function)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        given = repr(sys.argv[1]) if len(sys.argv) > 1 else "nothing"
        sys.exit(
            f"error: python -m alexnet needs a command, one of {', '.join(COMMANDS)}; got {given}"
        )
    name = sys.argv.pop(1)
    command(name)()


if __name__ == "__main__":
    main()
